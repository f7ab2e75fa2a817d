"""Threshold rules, checked against a brute-force search with scikit-learn."""

import numpy as np
import pytest
from sklearn import metrics as skm

from toolkit.errors import ToolkitError
from toolkit.evaluation.thresholds import (
    FALLBACK_THRESHOLD,
    THRESHOLD_RULES,
    choose_threshold,
    choose_threshold_info,
    validate_threshold_rule,
)


def make_validation(n=300, seed=0, decimals=2):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.1).astype(int)
    y[:2] = [1, 0]
    scores = np.round(rng.random(n) * 0.7 + 0.3 * y, decimals)
    return y, scores


def f1(y, pred):
    # Plain counts: this runs once per candidate, and scikit-learn's input
    # checks would dominate the test's run time.
    y, pred = np.asarray(y, dtype=bool), np.asarray(pred, dtype=bool)
    tp = np.sum(y & pred)
    return 2 * tp / (pred.sum() + y.sum())


def youden(y, pred):
    y, pred = np.asarray(y, dtype=bool), np.asarray(pred, dtype=bool)
    return np.mean(pred[y]) - np.mean(pred[~y])


def brute_force_best(y, scores, objective):
    """Try every distinct score, highest first; keep the first strict best."""
    best_t, best_v = None, -np.inf
    for t in np.unique(scores)[::-1]:
        value = objective(y, (scores >= t).astype(int))
        if value > best_v + 1e-12:
            best_t, best_v = t, value
    return best_t, best_v


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("decimals", [1, 2, 6])
def test_max_f1_matches_brute_force(seed, decimals):
    y, scores = make_validation(seed=seed, decimals=decimals)
    threshold = choose_threshold(y, scores, "max_f1")
    expected_t, expected_f1 = brute_force_best(y, scores, f1)
    assert threshold == expected_t
    assert skm.f1_score(y, scores >= threshold) == pytest.approx(expected_f1)


@pytest.mark.parametrize("seed", range(5))
def test_youden_matches_brute_force(seed):
    y, scores = make_validation(seed=seed)
    threshold = choose_threshold(y, scores, "youden")
    expected_t, expected_j = brute_force_best(y, scores, youden)
    assert threshold == expected_t
    pred = scores >= threshold
    assert skm.recall_score(y, pred) - np.mean(pred[y == 0]) == pytest.approx(expected_j)


@pytest.mark.parametrize("rule, y, scores", [
    # F1 is 2/3 at 0.9 (TP 1, FP 0) and again at 0.6 (TP 2, FP 2).
    ("max_f1", [1, 0, 0, 1, 0], [0.9, 0.8, 0.7, 0.6, 0.1]),
    # J is 0.5 at 0.9 (TPR 1/2, FPR 0) and again at 0.7 (TPR 1, FPR 1/2).
    ("youden", [1, 0, 1, 0], [0.9, 0.8, 0.7, 0.1]),
])
def test_equally_good_thresholds_resolve_to_the_highest(rule, y, scores):
    assert choose_threshold(y, scores, rule) == 0.9


def test_no_threshold_between_scores_beats_the_chosen_one():
    # Midpoints between distinct scores and values beyond the range are equivalent
    # to, or worse than, the candidates the rule searches.
    y, scores = make_validation(seed=3)
    best = skm.f1_score(y, scores >= choose_threshold(y, scores, "max_f1"))
    distinct = np.unique(scores)
    for t in np.r_[(distinct[1:] + distinct[:-1]) / 2, distinct[0] - 1, distinct[-1] + 1]:
        assert f1(y, scores >= t) <= best + 1e-12


@pytest.mark.parametrize("target", [0.5, 0.8, 0.95, 1.0])
@pytest.mark.parametrize("seed", range(3))
def test_recall_rule_picks_highest_threshold_reaching_target(target, seed):
    y, scores = make_validation(seed=seed)
    threshold = choose_threshold(y, scores, f"recall@{target}")
    assert threshold in scores
    assert skm.recall_score(y, scores >= threshold) >= target
    higher = np.unique(scores[scores > threshold])
    if len(higher):
        # The next distinct score up already falls short of the target.
        assert skm.recall_score(y, scores >= higher[0]) < target


def test_recall_target_met_exactly_is_accepted():
    y = np.array([1, 1, 1, 1, 1, 0, 0])
    scores = np.array([0.9, 0.8, 0.7, 0.6, 0.1, 0.5, 0.05])
    assert choose_threshold(y, scores, "recall@0.8") == 0.6


def test_fixed_threshold_is_used_as_given_and_never_falls_back():
    choice = choose_threshold_info([0, 0, 0], [0.1, 0.2, 0.3], 0.3)
    assert choice.threshold == 0.3 and choice.fell_back is False


@pytest.mark.parametrize("rule", ["max_f1", "youden", "recall@0.8"])
def test_no_positives_falls_back_to_half(rule):
    choice = choose_threshold_info([0, 0, 0, 0], [0.1, 0.9, 0.3, 0.2], rule)
    assert choice.threshold == FALLBACK_THRESHOLD == 0.5
    assert choice.fell_back is True
    assert choose_threshold([0, 0, 0, 0], [0.1, 0.9, 0.3, 0.2], rule) == 0.5


def test_youden_without_negatives_falls_back_but_max_f1_does_not():
    y, scores = [1, 1, 1], [0.2, 0.6, 0.4]
    assert choose_threshold_info(y, scores, "youden").fell_back is True
    f1_choice = choose_threshold_info(y, scores, "max_f1")
    assert f1_choice.fell_back is False and f1_choice.threshold == 0.2


def test_threshold_reproduces_predictions_for_float32_scores():
    y, scores = make_validation(seed=1, decimals=6)
    scores32 = scores.astype(np.float32)
    threshold = choose_threshold(y, scores32, "max_f1")
    expected_t, _ = brute_force_best(y, scores32, f1)
    assert np.array_equal(scores32 >= threshold, scores32 >= expected_t)


@pytest.mark.parametrize("rule", ["max_f1", "youden", "recall@0.8", "recall@1", 0.5, 0.01, np.float64(0.3)])
def test_valid_rules_pass_validation(rule):
    assert validate_threshold_rule(rule) is None


@pytest.mark.parametrize("rule, fragment", [
    ("max-f1", "Did you mean 'max_f1'?"),
    ("recall@1.5", "'1.5'"),
    ("recall@abc", "'abc'"),
    ("recall@0", "'0'"),
    (1.0, "Got 1.0"),
    (0, "Got 0"),
    (True, "Got True"),
    (None, "Got None"),
    ("precisoin@0.5", "'precisoin@0.5'"),
])
def test_invalid_rules_say_what_was_expected_and_got(rule, fragment):
    message = validate_threshold_rule(rule)
    assert message is not None and fragment in message
    assert "(0, 1" in message
    with pytest.raises(ToolkitError, match="threshold|recall"):
        choose_threshold([0, 1], [0.2, 0.8], rule)


def test_rules_table_names_every_rule_kind():
    assert {"max_f1", "youden", "recall@R", "precision@P", "<number>"} == set(THRESHOLD_RULES)


def test_malformed_validation_data_is_rejected():
    with pytest.raises(ToolkitError):
        choose_threshold([0, 1, 2], [0.1, 0.2, 0.3], "max_f1")
    with pytest.raises(ToolkitError):
        choose_threshold([0, 1], [0.1, np.nan], "max_f1")
