"""Labels on a crawl: coverage, day 0 from object ids, time zones, the boundary day, a midnight crossing.

Every posts CSV here is hand-made; each expected label is worked out in the comments.
"""

from __future__ import annotations

import csv
import datetime as dt

import pytest

from toolkit.data.label import parse_label
from toolkit.data.posts import load_posts
from toolkit.data.users import build_users
from toolkit.errors import ToolkitError

COLUMNS = ("title", "content", "user_id", "create_time", "post_id")


def oid(created: str, tail: int) -> str:
    """An object id whose first 8 hex digits are ``created`` (UTC) in Unix seconds."""
    seconds = int(dt.datetime.fromisoformat(created).replace(tzinfo=dt.timezone.utc).timestamp())
    return f"{seconds:08x}{tail:016x}"


def write_posts(tmp_path, rows, name="posts.csv"):
    path = tmp_path / name
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(COLUMNS)
        for i, (user, when) in enumerate(rows):
            writer.writerow(("", f"post {i}", user, when, f"p{i}"))
    return path


def came_back(**changes):
    label = {"cohort": {"first_seen": ["2025-01-01", "2025-01-31"]}, "observe_days": 1,
             "retained_if": {"returns_after_days": 1, "horizon_days": 3}, "coverage": None}
    label.update(changes)
    return parse_label(label)


def labels(path, label, timezone="Asia/Shanghai"):
    posts, _ = load_posts(path, timezone=timezone)
    users, y, report = build_users(posts, label, timezone=timezone)
    return dict(zip(users["user_id"], y.tolist())), report, users


def test_boundary_day_of_the_label_window(tmp_path):
    # day 0 = Jan 10; label window = days 1..3 = Jan 11..Jan 13 (inclusive).
    rows = [("a", "1/10/2025 09:00"), ("a", "1/13/2025 23:59"),   # day 3: last day of the window -> 1
            ("b", "1/10/2025 09:00"), ("b", "1/14/2025 00:00"),   # day 4: one day past it -> 0
            ("c", "1/10/2025 09:00"), ("c", "1/10/2025 23:00"),   # day 0 only: observed, not a return -> 0
            ("z", "1/20/2025 12:00")]                             # data end, outside the cohort
    found, report, _ = labels(write_posts(tmp_path, rows), came_back())
    assert found == {"a": 1, "b": 0, "c": 0}
    assert report.in_cohort == 4 and report.censored == 1, "z's window (Jan 21-23) ends after the data"


def test_midnight_crossing_and_min_gap_hours(tmp_path):
    # a posts at 23:50 on day 0 and 00:28 on day 1: a calendar "return on day 1", 38 minutes later.
    rows = [("a", "1/10/2025 23:50"), ("a", "1/11/2025 00:28"),
            ("b", "1/10/2025 08:00"), ("b", "1/11/2025 20:00"),   # 36 hours later
            ("z", "1/20/2025 12:00")]
    path = write_posts(tmp_path, rows)
    assert labels(path, came_back())[0] == {"a": 1, "b": 1}
    gap = came_back(retained_if={"returns_after_days": 1, "horizon_days": 3, "min_gap_hours": 6})
    assert labels(path, gap)[0] == {"a": 0, "b": 1}


def test_time_zone_shift_moves_epoch_times_across_midnight(tmp_path):
    # b's second post is epoch 1736617500 = 2025-01-11 17:45 UTC = 2025-01-12 01:45 in UTC+8.
    # Read on Beijing time it falls on day 2 (Jan 12), inside days 1..1 only in UTC (Jan 11).
    rows = [("b", "1/10/2025 12:00"), ("b", "1736617500"), ("z", "1/20/2025 12:00")]
    path = write_posts(tmp_path, rows)
    window = {"returns_after_days": 1, "horizon_days": 1}
    assert labels(path, came_back(retained_if=window), timezone="UTC")[0] == {"b": 1}
    assert labels(path, came_back(retained_if=window), timezone="Asia/Shanghai")[0] == {"b": 0}
    assert labels(path, came_back(retained_if=window), timezone="UTC+8")[0] == {"b": 0}
    posts, _ = load_posts(path, timezone="Asia/Shanghai")
    assert posts["create_time"].iloc[1] == dt.datetime(2025, 1, 12, 1, 45)
    assert posts["create_time"].iloc[0] == dt.datetime(2025, 1, 10, 12, 0), "naive times are kept as written"


def test_coverage_censors_users_whose_window_the_crawl_missed(tmp_path):
    # Five filler posts a day on Jan 10-13 and Jan 20-22; nothing on Jan 14-19 (the hole).
    # Reference posts (no cohort user's return): Jan 10: 6, 11: 6, 12: 6 (fillers + a first post), 13: 5, 20-22: 5
    # -> the median of the days with posts around the hole is 5 or 6: Jan 14-19 are gaps, Jan 10-13 covered.
    filler = [(f"f{d}-{k}", f"1/{d}/2025 10:0{k}") for d in (10, 11, 12, 13, 20, 21, 22) for k in range(5)]
    rows = filler + [
        ("early", "1/10/2025 09:00"), ("early", "1/11/2025 09:00"),  # window Jan 11-13: 3/3 covered -> 1
        ("gone", "1/11/2025 09:00"),                                  # window Jan 12-14: 2/3 covered
        ("hole", "1/12/2025 09:00"), ("hole", "1/13/2025 09:00"),     # window Jan 13-15: 1/3 covered; a
    ]                                                                 # positive, censored all the same
    path = write_posts(tmp_path, rows)
    cohort = {"first_seen": ["2025-01-10", "2025-01-12"]}
    strict = came_back(cohort=cohort, coverage={"min_daily_share": 0.2, "min_covered_days": 0.8})
    found, report, _ = labels(path, strict)
    # cohort: 6 users first seen on each of Jan 10, 11 and 12; only Jan 10's windows are covered enough
    assert report.in_cohort == 18 and report.censored == 0 and report.censored_by_coverage == 12
    assert sorted(found) == sorted(["early", *(f"f10-{k}" for k in range(5))])
    assert found["early"] == 1 and report.positives == 1 and report.labelled == 6
    loose = came_back(cohort=cohort, coverage={"min_daily_share": 0.2, "min_covered_days": 0.6})
    found, report, _ = labels(path, loose)
    assert report.censored_by_coverage == 6 and found["gone"] == 0 and "hole" not in found
    # A day needs 0.9 x 6 = 5.4 reference posts. hole's return on Jan 13 is not one (the old rule counted it,
    # so a return made its own window covered): Jan 13 holds 5 and is a gap, and Jan 11's windows fall too.
    tight_day = came_back(cohort=cohort, coverage={"min_daily_share": 0.9, "min_covered_days": 0.6})
    assert labels(path, tight_day)[1].censored_by_coverage == 12
    stated = came_back(cohort=cohort, coverage={"days": [["2025-01-10", "2025-01-13"], ["2025-01-20", "2025-01-22"]],
                                                "min_covered_days": 0.6})
    assert labels(path, stated)[1].censored_by_coverage == 6, "the stated days give the loose rule's answer"


def test_day0_account_created_from_object_ids(tmp_path):
    old = oid("2024-12-20 00:00:00", 1)   # created Dec 20 (Beijing 08:00), first post Jan 10
    new = oid("2025-01-09 20:00:00", 2)   # created Jan 9 20:00 UTC = Jan 10 04:00 in UTC+8, posts Jan 10 and 12
    rows = [(old, "1/10/2025 09:00"), (old, "1/12/2025 09:00"), (new, "1/10/2025 09:00"),
            (new, "1/12/2025 09:00"), (oid("2025-02-20 00:00:00", 3), "3/1/2025 09:00")]
    path = write_posts(tmp_path, rows)
    label = came_back(cohort={"first_seen": ["2024-12-01", "2025-01-31"]},
                      retained_if={"returns_after_days": 1, "horizon_days": 3})
    found, _, users = labels(path, label)
    assert found == {old: 1, new: 1}  # first_post: both came back on day 2
    age = dict(zip(users["user_id"], users["account_age_days"]))
    assert age[old] == pytest.approx(21 + 1 / 24)   # Dec 20 08:00 -> Jan 10 09:00
    assert age[new] == pytest.approx(5 / 24)        # Jan 10 04:00 -> 09:00
    found, report, users = labels(path, parse_label({**label.to_dict(), "day0": "account_created"}))
    # old's day 0 is Dec 20: its observation window (Dec 20) holds no post, so it is not yet active and out of
    # the cohort; new's day 0 is Jan 10: a post that day, a return on Jan 12
    assert found == {new: 1}
    assert report.in_cohort == 1 and report.not_yet_active == 1
    assert set(users["account_age_days"]) == {0.0}, "day 0 is the creation: no sign-up delay in a behavior column"


def test_day0_account_created_needs_object_ids(tmp_path):
    path = write_posts(tmp_path, [("alice", "1/10/2025 09:00"), (oid("2025-01-01 00:00:00", 1), "3/1/2025 09:00")])
    with pytest.raises(ToolkitError, match=r"1 of 2 user ids are not object ids, e.g. 'alice'"):
        labels(path, came_back(day0="account_created"))


def test_data_end_after_the_last_post_warns(tmp_path):
    path = write_posts(tmp_path, [("a", "1/10/2025 09:00"), ("b", "1/10/2025 09:00"), ("c", "1/20/2025 09:00")])
    _, report, _ = labels(path, came_back(data_end="2025-02-01"))
    assert len(report.warnings) == 1 and "after the last post in the file (2025-01-20)" in report.warnings[0]
    _, report, _ = labels(path, came_back(data_end="2025-01-20"))
    assert report.warnings == []


def test_too_few_positives_message_gives_cohort_and_censored_counts(tmp_path):
    from toolkit.evaluation.config import EvaluationConfig
    from toolkit.evaluation.folds import check_positives

    rows = [("a", "1/10/2025 09:00"), ("a", "1/11/2025 09:00"), ("b", "1/10/2025 09:00"),
            ("c", "1/30/2025 09:00"), ("z", "2/1/2025 09:00")]
    _, report, _ = labels(write_posts(tmp_path, rows), came_back())
    y = [1, 0]
    with pytest.raises(ToolkitError, match=r"3 in the cohort, 1 censored by data_end \(2025-02-01\), "
                                           r"0 censored by crawl coverage"):
        check_positives(y, EvaluationConfig(), counts=report.counts_text())
