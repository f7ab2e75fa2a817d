"""The decision threshold when the validation part is too small to choose one.

A threshold rule such as ``max_f1`` picked on a validation part holding one or
two positives lands wherever those happen to score (thresholds near 0.0001 were
seen, flagging almost everyone). With fewer than
``evaluation.min_validation_positives`` positives in the validation part, the
threshold instead flags the training part's positive rate: it is the
``1 - rate`` quantile of the head's scores on all training users (fit and
validation parts). A fixed numeric threshold never falls back.
"""

from __future__ import annotations

import numpy as np


def needs_fallback(y_val: np.ndarray, rule, min_positives: int) -> bool:
    """True when a named rule would be chosen from fewer than ``min_positives`` validation positives."""
    return isinstance(rule, str) and int(np.asarray(y_val).sum()) < min_positives


def prevalence_threshold(y_train: np.ndarray, scores_train: np.ndarray) -> float:
    """The score above which the training part's share of positives lies (at least one user flagged)."""
    scores = np.asarray(scores_train, dtype=float)
    rate = float(np.mean(y_train)) if len(y_train) else 0.0
    k = max(1, int(round(rate * len(scores))))
    return float(np.sort(scores)[::-1][min(k, len(scores)) - 1])
