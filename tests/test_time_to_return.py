"""The time-to-return label on hand-made crawls with gaps, against hand computations."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from toolkit.data.coverage import CoverageRule
from toolkit.data.time_to_return import bin_edges, covered_dates, first_return, time_to_return
from toolkit.errors import ToolkitError

D0 = dt.date(2025, 1, 1)


def day(k: int) -> dt.date:
    return D0 + dt.timedelta(days=k)


def _crawl(missing: set[int], days: int = 40) -> set[dt.date]:
    return {day(k) for k in range(days)} - {day(k) for k in missing}


def _rows(label):
    return [np.flatnonzero(row).tolist() for row in label.at_risk]


def test_the_worked_example_of_the_docstring():
    # Users A..D share day 0; the crawl missed days 9 and 10; follow-up days 7..14, daily bins 0..7.
    label = time_to_return([D0] * 4, [0, 1, 3, 0], [11, 8, 13, 2], after_days=7, follow_days=14,
                           data_end=day(14), covered=_crawl({9, 10}))
    assert _rows(label) == [[0, 1], [0], [0, 1, 4, 5, 6, 7], [0, 1, 4, 5]]
    assert label.event_first.tolist() == [2, 1, -1, 6]
    assert label.event_last.tolist() == [4, 1, -1, 6]
    assert label.censor_bin.tolist() == [-1, -1, 7, -1]
    assert label.interval.tolist() == [True, False, False, False]
    assert label.time.tolist() == [4, 1, 7, 6]
    assert label.event.tolist() == [True, True, False, True]


def test_a_user_whose_whole_window_is_in_the_gap_is_kept_not_dropped():
    # Follow-up days 7..14 on calendar days 7..14; the crawl missed 7..12 and the user posted on 13.
    label = time_to_return([D0, D0], [0], [13], after_days=7, follow_days=14, data_end=day(20),
                           covered=_crawl(set(range(7, 13))))
    # Returned user: somewhere in days 7..13 (bins 0..6). The silent one was seen through days 13 and 14.
    assert label.event_first.tolist() == [0, -1] and label.event_last.tolist() == [6, -1]
    assert _rows(label) == [[], [6, 7]]
    assert label.in_analysis.tolist() == [True, True]


def test_data_end_censors_and_a_later_post_is_not_a_return():
    # data_end is day 10 of follow-up 7..14: the post on day 12 is past the data's end.
    label = time_to_return([D0], [0], [12], after_days=7, follow_days=14, data_end=day(10), covered=None)
    assert not label.event[0]
    assert _rows(label) == [[0, 1, 2, 3]] and label.censor_bin.tolist() == [3]


def test_posts_before_after_days_are_not_returns_and_days_are_per_user():
    # Second user's day 0 is two days later: the gap on calendar days 9..10 is their days 7..8.
    label = time_to_return([D0, day(2)], [0, 0, 1], [3, 8, 9], after_days=7, follow_days=10,
                           data_end=day(30), covered=_crawl({9, 10}))
    assert label.event_last.tolist() == [1, 2]  # user 0: day 8 (bin 1); user 1: day 9 (bin 2)
    assert label.event_first.tolist() == [1, 0]  # user 1's days 7 and 8 were not covered
    assert _rows(label) == [[0], []]


def test_wider_bins_mask_a_bin_with_any_uncovered_day():
    # Bins of days 7..9, 10..12, 13..14; the crawl missed day 11.
    edges = [7, 10, 13, 15]
    label = time_to_return([D0, D0, D0], [1, 2], [9, 14], after_days=7, follow_days=14, data_end=day(30),
                           covered=_crawl({11}), edges=edges)
    assert _rows(label) == [[0, 2], [], [0]]
    # User 2's return on day 14 follows a covered day 13, so it is exact (bin 2); bin 1 is masked for
    # the day-11 gap, and bin 2 holds the return, so only bin 0 was seen through.
    assert label.event_first.tolist() == [-1, 0, 2]
    assert label.event_last.tolist() == [-1, 0, 2]
    assert label.censor_bin.tolist() == [2, -1, -1]


def test_no_follow_up_inside_the_data_leaves_the_user_out():
    label = time_to_return([D0], [0], [3], after_days=7, follow_days=14, data_end=day(5), covered=None)
    assert not label.in_analysis[0] and label.censor_bin[0] == -1


def test_covered_dates_uses_the_coverage_rule():
    from toolkit.data.coverage import crawl_coverage

    volume = pd.Series([10, 10, 1, 0, 10, 10], index=[day(k) for k in range(6)])
    coverage = crawl_coverage(volume, CoverageRule(min_daily_share=0.2, min_covered_days=0.8))
    assert covered_dates(coverage, day(4)) == {day(0), day(1), day(4)}
    assert covered_dates(None, day(4)) is None


def test_first_return_and_bad_input():
    assert first_return([0, 0, 1, 1], [8, 7, 3, 9], 3, 7)[:2].tolist() == [7, 9]
    assert first_return([0], [8], 3, 7)[2] > 10**9
    with pytest.raises(ToolkitError, match="post_user"):
        first_return([5], [8], 3, 7)
    with pytest.raises(ToolkitError, match="increasing whole days"):
        bin_edges(7, 14, [7, 10, 14])
    with pytest.raises(ToolkitError, match="after_days <= follow_days"):
        bin_edges(9, 8)
    assert bin_edges(7, 9).tolist() == [7, 8, 9, 10]


def test_from_posts_on_a_hand_made_crawl_with_a_gap():
    from toolkit.data.coverage import crawl_coverage, reference_posts
    from toolkit.data.time_to_return import from_posts

    # Ten "background" posts a day on days 0..20 except the gap, days 9 and 10 (no post at all).
    stamps = [pd.Timestamp(day(k)) + pd.Timedelta(hours=h) for k in range(21) if k not in (9, 10) for h in range(10)]
    rows = [("bg", t) for t in stamps]
    # u1: day 0 = Jan 1, returns on day 11 (right after the gap); u2: day 0 = Jan 3, posts on day 8 (Jan 11).
    rows += [("u1", pd.Timestamp(day(0)) + pd.Timedelta(hours=9)), ("u1", pd.Timestamp(day(11)) + pd.Timedelta(hours=23)),
             ("u2", pd.Timestamp(day(2))), ("u2", pd.Timestamp(day(10)) + pd.Timedelta(hours=1))]
    posts = pd.DataFrame(rows, columns=["user_id", "create_time"])
    day0 = pd.Series([pd.Timestamp(day(0)), pd.Timestamp(day(2))], index=["u1", "u2"])
    # The background account is outside the cohort (u1, u2): its posts are reference posts; u1's and u2's are not
    # after their first day.
    reference = reference_posts(posts["create_time"], posts["user_id"], day0, 1)
    label = from_posts(posts, day0, crawl_coverage(reference, CoverageRule()), after_days=7,
                       follow_days=14, data_end=day(20))
    # u1: days 7, 8 covered; 9, 10 not; the return on 11 may lie in days 9..11 (bins 2..4).
    assert (label.event_first.tolist(), label.event_last.tolist()) == ([2, 0], [4, 1])
    # u2: its days 7 and 8 are Jan 10 and 11, both in the gap (u2's lone post does not make a day covered);
    # the post on Jan 11 is still seen, so the return lies in bins 0..1 and no bin was seen through.
    assert _rows(label) == [[0, 1], []]


def test_rows_and_horizon_bins():
    label = time_to_return([D0] * 3, [0, 1], [8, 12], after_days=7, follow_days=20, data_end=day(30),
                           covered=None, edges=[7, 10, 14, 21])
    assert label.horizon_bin(3) == 0 and label.horizon_bin(7) == 1 and label.horizon_bin(14) == 2
    with pytest.raises(ToolkitError, match="must end a bin"):
        label.horizon_bin(5)
    sub = label.rows(np.array([2, 0]))
    assert sub.event.tolist() == [False, True] and sub.at_risk.shape == (2, 3)
