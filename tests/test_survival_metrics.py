"""Survival metrics, Kaplan-Meier and the log-rank test: hand computations, weights, and scikit-survival."""

from __future__ import annotations

import numpy as np
import pytest

from toolkit.errors import ToolkitError
from toolkit.evaluation import kaplan_meier as km
from toolkit.evaluation import survival as sv


def _data(seed: int, n: int = 250):
    """Discrete times with many ties, a risk with tied values, and a proportional-hazards survival grid.

    The largest time is always a seen return, so scikit-survival's censoring weights stay finite.
    """
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    t_event = np.ceil(rng.exponential(10 * np.exp(-0.5 * x)))
    t_cens = np.ceil(rng.uniform(1, 30, size=n))
    time, event = np.minimum(t_event, t_cens), t_event <= t_cens
    time[np.argmax(time)] += 1
    event[np.argmax(time)] = True
    risk = np.round(x + 0.5 * rng.normal(size=n), 1)
    grid = np.arange(2.0, 20.0)
    surv = np.exp(-np.outer(np.exp(0.5 * x), grid) / 10)
    group = rng.integers(0, 3, size=n)
    return time, event, risk, grid, surv, group


# --- hand computations --------------------------------------------------------------------------


def test_c_index_by_hand():
    # Users A-D as (time, seen). Comparable pairs: A with B, C and D (followed longer than A's return),
    # and C with D (censored at C's return time); B's censoring makes no pair of its own.
    time = [1, 2, 3, 3]
    event = [True, False, True, False]
    risk = [0.9, 0.8, 0.1, 0.5]
    # A beats B, C, D (3 wins); C vs D: C's risk 0.1 < 0.5, a loss. 3 of 4.
    assert sv.c_index(time, event, risk) == pytest.approx(3 / 4)
    assert sv.c_index(time, event, [0.9, 0.8, 0.5, 0.5]) == pytest.approx(3.5 / 4)


def test_c_index_is_one_for_a_perfect_ranking_and_zero_for_the_reverse():
    time, event, *_ = _data(0)
    perfect = -time + 0.5 * event  # a return seen at t ranks above a censoring at t
    assert sv.c_index(time, event, perfect) == pytest.approx(1.0)
    assert sv.c_index(time, event, -perfect) == pytest.approx(0.0)


def test_kaplan_meier_by_hand():
    # 5 users: returns at 1, 3, 3; censored at 2 and 4.
    curve = km.kaplan_meier([1, 2, 3, 3, 4], [1, 0, 1, 1, 0])
    assert curve.time.tolist() == [1, 2, 3, 4]
    assert curve.at_risk.tolist() == [5, 4, 3, 1]
    np.testing.assert_allclose(curve.survival, [4 / 5, 4 / 5, 4 / 5 * 1 / 3, 4 / 5 * 1 / 3])
    assert (curve.ci_low <= curve.survival).all() and (curve.survival <= curve.ci_high).all()
    assert curve.at([0, 1, 2.5, 10]).tolist() == pytest.approx([1.0, 0.8, 0.8, 4 / 15])


def test_censoring_weights_by_hand():
    # The return at 1 leaves 3 followed; one of them is censored at 2 (G = 2/3); the last one at 4 (G = 0).
    g = km.censoring_survival(np.array([1.0, 2, 3, 4]), np.array([True, False, True, False]), np.ones((1, 4)))
    np.testing.assert_allclose(g(np.array([0.0, 1, 2, 3, 4]))[0], [1, 1, 2 / 3, 2 / 3, 0])


# --- weights are frequencies --------------------------------------------------------------------


def test_integer_weights_equal_repeating_users():
    time, event, risk, grid, surv, _ = _data(1, n=60)
    counts = np.random.default_rng(5).integers(0, 3, size=len(time)).astype(float)
    counts[np.argmax(time)] = 1  # keep the follow-up's end
    rep = np.repeat(np.arange(len(time)), counts.astype(int))
    t2, e2, r2, s2 = time[rep], event[rep], risk[rep], surv[rep]
    assert sv.c_index(time, event, risk, weights=counts) == pytest.approx(sv.c_index(t2, e2, r2))
    assert sv.uno_c(time, event, risk, tau=15, weights=counts) == pytest.approx(sv.uno_c(t2, e2, r2, tau=15))
    np.testing.assert_allclose(sv.auc_at(time, event, risk, [3, 7], weights=counts), sv.auc_at(t2, e2, r2, [3, 7]))
    assert sv.ibs(time, event, surv, grid, weights=counts) == pytest.approx(sv.ibs(t2, e2, s2, grid))
    block = np.stack([counts, np.ones(len(time))])
    np.testing.assert_allclose(sv.c_index(time, event, risk, weights=block),
                               [sv.c_index(t2, e2, r2), sv.c_index(time, event, risk)])


# --- scikit-survival ----------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_metrics_match_scikit_survival(seed):
    sksurv_metrics = pytest.importorskip("sksurv.metrics")
    from sksurv.util import Surv

    time, event, risk, grid, surv, _ = _data(seed)
    y = Surv.from_arrays(event, time)
    tau = float(np.quantile(time, 0.8))
    horizons = [3.0, 7.0, 14.0]
    assert sv.c_index(time, event, risk) == pytest.approx(
        sksurv_metrics.concordance_index_censored(event, time, risk)[0], abs=1e-6)
    assert sv.uno_c(time, event, risk, tau=tau) == pytest.approx(
        sksurv_metrics.concordance_index_ipcw(y, y, risk, tau=tau)[0], abs=1e-6)
    assert sv.uno_c(time, event, risk) == pytest.approx(sksurv_metrics.concordance_index_ipcw(y, y, risk)[0], abs=1e-6)
    np.testing.assert_allclose(sv.auc_at(time, event, risk, horizons),
                               sksurv_metrics.cumulative_dynamic_auc(y, y, risk, horizons)[0], atol=1e-6)
    per_horizon = 1 - surv[:, [0, 5, 12]]  # the columns of times 2, 7 and 14
    np.testing.assert_allclose(sv.auc_at(time, event, per_horizon, [2.0, 7.0, 14.0]),
                               sksurv_metrics.cumulative_dynamic_auc(y, y, per_horizon, [2.0, 7.0, 14.0])[0],
                               atol=1e-6)
    np.testing.assert_allclose(sv.brier_at(time, event, surv, grid),
                               sksurv_metrics.brier_score(y, y, surv, grid)[1], atol=1e-6)
    assert sv.ibs(time, event, surv, grid) == pytest.approx(
        sksurv_metrics.integrated_brier_score(y, y, surv, grid), abs=1e-6)


@pytest.mark.parametrize("seed", [0, 3])
def test_kaplan_meier_and_logrank_match_scikit_survival(seed):
    pytest.importorskip("sksurv")
    from sksurv.compare import compare_survival
    from sksurv.nonparametric import kaplan_meier_estimator
    from sksurv.util import Surv

    time, event, _, _, _, group = _data(seed)
    curve = km.kaplan_meier(time, event)
    times, prob, band = kaplan_meier_estimator(event, time, conf_type="log-log")
    np.testing.assert_allclose(curve.time, times)
    np.testing.assert_allclose(curve.survival, prob, atol=1e-6)
    np.testing.assert_allclose(curve.ci_low, band[0], atol=1e-6)
    np.testing.assert_allclose(curve.ci_high, band[1], atol=1e-6)
    test = km.logrank(time, event, group)
    stat, p = compare_survival(Surv.from_arrays(event, time), group)
    assert test["statistic"] == pytest.approx(stat, abs=1e-6) and test["p_value"] == pytest.approx(p, abs=1e-6)
    assert test["df"] == 2


def test_logrank_sees_a_difference_and_not_a_non_difference():
    rng = np.random.default_rng(0)
    n = 400
    group = np.repeat([0, 1], n // 2)
    time = np.ceil(rng.exponential(np.where(group == 1, 5.0, 15.0)))
    assert km.logrank(time, np.ones(n, bool), group)["p_value"] < 1e-6
    same = np.ceil(rng.exponential(10.0, size=n))
    assert km.logrank(same, np.ones(n, bool), group)["p_value"] > 1e-3


# --- bootstrap summary --------------------------------------------------------------------------


def test_summary_shape_and_intervals():
    time, event, risk, grid, surv, _ = _data(4)
    noisy = risk + np.random.default_rng(1).normal(size=len(risk))
    out = sv.summarize_time_to_return(time, event, np.stack([risk, noisy]), np.stack([surv, surv]), grid,
                                horizons=[3, 7, 14], tau=15, n_boot=100, seed=7)
    assert set(out) == {"c_index", "uno_c", "auc_at", "ibs"}
    assert list(out["auc_at"]) == ["3", "7", "14"]
    for entry in [out["c_index"], out["uno_c"], out["ibs"], *out["auc_at"].values()]:
        assert set(entry) == {"mean", "ci_low", "ci_high"}
        assert entry["ci_low"] <= entry["mean"] <= entry["ci_high"]
    mean_c = (sv.c_index(time, event, risk) + sv.c_index(time, event, noisy)) / 2
    assert out["c_index"]["mean"] == pytest.approx(mean_c)
    again = sv.summarize_time_to_return(time, event, np.stack([risk, noisy]), np.stack([surv, surv]), grid,
                                  horizons=[3, 7, 14], tau=15, n_boot=100, seed=7)
    assert again == out


@pytest.mark.parametrize("change, message", [
    (dict(horizons=[4.5]), "horizons must be among times"),
    (dict(times=[5.0, 3.0]), "strictly increasing"),
    (dict(times=[2.0, 500.0]), "follow-up"),
    (dict(n_boot=0), "n_boot"),
])
def test_summary_refuses_bad_input(change, message):
    time, event, risk, grid, surv, _ = _data(0, n=40)
    args = dict(times=grid, horizons=[3, 7], n_boot=10)
    args.update(change)
    if "times" in change:
        surv = surv[:, : len(change["times"])]
    with pytest.raises(ToolkitError, match=message):
        sv.summarize_time_to_return(time, event, risk, surv, **args)


def test_bad_survival_data_is_refused():
    with pytest.raises(ToolkitError, match="event must hold only"):
        sv.c_index([1, 2], [0, 2], [0.1, 0.2])
    with pytest.raises(ToolkitError, match="risk must have shape"):
        sv.c_index([1, 2], [0, 1], [0.1])
    with pytest.raises(ToolkitError, match="at least two groups"):
        km.logrank([1, 2], [1, 1], [0, 0])


# --- paired differences -------------------------------------------------------------------------


def test_paired_survival_delta():
    from toolkit.evaluation.time_to_return_compare import paired_time_to_return_delta, paired_time_to_return_draws

    time, event, risk, grid, surv, _ = _data(5)
    rng = np.random.default_rng(2)
    noise_risk = rng.normal(size=len(risk))
    noise_surv = np.repeat(surv.mean(axis=0, keepdims=True), len(risk), axis=0)
    good, bad = (risk, surv), (noise_risk, noise_surv)
    point, draws = paired_time_to_return_draws(time, event, good, good, grid, n_boot=50)
    assert point == 0.0 and (draws == 0).all()
    delta = paired_time_to_return_delta(time, event, good, bad, grid, n_boot=200)
    assert delta["mean"] == pytest.approx(sv.c_index(time, event, risk) - sv.c_index(time, event, noise_risk))
    assert delta["excludes_zero"] and delta["ci_low"] > 0 and delta["p_value"] < 0.05
    auc = paired_time_to_return_delta(time, event, good, bad, grid, metric="auc_at:7", n_boot=50)
    expected = sv.auc_at(time, event, 1 - surv[:, 5], [7.0]) - sv.auc_at(time, event, 1 - noise_surv[:, 5], [7.0])
    assert auc["mean"] == pytest.approx(float(expected[0]))
    brier = paired_time_to_return_delta(time, event, good, bad, grid, metric="ibs", n_boot=50)
    assert brier["mean"] == pytest.approx(sv.ibs(time, event, surv, grid) - sv.ibs(time, event, noise_surv, grid))
    with pytest.raises(ToolkitError, match="auc_at:<one of"):
        paired_time_to_return_delta(time, event, good, bad, grid, metric="auc_at:6.5", n_boot=10)


def _pairwise_c(time, event, risk, w, row_weight):
    """Every pair compared explicitly: the definition the fast walk over times must equal."""
    num = den = 0.0
    for i in range(len(time)):
        if not event[i]:
            continue
        for j in range(len(time)):
            if time[j] > time[i] or (time[j] == time[i] and not event[j]):
                pair = w[i] * row_weight[i] * w[j]
                den += pair
                num += pair * ((risk[i] > risk[j]) + 0.5 * (risk[i] == risk[j]))
    return num / den


def test_weighted_concordance_equals_the_pairwise_definition():
    time, event, risk, *_ = _data(6, n=70)
    rng = np.random.default_rng(3)
    w = rng.uniform(0, 2, size=(3, len(time)))
    row = rng.uniform(0.5, 1.5, size=(3, len(time)))
    got = sv._concordance(time, event, risk, w, row)
    np.testing.assert_allclose(got, [_pairwise_c(time, event, risk, w[b], row[b]) for b in range(3)], rtol=1e-12)


def test_curves_by_group():
    curves, test = km.curves_by_group([1, 2, 3, 1, 5, 6], [1, 1, 0, 1, 0, 1], ["a", "a", "a", "b", "b", "b"])
    assert list(curves) == ["a", "b"]
    np.testing.assert_allclose(curves["a"].survival, [2 / 3, 1 / 3, 1 / 3])
    assert curves["b"].time.tolist() == [1, 5, 6] and test["df"] == 1
    assert km.curves_by_group([1, 2], [1, 1], ["a", "a"])[1] is None
