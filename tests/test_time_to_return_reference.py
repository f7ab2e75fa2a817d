"""The no-feature reference of a time-to-return run: one Kaplan-Meier curve for everyone, on masked risk sets."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pytest

from specs import BASE, spec_dict
from toolkit.data.time_to_return import time_to_return
from toolkit.features.blocks import Block
from toolkit.heads.cox import CoxHead
from toolkit.heads.hazard_loss import pack_targets
from toolkit.training import TrainingConfig

TTR = {"cohort": BASE["label"]["cohort"], "observe_days": 7, "time_to_return": {"after_days": 7, "follow_days": 28}}


def test_a_cox_head_on_a_constant_is_the_kaplan_meier_of_the_masked_risk_sets():
    # 6 users; day 3 of the follow-up is uncovered: nobody is at risk in its bin
    days = [[9], [10], [15], [], [], [12]]
    posts_user = np.repeat(np.arange(6), [len(d) for d in days])
    posts_day = np.array([d for ds in days for d in ds])
    start = dt.date(2025, 1, 1)
    covered = {start + dt.timedelta(days=k) for k in range(0, 40)} - {start + dt.timedelta(days=10)}
    label = time_to_return([start] * 6, posts_user, posts_day, after_days=7, follow_days=14,
                           data_end=dt.date(2025, 2, 28), covered=covered)
    targets = pack_targets(label)
    head = CoxHead(penalizer=0.0).fit([Block("c", "dense", np.ones((6, 1)))], targets,
                                      validation=([Block("c", "dense", np.ones((6, 1)))], targets),
                                      training=TrainingConfig(), seed=0)
    surv = head.predict_survival([Block("c", "dense", np.ones((1, 1)))])[0]
    risk_set = label.at_risk.copy()
    returned = label.event_last >= 0
    risk_set[np.flatnonzero(returned), label.event_last[returned]] = True
    events = np.zeros(risk_set.shape[1])
    np.add.at(events, label.event_last[returned], 1)
    at_risk = risk_set.sum(axis=0)
    hazard = np.divide(events, at_risk, out=np.zeros_like(events), where=at_risk > 0)
    # Breslow's estimator is exp(-cumulative hazard); the product limit is its first-order twin
    np.testing.assert_allclose(surv, np.exp(-np.cumsum(hazard)), rtol=1e-4, atol=1e-6)


@pytest.mark.slow
def test_a_run_reports_the_no_feature_reference_and_the_ibs_skill(tmp_path):
    import toolkit

    run = toolkit.run(spec_dict(label=TTR, head={"type": "cox"},
                                data={"synthetic": {"users": 400, "seed": 2, "positive_rate": 0.3}}),
                      results_dir=tmp_path / "r", cache_dir=tmp_path / "c")
    metrics = json.loads((run.folder / "metrics.json").read_text())
    ref = metrics["no_features"]
    assert ref["c_index"]["mean"] == pytest.approx(0.5)
    assert ref["ibs"]["ci_low"] <= ref["ibs"]["mean"] <= ref["ibs"]["ci_high"]
    assert ref["ibs_skill"] == pytest.approx(1 - metrics["metrics"]["ibs"]["mean"] / ref["ibs"]["mean"])
    from rich.console import Console

    from toolkit.console import time_to_return_metrics_table

    console = Console(width=200, record=True)
    console.print(time_to_return_metrics_table(metrics))
    shown = console.export_text()
    assert "ibs, no features" in shown and "ibs skill" in shown
