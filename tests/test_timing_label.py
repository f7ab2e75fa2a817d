"""A label that arrival alone decides: counted from sign-up, the timing baseline explains it and the run says so.

The crawl is hand-made: every account is created on a day in January (object-id user ids), posts one to three
times on the day of its first post, ``delay`` days after sign-up, and comes back on day 14 after sign-up exactly
when the delay is 4 days or more. Nothing the user wrote or did in the window depends on the delay. (Day 14 is
past every user's first posting week, delay + 6 <= 12: a post inside that week is no return under any day 0.)
"""

from __future__ import annotations

import csv
import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest

from specs import spec_dict
from toolkit.data.label import parse_label
from toolkit.data.posts import load_posts
from toolkit.data.schema import BEHAVIOR_COLUMNS
from toolkit.data.users import build_users
from toolkit.experiment.runner import run
from toolkit.experiment.spec import parse_spec

LABEL = {"cohort": {"first_seen": ["2025-01-01", "2025-01-31"]}, "observe_days": 7,
         "retained_if": {"returns_after_days": 7, "horizon_days": 28}, "day0": "account_created", "coverage": None}


def oid(created: dt.datetime, tail: int) -> str:
    return f"{int(created.replace(tzinfo=dt.timezone.utc).timestamp()):08x}{tail:016x}"


def write_crawl(path, n=160, seed=0, late=8):
    """``n`` users with a post in their window and ``late`` more whose first post comes after it (day 9)."""
    rng = np.random.default_rng(seed)
    rows, delays = [], {}
    for i in range(n + late):
        created = dt.datetime(2025, 1, 1) + dt.timedelta(days=int(rng.integers(0, 20)))
        user = oid(created, i)
        delay = 9 if i >= n else int(rng.integers(0, 7))
        first = created + dt.timedelta(days=delay)
        for _ in range(int(rng.integers(1, 4))):
            when = first + dt.timedelta(hours=int(rng.integers(9, 23)), minutes=int(rng.integers(0, 60)))
            rows.append((user, when, int(rng.integers(0, 500))))
        if delay >= 4:
            rows.append((user, created + dt.timedelta(days=14, hours=12), 3))
        delays[user] = delay
    rows.append((oid(dt.datetime(2025, 3, 1), 999), dt.datetime(2025, 3, 10, 12), 0))  # the data's end
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(("title", "content", "user_id", "create_time", "post_id", "like_count"))
        for k, (user, when, likes) in enumerate(rows):
            writer.writerow(("", f"hello {k % 7}", user, when.strftime("%Y-%m-%d %H:%M"), f"p{k}", likes))
    return delays


def test_no_behavior_column_carries_the_sign_up_delay(tmp_path):
    delays = write_crawl(tmp_path / "posts.csv")
    posts, _ = load_posts(tmp_path / "posts.csv")
    users, y, report = build_users(posts, parse_label(LABEL))
    assert report.not_yet_active == 8 and report.in_cohort == 160, "a first post after the window is no return"
    delay = users["user_id"].map(delays).to_numpy(dtype=float)
    assert (y == (delay >= 4)).all(), "the label is the delay, by construction"
    for column in BEHAVIOR_COLUMNS:
        values = users[column].to_numpy(dtype=float)
        if np.nanstd(values) == 0:
            continue
        r = pd.Series(values).corr(pd.Series(delay), method="spearman")
        assert abs(r) < 0.3, f"{column} carries the sign-up delay (Spearman r {r:+.2f})"
    assert set(users["account_age_days"]) == {0.0}


def test_the_run_warns_when_timing_alone_explains_the_label(tmp_path):
    write_crawl(tmp_path / "posts.csv")
    spec = parse_spec(spec_dict(data={"path": str(tmp_path / "posts.csv")}, label=LABEL,
                                featurizers=[{"type": "behavior"}], evaluation={"cv": {"folds": 5, "repeats": 3},
                                                                                "bootstrap": 200}))
    outcome = run(spec, results_dir=tmp_path / "results", cache_dir=str(tmp_path / "cache"))
    m = json.loads((outcome.folder / "metrics.json").read_text())
    timing = m["baselines"]["timing"]
    assert timing["roc_auc"]["mean"] > 0.95 and "first_seen" not in m["baselines"]
    assert timing["delta_roc_auc"]["ci_high"] < 0, "behavior alone cannot reach what timing explains"
    assert any("timing alone may explain the label" in w for w in m["warnings"])
    assert m["data"]["not_yet_active"] == 8


@pytest.mark.parametrize("old", [True, False])
def test_bench_rows_read_the_timing_baseline_under_either_name(old):
    from toolkit.evaluation.baselines import baseline_entry

    entry = {"roc_auc": {"mean": 0.7}}
    block = {"first_seen" if old else "timing": entry}
    assert baseline_entry(block, "timing") is entry
