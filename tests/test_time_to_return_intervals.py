"""Time-to-return intervals over test folds: the yes/no task's corrected resampled t, on survival metrics."""

from __future__ import annotations

import numpy as np
import pytest

from toolkit.errors import ToolkitError
from toolkit.evaluation import survival as sv
from toolkit.evaluation.metrics import corrected_t, fold_test_share
from toolkit.evaluation.time_to_return_compare import c_index_fold_deltas, paired_time_to_return_delta

GRID = np.arange(2.0, 20.0)


def _data(seed: int, n: int = 240, repeats: int = 2, folds: int = 4):
    """Proportional-hazards times, a risk that knows them, a noisy one, and random folds per repeat."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    t_event = np.ceil(rng.exponential(10 * np.exp(-0.7 * x)))
    t_cens = np.ceil(rng.uniform(1, 30, size=n))
    time, event = np.minimum(t_event, t_cens), t_event <= t_cens
    time[np.argmax(time)] += 1
    event[np.argmax(time)] = True
    good = np.stack([x + 0.3 * rng.normal(size=n) for _ in range(repeats)])
    noise = rng.normal(size=(repeats, n))
    surv = np.stack([np.exp(-np.outer(np.exp(0.7 * g), GRID) / 10) for g in good])
    fold_of = np.stack([rng.permutation(np.arange(n) % folds) for _ in range(repeats)])
    return time, event, good, noise, surv, fold_of


def test_each_interval_is_the_corrected_t_over_the_folds_own_metrics():
    time, event, risk, _, surv, fold_of = _data(0)
    out = sv.summarize_time_to_return(time, event, risk, surv, GRID, horizons=[3, 7], tau=15, fold_of=fold_of)
    # each fold's C-index, computed on its users alone, repeat r's risks on repeat r's folds
    per_fold = [sv.c_index(time[fold_of[r] == k], event[fold_of[r] == k], risk[r, fold_of[r] == k])
                for r in range(2) for k in range(4)]
    point = np.mean([sv.c_index(time, event, row) for row in risk])
    expected = corrected_t(point, per_fold, fold_test_share(fold_of), 0.95, null=0.5)
    c = out["c_index"]
    assert c["mean"] == pytest.approx(point)
    assert (c["ci_low"], c["ci_high"]) == pytest.approx((expected["ci_low"], expected["ci_high"]))
    assert c["p_vs_chance"] == pytest.approx(expected["p_value"]) and c["p_vs_chance"] < 0.01  # a real signal
    assert "p_vs_chance" in out["uno_c"] and "p_vs_chance" not in out["ibs"]  # the IBS has no "chance" value
    # Uno's C of a fold weighs its pairs by the fold's own censoring curve, not the pooled one
    t, e, r, s, g, hz = sv._checked(time, event, risk, surv, GRID, [3.0, 7.0])
    folds = sv.fold_stats(t, e, r, s, g, hz, 15, fold_of)
    assert folds["c_index"] == pytest.approx(per_fold)
    uno = [sv.uno_c(time[fold_of[r] == k], event[fold_of[r] == k], risk[r, fold_of[r] == k], tau=15)
           for r in range(2) for k in range(4)]
    assert folds["uno_c"] == pytest.approx(uno)
    assert folds["auc_at"].shape == (8, 2)
    for entry in [out["c_index"], out["uno_c"], out["ibs"], *out["auc_at"].values()]:
        assert 0.0 <= entry["ci_low"] <= entry["mean"] <= entry["ci_high"] <= 1.0


def test_more_noise_between_folds_widens_the_interval_where_a_bootstrap_of_fixed_risks_cannot_see_it():
    """Two runs with the same pooled ranking: one whose folds agree, one whose folds disagree."""
    time, event, risk, _, surv, fold_of = _data(1, repeats=1)
    steady = sv.summarize_time_to_return(time, event, risk, surv, GRID, horizons=[7], fold_of=fold_of)
    # flip the risk's sign in half of the folds: each fold's C moves far from the others
    flipped = np.where(np.isin(fold_of, (0, 1)), risk, -risk)
    shaky = sv.summarize_time_to_return(time, event, flipped, surv, GRID, horizons=[7], fold_of=fold_of)
    width = {k: v["c_index"]["ci_high"] - v["c_index"]["ci_low"] for k, v in (("steady", steady), ("shaky", shaky))}
    assert width["shaky"] > 3 * width["steady"]
    assert shaky["c_index"]["p_vs_chance"] > 0.05  # folds that disagree do not show "better than chance"


def test_the_paired_delta_over_folds_is_the_bench_tables_corrected_delta():
    time, event, good, noise, surv, fold_of = _data(2)
    d = paired_time_to_return_delta(time, event, (good, surv), (noise, surv), GRID, fold_of=fold_of)
    point, per_fold = c_index_fold_deltas(time, event, good, noise, fold_of)
    t = corrected_t(point, per_fold, fold_test_share(fold_of), 0.95)
    assert d["mean"] == pytest.approx(point) and d["p_value"] == pytest.approx(t["p_value"])
    assert (d["ci_low"], d["ci_high"]) == pytest.approx((t["ci_low"], t["ci_high"]))
    assert d["excludes_zero"] and d["ci_low"] > 0
    same = paired_time_to_return_delta(time, event, (good, surv), (good, surv), GRID, fold_of=fold_of)
    assert same["mean"] == 0 and not same["excludes_zero"] and same["p_value"] == 1.0
    ibs = paired_time_to_return_delta(time, event, (good, surv), (noise, surv), GRID, metric="ibs", fold_of=fold_of)
    assert ibs["mean"] == 0  # the same curves: the IBS cannot tell them apart, whatever the risks


def test_folds_that_do_not_match_the_predictions_are_refused():
    time, event, risk, _, surv, fold_of = _data(3)
    with pytest.raises(ToolkitError, match=r"fold_of must have the predictions' shape \(repeats, users\)"):
        sv.summarize_time_to_return(time, event, risk, surv, GRID, horizons=[7], fold_of=fold_of[:, :10])
