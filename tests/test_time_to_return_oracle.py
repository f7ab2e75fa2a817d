"""The oracle of a time-to-return run on synthetic data: the true survival curves, on the label's time axis."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from specs import BASE, spec_dict
from toolkit.data.synth import truth_path
from toolkit.evaluation.time_to_return_oracle import oracle_hazard, true_survival
from toolkit.experiment.spec import parse_spec

TTR = {"cohort": BASE["label"]["cohort"], "observe_days": 7, "time_to_return": {"after_days": 7, "follow_days": 28}}


def _spec(**label):
    return parse_spec(spec_dict(
        label={**TTR, **label}, head={"type": "cox"}, data={"synthetic": {"users": 300, "seed": 2, "positive_rate": 0.3}},
        featurizers=[{"type": "tfidf", "max_features": 200}, {"type": "behavior"}],
        training={"epochs": 2, "batch_size": 64}, evaluation={"cv": {"folds": 3}, "bootstrap": 100}))


def test_true_survival_by_hand():
    lam = np.array([0.1, 0.0])
    # Weekly bins over days 7..28: they end on days 13, 20 and 28, after 7, 14 and 22 days at risk.
    s = true_survival(lam, np.array([7, 14, 21, 29]))
    np.testing.assert_allclose(s[0], [0.9 ** 7, 0.9 ** 14, 0.9 ** 22])
    np.testing.assert_allclose(s[1], [1.0, 1.0, 1.0])
    # Daily bins: day 7 (bin 0) after one day at risk; past day 28 no more returns.
    daily = true_survival(lam[:1], np.arange(7, 37))
    assert daily[0, 0] == pytest.approx(0.9) and daily[0, 21] == pytest.approx(0.9 ** 22)
    assert np.allclose(daily[0, 21:], 0.9 ** 22)


def test_the_labels_time_axis_is_the_generators(tmp_path):
    """A synthetic user's return day is the day their label's event bin starts; the oracle's curve drops there."""
    from toolkit.tasks.time_to_return import prepare_time_to_return

    spec = _spec()
    prepared = prepare_time_to_return(spec, cache_dir=str(tmp_path))
    label = prepared.label
    truth = pd.read_csv(truth_path(prepared.source), dtype={"user_id": str}, encoding="utf-8-sig").set_index("user_id")
    truth = truth.loc[prepared.users["user_id"]]
    returned = label.event
    assert returned.sum() > 20
    np.testing.assert_array_equal(label.edges[label.event_last[returned]], truth["return_day"][returned])
    np.testing.assert_allclose(prepared.hazard, truth["daily_hazard"])
    # Hand check on one returner: survival at the end of the bin before the return, and of the return's bin.
    i = int(np.flatnonzero(returned)[0])
    day, lam = int(truth["return_day"].iloc[i]), truth["daily_hazard"].iloc[i]
    curve = true_survival(prepared.hazard[i:i + 1], label.edges)[0]
    k = label.event_last[i]
    assert curve[k] == pytest.approx((1 - lam) ** (day - 6))
    assert k == 0 or curve[k - 1] == pytest.approx((1 - lam) ** (day - 7))


def test_no_oracle_where_the_truth_does_not_describe_the_label(tmp_path):
    from toolkit.tasks.time_to_return import prepare_time_to_return

    later = prepare_time_to_return(_spec(time_to_return={"after_days": 8, "follow_days": 28}), cache_dir=str(tmp_path))
    assert later.hazard is None
    assert oracle_hazard(later.source, later.users["user_id"], later.label, "account_created") is None


def test_a_synthetic_run_reports_the_oracle_beside_the_model(tmp_path):
    from toolkit.console import time_to_return_metrics_table
    from toolkit.experiment.runner import run

    outcome = run(_spec(), results_dir=tmp_path / "runs", cache_dir=str(tmp_path / "cache"))
    m = json.loads((outcome.folder / "metrics.json").read_text())
    oracle = m["oracle"]
    assert set(oracle) == set(m["metrics"]) == {"c_index", "uno_c", "auc_at", "ibs"}
    assert list(oracle["auc_at"]) == list(m["metrics"]["auc_at"]) == ["7", "14", "21"]
    for entry in [oracle["c_index"], oracle["uno_c"], oracle["ibs"], *oracle["auc_at"].values()]:
        assert set(entry) == {"mean", "ci_low", "ci_high"} and entry["ci_low"] <= entry["mean"] <= entry["ci_high"]
    assert 0.5 < m["metrics"]["c_index"]["mean"] < oracle["c_index"]["mean"]
    assert oracle["ibs"]["mean"] < m["metrics"]["ibs"]["mean"]
    from rich.console import Console

    console = Console(width=200, record=True)
    console.print(time_to_return_metrics_table(m))
    text = console.export_text()
    assert "oracle c_index" in text and f"{oracle['c_index']['mean']:.3f}" in text


def test_a_time_to_return_oracle_makes_no_roc_auc_row_in_bench_tables():
    from types import SimpleNamespace

    from toolkit.bench.table import _oracle_row
    from toolkit.tasks import BinaryTask, TimeToReturnTask

    entry = {"mean": 0.8, "ci_low": 0.7, "ci_high": 0.9}
    survival = SimpleNamespace(record=SimpleNamespace(oracle={"c_index": entry, "uno_c": entry, "ibs": entry,
                                                              "auc_at": {}}), task_class=TimeToReturnTask)
    assert _oracle_row(survival) is None
    binary = SimpleNamespace(record=SimpleNamespace(oracle={"roc_auc": entry, "pr_auc": entry}), task_class=BinaryTask)
    assert _oracle_row(binary)["roc_auc"] == 0.8
