"""The crawl-coverage rule does not read the outcome as gaps, and finds the gaps the generator plants.

The generator's crawl has no gap, but its daily volume falls as the migration wave's users stop posting,
which is the outcome: a rule on the total volume censored a third of the cohort there (every arrival after
January 19). Planted gaps (``generate(..., gaps=N)``) drop every post of N known days.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from toolkit.data.label import parse_label
from toolkit.data.posts import load_posts
from toolkit.data.synth import GAP_DAYS, generate, read_gaps, truth_path, write_synthetic
from toolkit.data.users import build_users, cohort_of
from toolkit.errors import ToolkitError

LABEL = {"cohort": {"first_seen": ["2025-01-01", "2025-02-14"]}, "observe_days": 7,
         "retained_if": {"returns_after_days": 7, "horizon_days": 28}}
LAST_LABEL_DAY = dt.date(2025, 3, 14)  # the cohort's last day + horizon_days


def _users(path, label=LABEL):
    posts, _ = load_posts(path)
    return build_users(posts, parse_label(label))


@pytest.mark.parametrize("seed", [0, 1])
def test_a_gap_free_synthetic_crawl_censors_at_most_one_percent(tmp_path, seed):
    path = write_synthetic(tmp_path / "posts.csv", 3000, seed)
    _, _, report = _users(path)
    assert report.in_cohort > 2800
    assert report.censored_by_coverage <= 0.01 * report.in_cohort, report.coverage
    assert report.coverage.startswith("heuristic"), "the label report says the rule is a heuristic"


def _found(seed: int) -> tuple[set, set]:
    """``(planted, uncovered)`` days of a 3,000-user crawl with 8 planted gaps, up to the last label day."""
    posts, truth = generate(3000, seed, gaps=8)
    planted = set(pd.to_datetime(truth["crawl_gaps"].iloc[0].split(";")).date)
    frame = pd.DataFrame({"user_id": posts["user_id"], "create_time": pd.to_datetime(
        posts["create_time"], format="%m/%d/%Y %H:%M")})
    coverage = cohort_of(frame, parse_label(LABEL)).coverage
    return planted, {d for d, ok in coverage.covered.items() if not ok and d <= LAST_LABEL_DAY}


def test_planted_gaps_are_found_and_few_others():
    planted, found, false = 0, 0, 0
    for seed in range(5):
        gaps, uncovered = _found(seed)
        assert len(gaps) == 8
        planted, found, false = planted + len(gaps), found + len(gaps & uncovered), false + len(uncovered - gaps)
    assert found >= 0.9 * planted, f"{found} of {planted} planted gap days found"
    assert false <= 2, f"{false} days marked as gaps that the crawler did not miss"


def test_stated_crawl_days_find_every_planted_gap(tmp_path):
    path = write_synthetic(tmp_path / "posts.csv", 1000, 3, gaps=6)
    gaps = read_gaps(path)
    crawled = [d.date() for d in pd.date_range("2025-01-01", "2025-06-30") if d.date() not in gaps]
    _, _, report = _users(path, {**LABEL, "coverage": {"days": crawled}})
    marked = {d.date() for a, b in report.windows["gaps"] for d in pd.date_range(a, b)}
    # the label windows start 7 days after the first arrivals (Jan 13) at the earliest
    assert marked == {d for d in gaps if d >= dt.date(2025, 1, 20)}, "every gap inside the label windows' span"
    assert report.coverage_source == "stated"
    # six single days never take more than 20% of a 22-day window: kept, and counted as kept with a gap
    assert report.censored_by_coverage == 0 and 0 < report.in_coverage_gap < report.labelled


def test_planted_gaps_drop_their_days_posts_and_nothing_else(tmp_path):
    posts, truth = generate(500, 2)
    again, _ = generate(500, 2, gaps=None)
    pd.testing.assert_frame_equal(posts, again)
    gapped, gap_truth = generate(500, 2, gaps=[dt.date(2025, 1, 14), "2025-01-20"])
    dates = pd.to_datetime(posts["create_time"], format="%m/%d/%Y %H:%M").dt.date
    dropped = dates.isin({dt.date(2025, 1, 14), dt.date(2025, 1, 20)})
    pd.testing.assert_frame_equal(gapped, posts[~dropped].reset_index(drop=True))
    assert dropped.sum() > 0 and gap_truth["posts_in_gaps"].sum() == dropped.sum()
    assert (gap_truth["crawl_gaps"] == "2025-01-14;2025-01-20").all()
    pd.testing.assert_frame_equal(gap_truth[truth.columns], truth)
    assert "crawl_gaps" not in truth.columns, "off by default: the truth file is unchanged"
    path = write_synthetic(tmp_path / "g.csv", 200, 2, gaps=3)
    days = read_gaps(path)
    assert len(days) == 3 and all(GAP_DAYS[0].astype(object) <= d <= GAP_DAYS[1].astype(object) for d in days)
    assert read_gaps(write_synthetic(tmp_path / "plain.csv", 200, 2)) is None
    assert truth_path(path).is_file()


@pytest.mark.parametrize("gaps, message", [(-1, "an int from 0 to 46"), (47, "an int from 0 to 46"),
                                           (["Jan 5"], "a list of dates"), ("3", "a list of dates")])
def test_bad_gaps_are_refused(gaps, message):
    with pytest.raises(ToolkitError, match=message):
        generate(100, 0, gaps=gaps)


def test_data_synth_gaps_plants_days_that_validate_then_finds(tmp_path):
    import yaml

    from hostile import toolkit
    from specs import spec_dict
    from toolkit.data.synth import read_gaps

    made = toolkit("data", "synth", "--users", "1500", "--gaps", "4", "--out", str(tmp_path / "p.csv"), "--quiet",
                   cwd=tmp_path)
    assert made.rc == 0, made.text
    planted = read_gaps(tmp_path / "p.csv")
    assert len(planted) == 4
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(spec_dict(data={"path": str(tmp_path / "p.csv")})))
    result = toolkit("validate", "s.yaml", "--cache-dir", "c", cwd=tmp_path, timeout=300)
    assert result.rc == 0, result.text
    text = " ".join(result.out.split())  # the coverage line wraps at the terminal's width
    line = text[text.index("coverage: heuristic"):text.index("labelled / cohort")]
    found = sum(day.isoformat() in line for day in planted)
    assert found >= 3, (planted, line)
