"""Intervals from the corrected resampled t, the sequential permutation p-value, and the wording fixes."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from toolkit.evaluation.baselines import shuffle_within, timing_strata
from toolkit.evaluation.metrics import (CORRECTED_METHOD, corrected_delta, corrected_t, fold_ids, holm, holm_over,
                                        summarize, fold_test_share)
from toolkit.evaluation.folds import Fold
from toolkit.evaluation.permutation import (STOP_AFTER, cost_line, expected_shuffles, sequential_null,
                                            sequential_p_value)


def test_corrected_t_by_hand():
    values = np.array([0.1, 0.2, 0.3])
    t = corrected_t(0.25, values, 0.5, 0.95)
    se = np.sqrt((1 / 3 + 0.5) * np.var(values, ddof=1))
    q = stats.t.ppf(0.975, 2)
    assert t["ci_low"] == pytest.approx(0.25 - q * se) and t["ci_high"] == pytest.approx(0.25 + q * se)
    assert t["p_value"] == pytest.approx(2 * stats.t.sf(0.25 / se, 2)) and t["folds"] == 3
    assert np.isnan(corrected_t(0.2, [0.2], 0.5, 0.95)["ci_low"])  # one fold: nothing to spread


def _folds(n, k, seed=0):
    rng = np.random.default_rng(seed)
    which = rng.permutation(np.arange(n) % k)
    return [Fold(0, j, np.flatnonzero(which != j), np.flatnonzero(which == j)) for j in range(k)]


def test_summarize_over_folds_keeps_the_point_and_widens_where_folds_disagree():
    rng = np.random.default_rng(1)
    y = np.zeros(150, dtype=bool)
    y[:15] = True
    folds = _folds(150, 5)
    scores = rng.random((1, 150))
    # each fold's model has its own offset for the positives: the fitting's noise a user bootstrap cannot see
    for j, f in enumerate(folds):
        scores[0, f.test[y[f.test]]] += (j - 2) * 0.3
    preds = (scores > 0.5).astype(int)
    fold_of = fold_ids(folds, 150, 1)
    boot = summarize(y, scores, preds, n_boot=300, seed=0)
    corrected = summarize(y, scores, preds, fold_of=fold_of)
    for name in boot:
        assert corrected[name]["mean"] == boot[name]["mean"]  # point estimates never move
    width = {k: v["ci_high"] - v["ci_low"] for k, v in (("boot", boot["roc_auc"]), ("t", corrected["roc_auc"]))}
    assert width["t"] > 1.5 * width["boot"]
    assert 0 <= corrected["roc_auc"]["ci_low"] and corrected["roc_auc"]["ci_high"] <= 1
    assert 0 < corrected["roc_auc"]["p_vs_chance"] <= 1
    assert fold_test_share(fold_of) == pytest.approx(30 / 120)


def test_corrected_delta_of_a_model_with_itself_is_zero_and_its_point_is_the_pooled_delta():
    rng = np.random.default_rng(2)
    y = rng.random(100) < 0.2
    folds = fold_ids(_folds(100, 4), 100, 1)
    a, b = rng.random(100), rng.random(100)
    same = corrected_delta(y, a, a, folds)
    assert same["mean"] == 0 and not same["excludes_zero"] and same["p_value"] == 1.0
    d = corrected_delta(y, a, b, folds)
    from sklearn.metrics import roc_auc_score
    assert d["mean"] == pytest.approx(roc_auc_score(y, a) - roc_auc_score(y, b))
    assert d["ci_low"] < d["mean"] < d["ci_high"]


def test_holm_runs_over_rows_and_columns_together():
    cells = {("r1", "roc"): 0.01, ("r1", "pr"): 0.04, ("r2", "roc"): 0.03, ("r2", "pr"): None}
    adjusted = holm_over(cells)
    expected = holm([0.01, 0.04, 0.03])
    assert adjusted[("r1", "roc")] == pytest.approx(expected[0]) == pytest.approx(0.03)
    assert adjusted[("r1", "pr")] == pytest.approx(expected[1]) and adjusted[("r2", "pr")] is None


def test_sequential_null_stops_after_h_exceedances_and_its_p_value_is_besag_cliffords():
    draws = iter([0.9, 0.1, 0.95, 0.99, 0.2, 0.91, 0.93] + [0.0] * 100)
    null = sequential_null(0.9, lambda: next(draws), 199)
    assert len(null) == 7 and (null >= 0.9).sum() == STOP_AFTER
    assert sequential_p_value(0.9, null) == pytest.approx(STOP_AFTER / 7)
    clear = sequential_null(2.0, lambda: 0.5, 199)
    assert len(clear) == 199 and sequential_p_value(2.0, clear) == pytest.approx(1 / 200)  # p < 0.01


def test_sequential_p_value_holds_its_level_and_is_cheap_under_the_null():
    rng = np.random.default_rng(3)
    ps, lengths = [], []
    for _ in range(2000):
        observed = rng.random()
        null = sequential_null(observed, rng.random, 199)
        ps.append(sequential_p_value(observed, null))
        lengths.append(len(null))
    ps = np.array(ps)
    for alpha in (0.01, 0.05, 0.1):
        assert (ps <= alpha).mean() <= alpha + 2 * np.sqrt(alpha * (1 - alpha) / len(ps))
    assert np.mean(lengths) < 1.5 * expected_shuffles(199)


def test_the_cost_line_gives_the_most_and_the_likely_cost_first():
    line = cost_line(199, 2.0, None, 12, questions=2)
    assert "2 questions x at most 199 shuffles" in line and "at most 796 s" in line
    assert f"about {2 * expected_shuffles(199) * 2} s where there is nothing to find" in line


def test_labels_shuffled_within_timing_strata_keep_each_stratums_positives():
    rng = np.random.default_rng(4)
    days = pd.Timestamp("2025-01-10") + pd.to_timedelta(rng.integers(0, 30, 80), unit="D")
    users = pd.DataFrame({"first_seen": days + pd.to_timedelta(rng.random(80), unit="D"), "day0": days,
                          "exposure_days": 7.0, "exposure_posts": 1})
    strata = timing_strata(users)
    assert len(np.unique(strata)) == 8
    y = rng.random(80) < 0.3
    shuffled = shuffle_within(rng, y, strata)
    for s in np.unique(strata):
        assert shuffled[strata == s].sum() == y[strata == s].sum()
    assert not np.array_equal(shuffled, y)


def _result(**changes):
    metric = {"mean": 0.6, "ci_low": 0.4, "ci_high": 0.8}
    result = {"name": "t", "data": {"labelled": 100, "positives": 10, "positive_rate": 0.1},
              "evaluation": "repeated stratified 3-fold x 1", "confidence": 0.95,
              "metrics": {n: dict(metric) for n in ("roc_auc", "pr_auc", "recall", "precision", "f1", "accuracy",
                                                    "balanced_accuracy")},
              "threshold": {"rule": "max_f1", "mean": 0.876, "final_model": 0.5, "fallbacks": 3,
                            "min_validation_positives": 3},
              "folds": [{"threshold_fallback": True}] * 3,
              "intervals": {"method": CORRECTED_METHOD},
              "baselines": {"exposure": {"roc_auc": {"mean": 0.435, "ci_low": 0.3, "ci_high": 0.55},
                                         "pr_auc": dict(metric), "below_chance": True,
                                         "delta_roc_auc": {"mean": 0.337, "ci_low": 0.1, "ci_high": 0.5}}}}
    result.update(changes)
    return result


def _text(table) -> str:
    from io import StringIO

    from rich.console import Console

    out = StringIO()
    Console(file=out, width=400).print(table)
    return out.getvalue()


def test_a_threshold_no_fold_chose_is_not_printed_as_if_it_held():
    from toolkit.console import metrics_table

    caption = metrics_table(_result()).caption
    assert "'max_f1' never chosen: all 3 folds fell back" in caption
    assert not caption.startswith("threshold 'max_f1' (on validation data): mean 0.876")


def test_a_delta_over_a_baseline_below_chance_is_marked():
    from toolkit.console import baselines_table

    table = baselines_table(_result())
    assert "exposure alone (days observed, posts) †" in _text(table)
    assert "ranks below chance" in table.caption and CORRECTED_METHOD in table.caption


def test_permutation_rows_name_the_question_each_p_value_answers():
    from toolkit.console import metrics_table

    null = {"q05": 0.4, "q50": 0.5, "q95": 0.6, "mean": 0.5}
    perm = {"n": 30, "roc_auc": {"observed": 0.6, "p_value": 0.2, "null": null, "shuffles": 25,
                                 "question": "better than chance", "shuffled": "labels across all labelled users"},
            "delta_roc_auc": {"baseline": "timing", "observed": 0.1, "p_value": 1.0, "null": null, "shuffles": 5,
                              "question": "adds to timing", "shuffled": "labels within timing strata"}}
    text = _text(metrics_table(_result(permutation=perm, folds=[{}] * 3)))
    assert "roc_auc, permutation p (better than chance)" in text
    assert "Δ roc_auc over timing, permutation p (adds to timing)" in text
    assert "over 5 shuffles of labels within timing strata" in text
