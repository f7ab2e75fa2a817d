"""One crawl-coverage rule for run, validate and eda, robust to a crawl whose volume collapses after its peak.

The hand-made crawl: a migration wave on Jan 13-15 (30, 20 and 10 new users), then one post a day until
Feb 5 (the collapse), then twelve new users a day from Feb 6 to Mar 20, every third of them back ten days later.
"""

from __future__ import annotations

import csv
import datetime as dt
import json

import pandas as pd
import pytest

from specs import spec_dict
from toolkit.analysis.eda import run_eda
from toolkit.data.coverage import CoverageRule, covered_days, reference_volume
from toolkit.data.crawl import daily_volume

WAVE = {dt.date(2025, 1, 13): 30, dt.date(2025, 1, 14): 20, dt.date(2025, 1, 15): 10}


def collapsing_crawl(path):
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
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(("title", "content", "user_id", "create_time", "post_id"))
        for k, (user, when) in enumerate(rows):
            text = ("garden flowers today", "rocket launch tonight", "learning chinese words")[k % 3]
            writer.writerow(("", text, user, pd.Timestamp(when).strftime("%Y-%m-%d %H:%M"), f"p{k}"))
    return path


def test_a_one_post_day_beside_a_peak_is_not_covered():
    # 327 posts on the first day, then a tail of one to eight posts a day (median of the days with posts: 5)
    tail = [1, 5, 8, 1, 6, 0, 5, 1, 7, 4, 5, 6, 0, 5, 3, 5, 6, 8, 5, 4, 2, 5, 6, 7, 5, 3, 5, 1, 6, 5]
    days = pd.date_range("2025-01-13", periods=len(tail) + 1)
    volume = pd.Series([327] + tail, index=pd.Index(days.date, name="date"), name="posts")
    rule = CoverageRule()
    covered = covered_days(volume, rule)
    assert not covered[dt.date(2025, 1, 14)], "one post a day is not a running crawler"
    assert covered[dt.date(2025, 1, 15)] and covered[dt.date(2025, 1, 16)]
    assert reference_volume(volume, rule) == pytest.approx(volume.quantile(0.9))
    assert volume[volume > 0].median() * rule.min_daily_share <= 1, "the old reference would have covered it"
    strict = CoverageRule(reference_quantile=1.0)
    assert not covered_days(volume, strict)[dt.date(2025, 1, 16)], "the quantile is a spec parameter"


def test_eda_on_a_bare_csv_applies_the_run_default_and_says_so(tmp_path):
    path = collapsing_crawl(tmp_path / "crawl.csv")
    _, result = run_eda(path, results_dir=tmp_path / "r", n_topics=2)
    counts = result["counts"]
    assert counts["censored_by_coverage"] >= 60, "the wave's label windows fall in the collapse"
    assert counts["coverage"] == CoverageRule().describe()
    # the wave and the collapse's first days (Jan 16-25, windows mostly on one-post days): 60 + 10 users
    assert any("no labelled user among the 70 cohort users" in w and "2025-01-13..2025-01-25" in w
               for w in result["data_warnings"])
    md = next((tmp_path / "r" / "eda" / "crawl").iterdir()) / "report.md"
    assert "| 2025-01-13 | 64 | 0 | 0 | 64 |" in md.read_text(encoding="utf-8"), "wave week: 60 + 4 collapse days"


def test_run_validate_and_eda_agree_on_coverage(tmp_path, capsys):
    from toolkit.cli import main
    from toolkit.experiment.runner import prepare
    from toolkit.experiment.spec import parse_spec

    path = collapsing_crawl(tmp_path / "crawl.csv")
    volume = daily_volume(pd.read_csv(path)["create_time"].map(pd.Timestamp))
    label = {"cohort": {"first_seen": [str(volume.index[0]), str(volume.index[-1])]}, "observe_days": 7,
             "retained_if": {"returns_after_days": 7, "horizon_days": 28}}
    raw = spec_dict(name="crawl", data={"path": str(path)}, label=label)
    report = prepare(parse_spec(raw), cache_dir=str(tmp_path / "cache")).report
    _, result = run_eda(path, results_dir=tmp_path / "r", n_topics=2)
    counts = result["counts"]
    assert (report.in_cohort, report.censored, report.censored_by_coverage, report.positives) == (
        counts["cohort"], counts["censored_by_data_end"], counts["censored_by_coverage"], counts["positives"])
    assert report.arrival == result["arrival"]
    json.dumps(report.to_dict())  # metrics.json's data block carries the arrival table
    import yaml

    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(raw), encoding="utf-8")
    assert main(["validate", str(tmp_path / "spec.yaml")]) == 0
    out = capsys.readouterr().out
    assert "labelled / cohort by day-0 week (Monday): 01-13 0/64" in out
    assert "warning: no labelled user among the 70 cohort users" in out
