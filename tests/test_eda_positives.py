"""EDA findings need enough positives: permutation p-values for correlations, and a mark below the documented count."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from factories import make_users
from toolkit.analysis.eda import stats
from toolkit.analysis.eda.report import render


def test_permutation_p_is_small_for_a_real_link_and_not_for_noise():
    rng = np.random.default_rng(0)
    x = rng.normal(size=300)
    y = (x + rng.normal(size=300) > 1.0).astype(int)
    assert stats.permutation_p(x, y) == pytest.approx(1 / (1 + stats.PERMUTATIONS))
    noise = [stats.permutation_p(rng.normal(size=300), y, seed=s, n=199) for s in range(40)]
    assert 0.3 < float(np.mean(noise)) < 0.7, "under no link the p-values spread over (0, 1]"


def test_two_positives_are_marked_too_few_to_read():
    users = make_users(60, seed=3)
    y = np.zeros(60, dtype=int)
    y[[0, 1]] = 1
    corr = stats.correlations(users, y)
    assert not corr["readable"].any()
    rates = stats.rate_table(pd.Series(np.arange(60) % 3, name="g"), y)
    assert not rates["readable"].any()
    y[:stats.MIN_POSITIVES] = 1
    assert stats.correlations(users, y)["readable"].all() and stats.readable(y)


def test_report_prints_the_mark_instead_of_intervals(tmp_path):
    users = make_users(60, seed=3)
    y = np.zeros(60, dtype=int)
    y[[0, 1]] = 1
    corr = stats.correlations(users, y).to_dict("records")
    rate = stats.rate_table(pd.Series(["2025-01-13"] * 60, name="day"), y).to_dict("records")
    result = {"name": "x", "label": "l", "label_source": "s",
              "counts": {"posts": 60, "users": 60, "cohort": 60, "censored_by_data_end": 0, "censored_by_coverage": 0,
                         "labelled": 60, "positives": 2, "positive_rate": 2 / 60, "needed_positives": 25},
              "volume": {"days": 1, "empty_days": 0, "first": "2025-01-13", "last": "2025-01-13"},
              "first_seen_auc": {"auc": 0.9, "ci_low": 0.8, "ci_high": 1.0, "predicts": True, "readable": False},
              "by_day": rate, "by_week": [], "object_ids": 0, "lower_bound_share": {}, "engagement": {},
              "correlations": corr, "mix": {"hours": [1] * 24, "types": {"normal": 1.0}},
              "zh_share": {"mean": 0.1, "mostly_chinese": 0.0},
              "topics": {"n_topics": 1, "rule": "r", "topics": [], "retention": []}}
    md = render(result)
    assert f"| 2025-01-13 | 60 | 2 | 0.033 | {stats.TOO_FEW} |" in md
    assert md.count(stats.TOO_FEW) >= len(corr) + 2
    assert "It predicts the label" not in md and "fewer than 10 labelled users in the smaller class" in md
