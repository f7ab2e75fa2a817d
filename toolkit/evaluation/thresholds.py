"""Turning validation scores into a decision threshold.

Each fold chooses its threshold on its own validation data; the fold's hard
predictions are then ``scores >= threshold``. The chosen threshold is always one
of the validation scores themselves (any value between two neighbouring distinct
scores gives the same validation predictions), so ``>=`` reproduces exactly the
predictions the rule judged best.

When the rule needs positives (or, for Youden, both classes) and the validation
data lacks them, the threshold falls back to :data:`FALLBACK_THRESHOLD` without
warning; :func:`choose_threshold_info` reports it in ``fell_back`` so a caller can
count and report such folds. A fixed number is used as given and never falls back.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

import numpy as np

from toolkit.errors import ToolkitError

THRESHOLD_RULES = {
    "max_f1": "the validation score that maximizes F1 of (scores >= threshold)",
    "youden": "the validation score that maximizes Youden's J = TPR - FPR",
    "recall@R": "the highest validation score whose validation recall is at least R, "
                "for R in (0, 1], e.g. 'recall@0.8' (precision at recall R; also written "
                "{precision_at_recall: R})",
    "precision@P": "the lowest validation score whose validation precision is at least P, "
                   "for P in (0, 1], e.g. 'precision@0.3' (the most recall at precision P; also "
                   "written {recall_at_precision: P})",
    "<number>": "a fixed threshold in the open interval (0, 1), e.g. 0.5, used as is",
}
"""The accepted threshold rules, each with what it picks. Ties between equally
good thresholds go to the highest one (fewest users flagged)."""

FALLBACK_THRESHOLD = 0.5

_TARGET_RULE = re.compile(r"(recall|precision)@(.+)")
_MAPPING_FORMS = {"precision_at_recall": "recall", "recall_at_precision": "precision"}
_EXPECTED = ("one of 'max_f1', 'youden', 'recall@R' (or {precision_at_recall: R}), 'precision@P' "
             "(or {recall_at_precision: P}) with R, P in (0, 1], or a number in the open interval (0, 1)")


def normalize_rule(rule):
    """``{recall_at_precision: P}`` -> ``"precision@P"``, ``{precision_at_recall: R}`` -> ``"recall@R"``.

    The mapping forms read better in YAML; the string forms are what results
    record. Anything else is returned unchanged.
    """
    if isinstance(rule, dict) and len(rule) == 1:
        (key, value), = rule.items()
        if key in _MAPPING_FORMS and isinstance(value, (int, float)) and not isinstance(value, bool):
            return f"{_MAPPING_FORMS[key]}@{value}"
    return rule


@dataclass(frozen=True)
class ThresholdChoice:
    """A chosen threshold and how it was reached."""

    threshold: float  # predictions are scores >= threshold
    rule: str  # the rule as given, as text
    fell_back: bool  # True when validation data could not support the rule


def validate_threshold_rule(rule) -> str | None:
    """Check a threshold rule without applying it.

    Args:
        rule: A rule as written in a spec: a name, ``"recall@R"`` or a number.

    Returns:
        None when the rule is valid, else a message saying what was expected and
        what was given.
    """
    rule = normalize_rule(rule)
    if isinstance(rule, bool) or not isinstance(rule, (str, int, float, np.floating, np.integer)):
        return f"The threshold rule must be {_EXPECTED}. Got {rule!r} of type {type(rule).__name__} instead."
    if not isinstance(rule, str):
        if 0.0 < float(rule) < 1.0:
            return None
        return f"A fixed threshold must be in the open interval (0, 1). Got {rule!r} instead."
    if rule in ("max_f1", "youden"):
        return None
    match = _TARGET_RULE.fullmatch(rule)
    if match:
        try:
            target = float(match.group(2))
        except ValueError:
            target = float("nan")
        if 0.0 < target <= 1.0:
            return None
        return f"The {match.group(1)} target in {rule!r} must be a number in (0, 1]. Got {match.group(2)!r} instead."
    guess = difflib.get_close_matches(rule, ["max_f1", "youden", "recall@0.8", "precision@0.3"], n=1)
    hint = f" Did you mean {guess[0]!r}?" if guess else ""
    return f"The threshold rule must be {_EXPECTED}. Got {rule!r} instead.{hint}"


def _candidates(y: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct scores in descending order, with the TP and FP counts of ``scores >= each``."""
    order = np.argsort(-scores, kind="stable")
    s, hits = scores[order], y[order]
    # The last user of each run of tied scores closes that candidate threshold.
    last = np.flatnonzero(np.r_[s[1:] != s[:-1], True])
    tp = np.cumsum(hits)[last]
    return s[last], tp, (last + 1) - tp


def choose_threshold_info(y_val, scores_val, rule) -> ThresholdChoice:
    """Choose a threshold on validation data and say whether it had to fall back.

    Args:
        y_val: Validation labels, shape (n,), 0/1.
        scores_val: Validation scores, shape (n,).
        rule: See :data:`THRESHOLD_RULES`.

    Returns:
        The :class:`ThresholdChoice`. ``fell_back`` is True, and the threshold is
        :data:`FALLBACK_THRESHOLD`, when the validation data holds no positives
        (or, for ``"youden"``, no negatives).

    Raises:
        ToolkitError: If the rule is invalid or the inputs are malformed.
    """
    problem = validate_threshold_rule(rule)
    if problem:
        raise ToolkitError(problem)
    rule = normalize_rule(rule)
    if not isinstance(rule, str):
        return ThresholdChoice(float(rule), str(rule), False)

    y = np.asarray(y_val)
    scores = np.asarray(scores_val, dtype=float)
    if y.ndim != 1 or scores.shape != y.shape or len(y) == 0:
        raise ToolkitError(f"y_val and scores_val must be non-empty 1-D arrays of one length. "
                           f"Got shapes {y.shape} and {scores.shape} instead.")
    if not np.isin(y, (0, 1)).all() or not np.isfinite(scores).all():
        raise ToolkitError("y_val must hold only 0 and 1 and scores_val must be finite.")
    y = y.astype(bool)
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or (rule == "youden" and n_neg == 0):
        return ThresholdChoice(FALLBACK_THRESHOLD, rule, True)

    thresholds, tp, fp = _candidates(y, scores)
    # Candidates run from the highest threshold down, so argmax (first maximum)
    # breaks ties towards the highest threshold.
    if rule == "max_f1":
        best = int(np.argmax(2 * tp / (tp + fp + n_pos)))
    elif rule == "youden":
        best = int(np.argmax(tp / n_pos - fp / n_neg))
    else:
        kind, target = _TARGET_RULE.fullmatch(rule).groups()
        if kind == "recall":
            # Recall only grows as the threshold falls, and reaches 1 at the lowest score.
            best = int(np.argmax(tp / n_pos >= float(target)))
        else:
            # Precision is not monotone in the threshold: take the lowest threshold (the most
            # recall) among those that reach the target; none reaching it is a fallback.
            reached = np.flatnonzero(tp / (tp + fp) >= float(target))
            if len(reached) == 0:
                return ThresholdChoice(FALLBACK_THRESHOLD, rule, True)
            best = int(reached[-1])
    return ThresholdChoice(float(thresholds[best]), rule, False)


def choose_threshold(y_val, scores_val, rule) -> float:
    """Choose a threshold on validation data; predictions are ``scores >= threshold``.

    Returns :data:`FALLBACK_THRESHOLD` (0.5) when the validation data cannot
    support the rule; use :func:`choose_threshold_info` to learn when that happened.

    Args:
        y_val: Validation labels, shape (n,), 0/1.
        scores_val: Validation scores, shape (n,).
        rule: See :data:`THRESHOLD_RULES`.

    Returns:
        The threshold.
    """
    return choose_threshold_info(y_val, scores_val, rule).threshold
