"""One crawl-coverage rule for run, validate and eda, that does not read the outcome as crawler gaps.

The hand-made crawl: a migration wave on Jan 13-15 (30, 20 and 10 new users), then one new user a day until
Feb 5, then twelve new users a day from Feb 6 to Mar 20, every third of them back ten days later; with
``gap``, the crawler missed those days (no post on them at all).
"""

from __future__ import annotations

import csv
import datetime as dt
import json

import pandas as pd
import pytest

from specs import spec_dict
from toolkit.analysis.eda import run_eda
from toolkit.data.coverage import CoverageRule, crawl_coverage
from toolkit.data.crawl import daily_volume

WAVE = {dt.date(2025, 1, 13): 30, dt.date(2025, 1, 14): 20, dt.date(2025, 1, 15): 10}
GAP = tuple(d.date() for d in pd.date_range("2025-02-20", "2025-02-25"))


def collapsing_crawl(path, gap=()):
    rows = []
    for day, n in WAVE.items():
        rows += [(f"w{day.day}-{k}", dt.datetime.combine(day, dt.time(10))) for k in range(n)]
    for day in pd.date_range("2025-01-16", "2025-02-05"):
        rows.append((f"q{day.date()}", day + pd.Timedelta(hours=9)))
    for i, day in enumerate(pd.date_range("2025-02-06", "2025-03-20")):
        for k in range(12):
            user = f"r{i:02d}-{k:02d}"
            rows.append((user, day + pd.Timedelta(hours=8 + k)))
            if k % 3 == 0 and day + pd.Timedelta(days=10) <= pd.Timestamp("2025-03-20"):
                rows.append((user, day + pd.Timedelta(days=10, hours=20)))
    rows = [(user, when) for user, when in rows if pd.Timestamp(when).date() not in gap]
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(("title", "content", "user_id", "create_time", "post_id"))
        for k, (user, when) in enumerate(rows):
            text = ("garden flowers today", "rocket launch tonight", "learning chinese words")[k % 3]
            writer.writerow(("", text, user, pd.Timestamp(when).strftime("%Y-%m-%d %H:%M"), f"p{k}"))
    return path


def _series(values, start="2025-01-13"):
    days = pd.date_range(start, periods=len(values))
    return pd.Series(values, index=pd.Index(days.date, name="date"), name="posts")


def test_a_hole_is_judged_against_the_days_around_it_not_the_peak():
    # Arrivals of a migration wave: a 327-post day, then a decay to about a dozen a day, a hole on day 20,
    # then a thin tail of one to three a day with a zero on day 33.
    wave = [327, 240, 180, 150, 120, 100, 90, 80, 70, 60, 55, 50, 45, 40, 36, 32, 30, 28, 25, 22, 0, 20, 18, 16,
            15, 14, 13, 12, 12, 11, 2, 1, 3, 0, 2, 1, 2, 1, 3, 1]
    coverage = crawl_coverage(_series(wave), CoverageRule())
    gaps = [k for k, day in enumerate(coverage.covered.index) if not coverage.covered[day]]
    assert gaps == [20], "the decay is not a gap; the hole is, whatever the peak was"
    day33 = coverage.covered.index[33]
    assert coverage.covered[day33] and not coverage.judged[day33], "a zero among 1-3 a day is chance: not judged"
    old_reference = 0.2 * pd.Series(wave).quantile(0.9)
    assert sum(v < old_reference for v in wave) > 15, "the old global rule read the decay as holes"
    strict = crawl_coverage(_series(wave), CoverageRule(min_daily_share=0.95, reference_quantile=1.0))
    assert not strict.covered.iloc[1:21].all(), "the share and the quantile are spec parameters"


def test_stated_crawl_days_decide_alone():
    rule = CoverageRule(days=[dt.date(2025, 1, 13), [dt.date(2025, 1, 15), dt.date(2025, 1, 16)]])
    coverage = crawl_coverage(_series([0, 500, 0, 0]), rule)
    assert coverage.covered_set() == {dt.date(2025, 1, 13), dt.date(2025, 1, 15), dt.date(2025, 1, 16)}
    assert coverage.judged.all()


def test_eda_on_a_bare_csv_applies_the_run_default_and_says_it_is_a_heuristic(tmp_path):
    path = collapsing_crawl(tmp_path / "crawl.csv")
    _, result = run_eda(path, results_dir=tmp_path / "r", n_topics=2)
    counts = result["counts"]
    assert counts["coverage"].startswith(CoverageRule().describe(7)), "the counts name the rule applied"
    assert counts["coverage"].startswith("heuristic")
    # One new user a day (Jan 16 - Feb 5) is too few to tell a stopped crawler from a quiet one: the wave's
    # windows are not judged, so nobody is censored (the old rule censored 60 + 10 users here) and the
    # report says how many windows rest on days it could not judge.
    assert counts["censored_by_coverage"] == 0
    assert any("could not judge most of the label window of" in w for w in result["data_warnings"])


def test_a_crawl_gap_censors_the_users_whose_window_it_holds(tmp_path):
    path = collapsing_crawl(tmp_path / "crawl.csv", gap=GAP)
    _, result = run_eda(path, results_dir=tmp_path / "r", n_topics=2)
    counts = result["counts"]
    # The gap, Feb 20-25 (6 days), is seen against the r users' twelve first posts a day around it. A window
    # (days 7..28 after day 0, 22 days) misses more than 20% with 5 or more of the gap's days: day 0 in
    # Jan 27 .. Feb 14, i.e. the q users of Jan 27 .. Feb 5 (10) and the r users of Feb 6 .. Feb 14 (9 x 12).
    assert counts["censored_by_coverage"] == 10 + 9 * 12
    assert "6 gap day(s) in the label windows" in counts["coverage"] and "2025-02-20..2025-02-25" in counts["coverage"]


def test_run_validate_and_eda_agree_on_coverage(tmp_path, capsys):
    from toolkit.cli import main
    from toolkit.experiment.runner import prepare
    from toolkit.experiment.spec import parse_spec

    path = collapsing_crawl(tmp_path / "crawl.csv", gap=GAP)
    volume = daily_volume(pd.read_csv(path)["create_time"].map(pd.Timestamp))
    label = {"cohort": {"first_seen": [str(volume.index[0]), str(volume.index[-1])]}, "observe_days": 7,
             "retained_if": {"returns_after_days": 7, "horizon_days": 28}}
    raw = spec_dict(name="crawl", data={"path": str(path)}, label=label)
    report = prepare(parse_spec(raw), cache_dir=str(tmp_path / "cache")).report
    _, result = run_eda(path, results_dir=tmp_path / "r", n_topics=2)
    counts = result["counts"]
    assert (report.in_cohort, report.censored, report.censored_by_coverage, report.positives) == (
        counts["cohort"], counts["censored_by_data_end"], counts["censored_by_coverage"], counts["positives"])
    assert report.censored_by_coverage == 118
    assert report.arrival == result["arrival"]
    assert report.windows["gaps"] == [["2025-02-20", "2025-02-25"]]
    json.dumps(report.to_dict())  # metrics.json's data block carries the arrival table
    import yaml

    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(raw), encoding="utf-8")
    assert main(["validate", str(tmp_path / "spec.yaml")]) == 0
    out = capsys.readouterr().out
    assert "118 censored by crawl coverage" in out and "coverage: heuristic" in out
    assert "crawl gaps: 6 day(s)" in out, "the chart marks the gap"


def test_stated_days_in_a_spec_censor_without_reading_the_posts(tmp_path):
    from toolkit.experiment.runner import prepare
    from toolkit.experiment.spec import parse_spec

    path = collapsing_crawl(tmp_path / "crawl.csv")  # no hole in the posts: the user says the crawler missed GAP
    days = [["2025-01-13", "2025-02-19"], ["2025-02-26", "2025-03-20"]]
    label = {"cohort": {"first_seen": ["2025-01-13", "2025-03-20"]}, "observe_days": 7,
             "retained_if": {"returns_after_days": 7, "horizon_days": 28}, "coverage": {"days": days}}
    report = prepare(parse_spec(spec_dict(name="crawl", data={"path": str(path)}, label=label,
                                          evaluation={"min_positives_per_fold": 1})),
                     cache_dir=str(tmp_path / "cache")).report
    assert report.coverage_source == "stated" and report.coverage.startswith("stated crawl days")
    assert report.censored_by_coverage == 10 + 9 * 12 and report.windows["gaps"] == [["2025-02-20", "2025-02-25"]]


@pytest.mark.parametrize("bad, message", [
    ([], "must name at least one day"),
    ([["2025-02-10", "2025-02-01"]], "ends before it starts"),
    (["2025-02-30"], "label.coverage.days must be"),
    ([["2025-01-01", "9999-12-31"]], "must lie within 2000-01-01..2100-12-31"),
])
def test_bad_stated_days_are_refused(bad, message):
    from toolkit.data.label import parse_label
    from toolkit.errors import ToolkitError

    with pytest.raises(ToolkitError, match=message):
        parse_label({"cohort": {"first_seen": ["2025-01-01", "2025-01-31"]}, "observe_days": 7,
                     "retained_if": {"returns_after_days": 7, "horizon_days": 28}, "coverage": {"days": bad}})
