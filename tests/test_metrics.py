"""Metrics and bootstrap intervals, checked against scikit-learn and brute force."""

import math

import numpy as np
import pytest
from sklearn import metrics as skm

from toolkit.errors import ToolkitError
from toolkit.evaluation import metrics
from toolkit.evaluation.metrics import (
    METRIC_NAMES,
    paired_delta,
    point_metrics,
    summarize,
    weighted_average_precision,
    weighted_roc_auc,
)


def make_data(n, *, prevalence=0.08, signal=1.0, decimals=1, repeats=2, seed=0):
    """Rare-positive labels with noisy scores; rounding creates many ties."""
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < prevalence).astype(int)
    y[:2] = [1, 0]  # both classes always present
    scores = np.round(rng.normal(size=(repeats, n)) + signal * y, decimals)
    preds = (scores >= 1.0).astype(int)
    return y, scores, preds


def fast_metrics(y, scores, preds):
    """scikit-learn for the AUCs, plain counts for the rest (those are checked against
    scikit-learn in test_point_metrics_match_sklearn; its input checks are slow)."""
    y, preds = y.astype(bool), preds.astype(bool)
    tp, fp = np.sum(y & preds), np.sum(~y & preds)
    pos, neg = y.sum(), (~y).sum()
    tn = neg - fp
    return {
        "roc_auc": skm.roc_auc_score(y, scores),
        "pr_auc": skm.average_precision_score(y, scores),
        "recall": tp / pos,
        "precision": tp / (tp + fp) if tp + fp else 0.0,
        "f1": 2 * tp / (2 * tp + fp + pos - tp),
        "accuracy": (tp + tn) / len(y),
        "balanced_accuracy": (tp / pos + tn / neg) / 2,
    }


def sklearn_metrics(y, scores, preds):
    return {
        "roc_auc": skm.roc_auc_score(y, scores),
        "pr_auc": skm.average_precision_score(y, scores),
        "recall": skm.recall_score(y, preds, zero_division=0),
        "precision": skm.precision_score(y, preds, zero_division=0),
        "f1": skm.f1_score(y, preds, zero_division=0),
        "accuracy": skm.accuracy_score(y, preds),
        "balanced_accuracy": skm.balanced_accuracy_score(y, preds),
    }


# --- weighted kernels -------------------------------------------------------


@pytest.mark.parametrize("seed", range(6))
def test_weighted_auc_and_ap_match_sklearn_with_integer_weights(seed):
    rng = np.random.default_rng(seed)
    n = 200
    y = (rng.random(n) < 0.15).astype(int)
    y[:2] = [1, 0]
    scores = rng.integers(0, 12, size=n) / 4.0  # heavy ties, including across classes
    weights = rng.integers(0, 4, size=(8, n))  # zeros included, as in a bootstrap

    auc = weighted_roc_auc(y, scores, weights)
    ap = weighted_average_precision(y, scores, weights)

    assert auc.shape == ap.shape == (8,)
    for b, w in enumerate(weights):
        assert auc[b] == pytest.approx(skm.roc_auc_score(y, scores, sample_weight=w), abs=1e-12)
        assert ap[b] == pytest.approx(skm.average_precision_score(y, scores, sample_weight=w), abs=1e-12)


@pytest.mark.parametrize("decimals", [0, 1, 3, 12])
def test_unit_weights_match_unweighted_sklearn(decimals):
    y, scores, _ = make_data(500, decimals=decimals, repeats=1, seed=decimals)
    s = scores[0]
    ones = np.ones(len(y))
    assert weighted_roc_auc(y, s, ones) == pytest.approx(skm.roc_auc_score(y, s), abs=1e-12)
    assert weighted_average_precision(y, s, ones) == pytest.approx(skm.average_precision_score(y, s), abs=1e-12)


def test_weighted_metrics_are_nan_without_both_classes_of_weight():
    y = np.array([1, 1, 0, 0])
    s = np.array([0.9, 0.2, 0.5, 0.1])
    no_negatives = np.array([1, 1, 0, 0])
    assert math.isnan(weighted_roc_auc(y, s, no_negatives))
    assert weighted_average_precision(y, s, no_negatives) == 1.0
    assert math.isnan(weighted_average_precision(y, s, np.array([0, 0, 1, 1])))


# --- point metrics ----------------------------------------------------------


@pytest.mark.parametrize("seed", range(4))
def test_point_metrics_match_sklearn(seed):
    y, scores, preds = make_data(400, seed=seed, repeats=1)
    ours = point_metrics(y, scores[0], preds[0])
    expected = sklearn_metrics(y, scores[0], preds[0])
    assert set(ours) == set(METRIC_NAMES)
    for name in METRIC_NAMES:
        assert ours[name] == pytest.approx(expected[name], abs=1e-12), name


def test_no_predicted_positives_gives_zero_precision_recall_f1():
    y, scores, _ = make_data(100, repeats=1)
    values = point_metrics(y, scores[0], np.zeros(100, dtype=int))
    assert values["precision"] == 0.0
    assert values["recall"] == 0.0
    assert values["f1"] == 0.0
    assert values["balanced_accuracy"] == 0.5
    assert values["accuracy"] == pytest.approx(1 - y.mean())


def test_single_class_y_gives_nan_aucs():
    y = np.zeros(50, dtype=int)
    scores = np.linspace(0, 1, 50)
    values = point_metrics(y, scores, scores > 0.5)
    assert math.isnan(values["roc_auc"])
    assert math.isnan(values["pr_auc"])
    assert math.isnan(values["recall"])
    assert math.isnan(values["balanced_accuracy"])
    assert values["precision"] == 0.0
    assert values["accuracy"] == pytest.approx(np.mean(scores <= 0.5))

    summary = summarize(y, scores, scores > 0.5, n_boot=20)
    assert all(math.isnan(summary["roc_auc"][k]) for k in ("mean", "ci_low", "ci_high"))


@pytest.mark.parametrize("bad", [
    dict(y=[0, 1, 2], scores=[0.1, 0.2, 0.3], preds=[0, 1, 1]),
    dict(y=[0, 1, 1], scores=[0.1, np.nan, 0.3], preds=[0, 1, 1]),
    dict(y=[0, 1, 1], scores=[0.1, 0.2], preds=[0, 1, 1]),
    dict(y=[0, 1, 1], scores=[0.1, 0.2, 0.3], preds=[0.1, 0.2, 0.3]),
])
def test_malformed_inputs_are_rejected(bad):
    with pytest.raises(ToolkitError):
        point_metrics(bad["y"], bad["scores"], bad["preds"])


# --- summarize --------------------------------------------------------------


def test_summary_mean_is_mean_over_repeats_of_full_sample_metric():
    y, scores, preds = make_data(600, repeats=3)
    summary = summarize(y, scores, preds, n_boot=50)
    per_repeat = [sklearn_metrics(y, s, p) for s, p in zip(scores, preds)]
    for name in METRIC_NAMES:
        assert summary[name]["mean"] == pytest.approx(np.mean([m[name] for m in per_repeat]), abs=1e-12)


def test_summary_matches_brute_force_stratified_bootstrap():
    """Materialize each resample, score it with scikit-learn and compare the percentiles."""
    y, scores, preds = make_data(120, repeats=2, seed=3)
    n_boot, seed = 40, 11
    summary = summarize(y, scores, preds, n_boot=n_boot, seed=seed)

    y_bool = y.astype(bool)
    pos, neg = np.flatnonzero(y_bool), np.flatnonzero(~y_bool)
    stats = {name: [] for name in METRIC_NAMES}
    for w_pos, w_neg in metrics._bootstrap_blocks(y_bool, n_boot, seed):
        for cp, cn in zip(w_pos.astype(int), w_neg.astype(int)):
            # Stratified: each class keeps its size in every resample.
            assert cp.sum() == len(pos) and cn.sum() == len(neg)
            idx = np.r_[np.repeat(pos, cp), np.repeat(neg, cn)]
            per_repeat = [fast_metrics(y[idx], s[idx], p[idx]) for s, p in zip(scores, preds)]
            for name in METRIC_NAMES:
                stats[name].append(np.mean([m[name] for m in per_repeat]))
    for name in METRIC_NAMES:
        low, high = np.quantile(stats[name], [0.025, 0.975])
        assert summary[name]["ci_low"] == pytest.approx(low, abs=1e-12), name
        assert summary[name]["ci_high"] == pytest.approx(high, abs=1e-12), name


def test_perfect_predictions_collapse_interval_to_one():
    y = np.array([1] * 10 + [0] * 190)
    first = np.where(y == 1, 0.9, 0.1) + np.linspace(0, 0.05, 200)
    second = np.where(y == 1, 0.6, 0.4)  # ties within each class, none across
    summary = summarize(y, np.stack([first, second]), np.stack([y, y]), n_boot=200)
    for name in METRIC_NAMES:
        assert summary[name] == {"mean": 1.0, "ci_low": 1.0, "ci_high": 1.0}, name


def test_interval_contains_estimate_and_narrows_with_more_users():
    small = summarize(*make_data(400, seed=5), n_boot=300)
    large = summarize(*make_data(8000, seed=5), n_boot=300)
    for summary in (small, large):
        for name in METRIC_NAMES:
            s = summary[name]
            assert s["ci_low"] <= s["mean"] <= s["ci_high"], name
            assert s["ci_low"] < s["ci_high"], name
    for name in ("roc_auc", "pr_auc", "recall", "f1"):
        small_width = small[name]["ci_high"] - small[name]["ci_low"]
        large_width = large[name]["ci_high"] - large[name]["ci_low"]
        assert large_width < 0.6 * small_width, name


def test_summary_is_deterministic_given_seed():
    data = make_data(300)
    assert summarize(*data, n_boot=100, seed=7) == summarize(*data, n_boot=100, seed=7)
    assert summarize(*data, n_boot=100, seed=7) != summarize(*data, n_boot=100, seed=8)


def test_one_dimensional_input_is_one_repeat():
    y, scores, preds = make_data(300, repeats=1)
    assert summarize(y, scores[0], preds[0], n_boot=50) == summarize(y, scores, preds, n_boot=50)


def test_wider_confidence_gives_wider_interval():
    data = make_data(500)
    narrow = summarize(*data, n_boot=200, confidence=0.5)["roc_auc"]
    wide = summarize(*data, n_boot=200, confidence=0.99)["roc_auc"]
    assert wide["ci_low"] < narrow["ci_low"] < narrow["ci_high"] < wide["ci_high"]


@pytest.mark.parametrize("kwargs", [dict(confidence=1.0), dict(confidence=0), dict(n_boot=0)])
def test_summary_rejects_bad_settings(kwargs):
    with pytest.raises(ToolkitError):
        summarize(*make_data(50), **kwargs)


def test_summary_rejects_mismatched_preds():
    y, scores, preds = make_data(50)
    with pytest.raises(ToolkitError):
        summarize(y, scores, preds[:1])


# --- paired_delta -----------------------------------------------------------


@pytest.mark.parametrize("metric", ["roc_auc", "pr_auc"])
def test_model_against_itself_has_zero_delta_and_zero_width(metric):
    y, scores, _ = make_data(500)
    result = paired_delta(y, scores, scores.copy(), metric=metric, n_boot=200)
    assert result["mean"] == 0.0
    assert result["ci_low"] == 0.0 and result["ci_high"] == 0.0
    assert result["excludes_zero"] is False


@pytest.mark.parametrize("metric", ["roc_auc", "pr_auc"])
def test_clearly_better_model_excludes_zero(metric):
    rng = np.random.default_rng(4)
    y, good, _ = make_data(3000, signal=2.0, decimals=3)
    weak = good + rng.normal(scale=3.0, size=good.shape)  # same model with much more noise
    better = paired_delta(y, good, weak, metric=metric, n_boot=300)
    assert better["mean"] > 0 and better["ci_low"] > 0 and better["excludes_zero"] is True
    worse = paired_delta(y, weak, good, metric=metric, n_boot=300)
    assert worse["ci_high"] < 0 and worse["excludes_zero"] is True
    assert worse["mean"] == pytest.approx(-better["mean"])


def test_paired_delta_matches_summaries_and_paired_brute_force():
    y, a, preds = make_data(150, seed=9)
    b = np.round(a + np.random.default_rng(1).normal(scale=0.7, size=a.shape), 1)
    result = paired_delta(y, a, b, n_boot=40, seed=2)
    expected_mean = summarize(y, a, preds, n_boot=10)["roc_auc"]["mean"] - summarize(y, b, preds, n_boot=10)["roc_auc"]["mean"]
    assert result["mean"] == pytest.approx(expected_mean, abs=1e-12)

    y_bool = y.astype(bool)
    pos, neg = np.flatnonzero(y_bool), np.flatnonzero(~y_bool)
    deltas = []
    for w_pos, w_neg in metrics._bootstrap_blocks(y_bool, 40, 2):
        for cp, cn in zip(w_pos.astype(int), w_neg.astype(int)):
            idx = np.r_[np.repeat(pos, cp), np.repeat(neg, cn)]
            deltas.append(np.mean([skm.roc_auc_score(y[idx], sa[idx]) - skm.roc_auc_score(y[idx], sb[idx])
                                   for sa, sb in zip(a, b)]))
    low, high = np.quantile(deltas, [0.025, 0.975])
    assert result["ci_low"] == pytest.approx(low, abs=1e-12)
    assert result["ci_high"] == pytest.approx(high, abs=1e-12)


def test_paired_delta_rejects_threshold_metrics():
    y, scores, _ = make_data(50)
    with pytest.raises(ToolkitError, match="score metrics"):
        paired_delta(y, scores, scores, metric="f1")


def test_paired_delta_takes_its_interval_from_paired_delta_draws():
    y, a, _ = make_data(80)
    b = a + np.random.default_rng(5).normal(0, 0.5, a.shape)
    point, draws = metrics.paired_delta_draws(y, a, b, n_boot=120, seed=3)
    result = paired_delta(y, a, b, n_boot=120, seed=3, confidence=0.9)
    assert result["mean"] == point
    assert (result["ci_low"], result["ci_high"]) == pytest.approx(tuple(np.quantile(draws, [0.05, 0.95])), abs=1e-12)


@pytest.mark.parametrize("function", [paired_delta, metrics.paired_delta_draws])
def test_both_paired_deltas_refuse_the_same_inputs(function):
    y, scores, _ = make_data(50)
    broken = scores.copy()
    broken[0, 3] = np.nan
    with pytest.raises(ToolkitError, match="scores must be finite"):
        function(y, scores, broken)
    with pytest.raises(ToolkitError, match="n_boot must be a positive integer"):
        function(y, scores, scores, n_boot=0)
    with pytest.raises(ToolkitError, match="score metrics"):
        function(y, scores, scores, metric="recall")
