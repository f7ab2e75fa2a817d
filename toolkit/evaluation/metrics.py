"""Metrics from out-of-fold scores, with intervals that include the fitting.

Evaluation is repeated stratified k-fold: repeat ``r`` gives every user one
out-of-fold score ``scores[r]`` and one hard prediction ``preds[r]``. A metric's
point estimate is its value on all users of a repeat, averaged over repeats.

Intervals under cross-validation: the corrected resampled t (Nadeau and Bengio,
"Inference for the generalization error", Machine Learning 2003). The metric (or a
paired Δ) is computed on each of the ``J = R x K`` test folds; the spread of those
``J`` values holds what a user bootstrap of fixed scores leaves out (which users the
training folds hold, hence the fitting, and the fold assignment), and the variance of
their mean is taken as ``(1/J + n_test/n_train) * s^2`` instead of ``s^2 / J``: the
second term pays for the folds' training sets overlapping. The interval is the point
estimate ``± t_{J-1} * sqrt(that)``, and its p-value the two-sided t test of the point
against the null value (0.5 for ROC-AUC, 0 for a Δ). Cost: one metric per fold,
microseconds; nothing is refitted. It is conservative at small n (a 5-fold x 1 run has
4 degrees of freedom), which is the price of holding its level: on 100 null crawls of
~150 users and 6-20 positives (``tests/test_referee_null.py``) its flags fire at or
below their nominal rate, where the user bootstrap below fired four times too often.
Under one train/test split there is one fold and nothing to spread: the intervals fall
back to the user bootstrap and ``metrics.json`` says so (``intervals.method``).

The stratified percentile bootstrap over users stays for what is not refitted: the
true probabilities of synthetic data (the oracle), calibration figures and a single
split. Positives and negatives are resampled separately with replacement, the same
resampled users serve every repeat, and a draw's statistic is the mean over repeats.
A resample is never materialized; it is a vector of per-user counts, and every
metric is computed as a weighted metric for a whole block of such weight vectors.

What each interval and p-value answers:

* a metric's interval (``ci_low``/``ci_high``): where this pipeline's metric on new
  users from the same population lies, the fitting's noise included; a ROC-AUC
  interval above 0.5 says "better than chance".
* ``permutation.roc_auc.p_value``: "better than chance": the whole fold loop refitted
  on labels shuffled across users (exact at any size; :mod:`toolkit.evaluation.permutation`).
* ``permutation.adds_to_timing.p_value``: "adds to timing": the fold loop refitted on
  labels shuffled only among users of the same timing stratum, so timing keeps what it
  knows of the label and only the model's other information is destroyed.
* a paired Δ's interval and ``excludes_zero`` (over a baseline, or between two
  configurations in ``bench``/``compare``, Holm-adjusted over rows and columns):
  "does a beat b on new users", from the per-fold Δs with the same correction.

Edge cases, chosen to match scikit-learn where it is defined and to say "unknown"
where it is not:

* ``roc_auc`` and ``pr_auc`` are nan when ``y`` holds one class.
* ``recall`` is nan when ``y`` holds no positives; ``balanced_accuracy`` is nan
  when either class is missing.
* ``precision`` is 0.0 when nothing is predicted positive, and ``f1`` is 0.0
  when its denominator is zero (scikit-learn's ``zero_division=0``).
"""

from __future__ import annotations

from typing import Iterator

import numpy as np

from toolkit.errors import ToolkitError

METRIC_NAMES = ("roc_auc", "pr_auc", "recall", "precision", "f1", "accuracy", "balanced_accuracy")
SCORE_METRICS = ("roc_auc", "pr_auc")

# Upper bound on the entries of one (draws, users) weight block; a handful of
# float64 temporaries of this size stay well under a few hundred MB.
_BLOCK_ENTRIES = 2**21


# ---------------------------------------------------------------------------
# Weighted kernels. A weight block is split by class: ``w_pos`` (B, n_pos) holds
# the weights of the positives, ``w_neg`` (B, n_neg) those of the negatives. The
# bootstrap draws the two separately anyway, and the split lets the kernels touch
# the large negative block only twice (one reorder, one cumulative sum).
# ---------------------------------------------------------------------------


def _score_metrics(s_pos: np.ndarray, s_neg: np.ndarray, w_pos: np.ndarray, w_neg: np.ndarray,
                   names: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Weighted ROC-AUC and average precision for every row of a weight block.

    Args:
        s_pos: Scores of the positives, shape (n_pos,).
        s_neg: Scores of the negatives, shape (n_neg,).
        w_pos: Weights of the positives, shape (B, n_pos).
        w_neg: Weights of the negatives, shape (B, n_neg).
        names: Which of ``SCORE_METRICS`` to compute.

    Returns:
        ``{name: array of shape (B,)}``, nan where a row has no weight in a needed class.
    """
    pos_order = np.argsort(s_pos, kind="stable")
    s_pos, w_pos = s_pos[pos_order], w_pos[:, pos_order]
    neg_order = np.argsort(s_neg, kind="stable")
    s_neg = s_neg[neg_order]
    # neg_cum[:, k] is the weight of the k lowest-scored negatives.
    neg_cum = np.zeros((w_neg.shape[0], len(s_neg) + 1))
    np.cumsum(w_neg[:, neg_order], axis=1, out=neg_cum[:, 1:])
    neg_total = neg_cum[:, -1]
    pos_total = w_pos.sum(axis=1)
    # Negative weight strictly below each positive's score.
    neg_below = neg_cum[:, np.searchsorted(s_neg, s_pos, side="left")]
    out: dict[str, np.ndarray] = {}

    if "roc_auc" in names:
        # Mann-Whitney: a positive beats the negatives below it and ties half of
        # those at its score, i.e. the mean of "strictly below" and "at or below".
        # Summing integer counts before one division keeps a perfect ranking at 1.0.
        neg_at_or_below = neg_cum[:, np.searchsorted(s_neg, s_pos, side="right")]
        wins = 0.5 * np.einsum("bi,bi->b", w_pos, neg_below + neg_at_or_below)
        pairs = pos_total * neg_total
        out["roc_auc"] = np.divide(wins, pairs, out=np.full(len(wins), np.nan), where=pairs > 0)

    if "pr_auc" in names:
        # Step-wise AP as in scikit-learn: the sum over thresholds of recall gained
        # times precision. Recall is gained only where positives sit, so it is the
        # sum over positives of their weight times the precision of predicting
        # "positive" for every user scored at or above them (ties included).
        pos_cum = np.zeros((w_pos.shape[0], len(s_pos) + 1))
        np.cumsum(w_pos, axis=1, out=pos_cum[:, 1:])
        tp = pos_total[:, None] - pos_cum[:, np.searchsorted(s_pos, s_pos, side="left")]
        predicted = tp + (neg_total[:, None] - neg_below)
        precision = np.divide(tp, predicted, out=np.zeros_like(tp), where=predicted > 0)
        gained = np.einsum("bi,bi->b", w_pos, precision)
        out["pr_auc"] = np.divide(gained, pos_total, out=np.full(len(gained), np.nan), where=pos_total > 0)
    return out


def _threshold_metrics(pred_pos: np.ndarray, pred_neg: np.ndarray, w_pos: np.ndarray,
                       w_neg: np.ndarray) -> dict[str, np.ndarray]:
    """Recall, precision, F1, accuracy and balanced accuracy from weighted confusion counts."""
    tp, pos = w_pos @ pred_pos.astype(float), w_pos.sum(axis=1)
    fp, neg = w_neg @ pred_neg.astype(float), w_neg.sum(axis=1)
    fn, tn = pos - tp, neg - fp

    def ratio(num, den, empty):
        return np.divide(num, den, out=np.full(len(num), empty), where=den > 0)

    recall = ratio(tp, pos, np.nan)
    specificity = ratio(tn, neg, np.nan)
    return {
        "recall": recall,
        "precision": ratio(tp, tp + fp, 0.0),
        "f1": ratio(2 * tp, 2 * tp + fp + fn, 0.0),
        "accuracy": ratio(tp + tn, pos + neg, np.nan),
        "balanced_accuracy": 0.5 * (recall + specificity),
    }


def _all_metrics(y: np.ndarray, scores: np.ndarray, preds: np.ndarray | None, w_pos: np.ndarray,
                 w_neg: np.ndarray, names: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Every requested metric for one repeat and one weight block; each value has shape (B,)."""
    out: dict[str, np.ndarray] = {}
    if any(name in SCORE_METRICS for name in names):
        out.update(_score_metrics(scores[y], scores[~y], w_pos, w_neg, names))
    if preds is not None and any(name not in SCORE_METRICS for name in names):
        values = _threshold_metrics(preds[y], preds[~y], w_pos, w_neg)
        out.update({k: v for k, v in values.items() if k in names})
    return out


def _split_weights(y: np.ndarray, weights) -> tuple[np.ndarray, np.ndarray, bool]:
    w = np.asarray(weights, dtype=float)
    if w.ndim not in (1, 2) or w.shape[-1] != len(y):
        raise ToolkitError(f"weights must have shape (n,) or (B, n) with n={len(y)}. Got shape {w.shape} instead.")
    if (w < 0).any() or not np.isfinite(w).all():
        raise ToolkitError("weights must be finite and non-negative.")
    w2 = np.atleast_2d(w)
    return w2[:, y], w2[:, ~y], w.ndim == 1


def _weighted_score_metric(name: str, y, scores, weights) -> np.ndarray | float:
    y = _check_labels(y)
    scores = _check_scores(scores, len(y))
    w_pos, w_neg, single = _split_weights(y, weights)
    value = _score_metrics(scores[y], scores[~y], w_pos, w_neg, (name,))[name]
    return float(value[0]) if single else value


def weighted_roc_auc(y, scores, weights) -> np.ndarray | float:
    """ROC-AUC with per-user weights, for one or many weight vectors at once.

    Equals scikit-learn's ``roc_auc_score(y, scores, sample_weight=w)``: the
    weighted share of (positive, negative) pairs ranked correctly, ties counted half.

    Args:
        y: Binary labels, shape (n,).
        scores: Scores, shape (n,); higher means more likely positive.
        weights: Non-negative weights, shape (n,) or (B, n).

    Returns:
        A float for 1-D weights, else an array of shape (B,). nan where a weight
        vector leaves no positive or no negative weight.
    """
    return _weighted_score_metric("roc_auc", y, scores, weights)


def weighted_average_precision(y, scores, weights) -> np.ndarray | float:
    """Average precision (step-wise PR-AUC) with per-user weights, many vectors at once.

    Equals scikit-learn's ``average_precision_score(y, scores, sample_weight=w)``.

    Args:
        y: Binary labels, shape (n,).
        scores: Scores, shape (n,).
        weights: Non-negative weights, shape (n,) or (B, n).

    Returns:
        A float for 1-D weights, else an array of shape (B,). nan where a weight
        vector leaves no positive weight.
    """
    return _weighted_score_metric("pr_auc", y, scores, weights)


# ---------------------------------------------------------------------------
# Input checks
# ---------------------------------------------------------------------------


def _check_labels(y) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim != 1:
        raise ToolkitError(f"y must be a 1-D array of 0/1 labels. Got shape {y.shape} instead.")
    if y.dtype != bool:
        values = np.unique(y)
        if not np.isin(values, (0, 1)).all():
            raise ToolkitError(f"y must hold only 0 and 1. Got values {values[:5].tolist()} instead.")
    return y.astype(bool)


def _check_scores(scores, n: int, *, name: str = "scores") -> np.ndarray:
    s = np.asarray(scores, dtype=float)
    if s.ndim != 1 or len(s) != n:
        raise ToolkitError(f"{name} must have shape ({n},). Got shape {s.shape} instead.")
    if not np.isfinite(s).all():
        raise ToolkitError(f"{name} must be finite. Got {int((~np.isfinite(s)).sum())} nan or inf values.")
    return s


def _check_repeats(values, n: int, *, name: str) -> np.ndarray:
    """Accept (n,) or (R, n); return (R, n)."""
    v = np.asarray(values)
    if v.ndim == 1:
        v = v[None, :]
    if v.ndim != 2 or v.shape[1] != n or v.shape[0] == 0:
        raise ToolkitError(f"{name} must have shape (n,) or (R, n) with n={n}. Got shape {v.shape} instead.")
    return v


def _check_preds(preds, n: int) -> np.ndarray:
    p = _check_repeats(preds, n, name="preds")
    if p.dtype != bool and not np.isin(np.unique(p), (0, 1)).all():
        raise ToolkitError("preds must hold only 0 and 1 (hard predictions), not scores.")
    return p.astype(bool)


def _check_confidence(confidence: float, n_boot: int) -> None:
    if not 0.0 < confidence < 1.0:
        raise ToolkitError(f"confidence must be in the open interval (0, 1). Got {confidence!r} instead.")
    _check_n_boot(n_boot)


def _check_n_boot(n_boot: int) -> None:
    if int(n_boot) != n_boot or n_boot < 1:
        raise ToolkitError(f"n_boot must be a positive integer. Got {n_boot!r} instead.")


# ---------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------


def point_metrics(y, scores, preds) -> dict[str, float]:
    """All metrics of :data:`METRIC_NAMES` for one set of scores and hard predictions.

    Args:
        y: Binary labels, shape (n,).
        scores: Scores, shape (n,), used for ``roc_auc`` and ``pr_auc``.
        preds: Hard 0/1 predictions, shape (n,), used for the other metrics.

    Returns:
        ``{metric name: value}``; see the module docstring for the nan and 0.0 cases.
    """
    y = _check_labels(y)
    scores = _check_scores(scores, len(y))
    preds = _check_preds(preds, len(y))
    if preds.shape[0] != 1:
        raise ToolkitError(f"point_metrics takes one row of preds. Got shape {preds.shape} instead.")
    values = _all_metrics(y, scores, preds[0], *_unit_weights(y), METRIC_NAMES)
    return {name: float(values[name][0]) for name in METRIC_NAMES}


def _unit_weights(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The one-row weight block of the original sample: every user once."""
    return np.ones((1, int(y.sum()))), np.ones((1, int((~y).sum())))


def _bootstrap_blocks(y: np.ndarray, n_boot: int, seed: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield stratified bootstrap weight blocks ``(w_pos, w_neg)`` of b <= n_boot draws each.

    Row ``i`` of ``w_pos`` counts how often each positive appears in draw ``i``
    (n_pos positives drawn with replacement from the positives), and likewise for
    ``w_neg``. The blocks depend only on ``(y, n_boot, seed)``, so callers with the
    same seed, and every repeat within a call, see the same resampled users.
    """
    rng = np.random.default_rng(seed)
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    block = max(1, min(n_boot, _BLOCK_ENTRIES // max(len(y), 1)))
    for start in range(0, n_boot, block):
        b = min(block, n_boot - start)
        yield _draw_counts(rng, b, n_pos), _draw_counts(rng, b, n_neg)


def _draw_counts(rng: np.random.Generator, b: int, k: int) -> np.ndarray:
    """``b`` multinomial count vectors: k draws with replacement from k items, as floats."""
    if k == 0:
        return np.zeros((b, 0))
    # Offsetting row i's draws by i * k lets a single bincount count every row.
    draws = rng.integers(0, k, size=(b, k)) + np.arange(b)[:, None] * k
    return np.bincount(draws.ravel(), minlength=b * k).reshape(b, k).astype(float)


def _percentile_ci(stats: np.ndarray, confidence: float) -> tuple[float, float]:
    if np.isnan(stats).any():
        return float("nan"), float("nan")
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(stats, [tail, 1.0 - tail])
    return float(low), float(high)


def _mean_over_repeats(y, scores, preds, weights: tuple[np.ndarray, np.ndarray], names) -> dict[str, np.ndarray]:
    """Per-draw statistic: each metric averaged over repeats, shape (B,) per name."""
    total: dict[str, np.ndarray] = {}
    for r in range(scores.shape[0]):
        values = _all_metrics(y, scores[r], None if preds is None else preds[r], *weights, names)
        for name, v in values.items():
            total[name] = total.get(name, 0.0) + v
    return {name: v / scores.shape[0] for name, v in total.items()}


def summarize(y, scores, preds, *, n_boot: int = 1000, confidence: float = 0.95, seed: int = 0,
              fold_of: np.ndarray | None = None) -> dict[str, dict]:
    """Point estimates and intervals for every metric: corrected over folds, else a user bootstrap.

    Args:
        y: Binary labels, shape (n,).
        scores: Out-of-fold scores, shape (R, n) for R repeats, or (n,) for one.
        preds: Out-of-fold hard predictions, same shape as ``scores``.
        n_boot: Number of bootstrap draws.
        confidence: Coverage of the interval, e.g. 0.95.
        seed: Seed of the resampling; the same seed gives the same intervals.
        fold_of: Each user's test fold per repeat, shape (R, n) (:func:`fold_ids`): the intervals
            then come from :func:`corrected_t` over the folds (the fitting included), and ROC-AUC
            and balanced accuracy gain ``p_vs_chance``. None: the stratified user bootstrap.

    Returns:
        ``{metric name: {"mean": ..., "ci_low": ..., "ci_high": ...}}``, where
        ``mean`` is the metric on all users averaged over repeats.
    """
    y = _check_labels(y)
    scores = _check_repeats(np.asarray(scores, dtype=float), len(y), name="scores")
    preds = _check_preds(preds, len(y))
    if preds.shape != scores.shape:
        raise ToolkitError(f"preds and scores must have the same shape. Got {preds.shape} and {scores.shape}.")
    for row in scores:
        _check_scores(row, len(y))
    _check_confidence(confidence, n_boot)

    point = _mean_over_repeats(y, scores, preds, _unit_weights(y), METRIC_NAMES)
    if fold_of is not None:
        fold_of = _check_repeats(fold_of, len(y), name="fold_of")
        return corrected_summary(y, scores, preds, fold_of, {k: float(v[0]) for k, v in point.items()}, confidence)
    blocks = [_mean_over_repeats(y, scores, preds, w, METRIC_NAMES) for w in _bootstrap_blocks(y, n_boot, seed)]
    result = {}
    for name in METRIC_NAMES:
        low, high = _percentile_ci(np.concatenate([b[name] for b in blocks]), confidence)
        result[name] = {"mean": float(point[name][0]), "ci_low": low, "ci_high": high}
    return result


def paired_delta(y, scores_a, scores_b, *, metric: str = "roc_auc", n_boot: int = 1000,
                 confidence: float = 0.95, seed: int = 0, fold_of: np.ndarray | None = None) -> dict:
    """Difference of a score metric between two models (a - b), with a paired bootstrap interval.

    Both models are scored on the same resampled users in every draw, so the
    interval reflects the difference itself rather than two independent noises.

    Args:
        y: Binary labels, shape (n,).
        scores_a: Scores of model a, shape (R, n) or (n,).
        scores_b: Scores of model b, same shape as ``scores_a``.
        metric: ``"roc_auc"`` or ``"pr_auc"`` (threshold metrics need hard
            predictions, which this function does not take).
        n_boot: Number of bootstrap draws.
        confidence: Coverage of the interval.
        seed: Seed of the resampling.
        fold_of: Each user's test fold per repeat (:func:`fold_ids`): the interval then comes from
            :func:`corrected_delta` (the fitting included) and a ``p_value`` is added.

    Returns:
        ``{"metric", "mean", "ci_low", "ci_high", "excludes_zero"}``; ``mean`` is
        the difference of the repeat-averaged metrics, and ``excludes_zero`` is
        True when the whole interval lies strictly on one side of zero.
    """
    _check_confidence(confidence, n_boot)
    if fold_of is not None:
        if metric not in SCORE_METRICS:
            raise ToolkitError(f"paired_delta compares score metrics {SCORE_METRICS}. Got {metric!r} instead.")
        return corrected_delta(y, scores_a, scores_b, fold_of, metric=metric, confidence=confidence)
    point, draws = paired_delta_draws(y, scores_a, scores_b, metric=metric, n_boot=n_boot, seed=seed)
    low, high = _percentile_ci(draws, confidence)
    return {"metric": metric, "mean": point, "ci_low": low, "ci_high": high,
            "excludes_zero": bool(low > 0.0 or high < 0.0)}


def paired_delta_draws(y, scores_a, scores_b, *, metric: str = "roc_auc", n_boot: int = 1000,
                       seed: int = 0) -> tuple[float, np.ndarray]:
    """The point difference (a - b) of a score metric and its ``n_boot`` paired-bootstrap draws.

    The draws are those :func:`paired_delta` takes its interval from (same ``seed``, same users
    resampled), so callers can combine them: average over training seeds, or turn them into a
    p-value (:func:`bootstrap_p_value`).
    """
    if metric not in SCORE_METRICS:
        raise ToolkitError(f"paired_delta compares score metrics {SCORE_METRICS}. Got {metric!r} instead.")
    y = _check_labels(y)
    a = _check_repeats(np.asarray(scores_a, dtype=float), len(y), name="scores_a")
    b = _check_repeats(np.asarray(scores_b, dtype=float), len(y), name="scores_b")
    if a.shape != b.shape:
        raise ToolkitError(f"scores_a and scores_b must have the same shape. Got {a.shape} and {b.shape}.")
    for row in (*a, *b):
        _check_scores(row, len(y))
    _check_n_boot(n_boot)

    def delta(weights):
        return (_mean_over_repeats(y, a, None, weights, (metric,))[metric]
                - _mean_over_repeats(y, b, None, weights, (metric,))[metric])

    point = float(delta(_unit_weights(y))[0])
    return point, np.concatenate([delta(w) for w in _bootstrap_blocks(y, n_boot, seed)])


def bootstrap_p_value(draws: np.ndarray) -> float:
    """Two-sided p-value of "the difference is 0" from bootstrap draws of it.

    Twice the smaller share of draws on either side of 0, with the +1 correction
    (so it is never exactly 0); nan when a draw is nan.
    """
    draws = np.asarray(draws, dtype=float)
    if not len(draws) or np.isnan(draws).any():
        return float("nan")
    low, high = (draws <= 0).sum(), (draws >= 0).sum()
    return float(min(1.0, 2 * (min(low, high) + 1) / (len(draws) + 1)))


def holm(p_values) -> np.ndarray:
    """Holm's step-down adjusted p-values (nan entries stay nan and are not counted)."""
    p = np.asarray(p_values, dtype=float)
    out = np.full(len(p), np.nan)
    ok = np.flatnonzero(~np.isnan(p))
    order = ok[np.argsort(p[ok], kind="stable")]
    m, running = len(order), 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[i]))
        out[i] = running
    return out


# ---------------------------------------------------------------------------
# Intervals that include the fitting: the corrected resampled t over test folds
# ---------------------------------------------------------------------------

CORRECTED_METHOD = "corrected resampled t over test folds (Nadeau-Bengio)"
BOOTSTRAP_METHOD = "stratified user bootstrap of fixed scores (the fitting's variance is not in it)"


def fold_ids(folds, n_users: int, repeats: int, scored: np.ndarray | None = None) -> np.ndarray | None:
    """Each user's test fold per repeat, shape (R, n) (-1 where untested), or None below two folds.

    Args:
        folds: the run's :class:`~toolkit.evaluation.folds.Fold` list.
        n_users: users the folds index.
        repeats: repeats of the cross-validation.
        scored: optional mask of the users kept (their columns only are returned).
    """
    if len(folds) < 2:
        return None  # one split: no spread over folds to read
    out = np.full((repeats, n_users), -1)
    for f in folds:
        out[f.repeat, f.test] = f.fold
    return out if scored is None else out[:, scored]


def fold_masks(fold_of: np.ndarray) -> Iterator[tuple[int, np.ndarray]]:
    """``(repeat, mask of that test fold's users)`` for every test fold of ``fold_of`` (R, n)."""
    for r in range(fold_of.shape[0]):
        for k in np.unique(fold_of[r]):
            if k >= 0:
                yield r, fold_of[r] == k


def fold_test_share(fold_of: np.ndarray) -> float:
    """Mean ``n_test / n_train`` over the folds (the correction's second term)."""
    shares = [m.sum() / max(len(m) - m.sum(), 1) for _, m in fold_masks(fold_of)]
    return float(np.mean(shares))


def corrected_t(point: float, values, fold_test_share: float, confidence: float, null: float = 0.0) -> dict:
    """Interval and two-sided p-value of ``point`` from per-fold values, with Nadeau and Bengio's correction.

    Args:
        point: the point estimate the interval is centred on (the pooled out-of-fold value).
        values: the statistic on each test fold, shape (J,); nan folds are left out.
        fold_test_share: mean ``n_test / n_train`` of those folds.
        confidence: coverage of the interval.
        null: the value the p-value tests (0.5 for ROC-AUC, 0 for a Δ).

    Returns:
        ``{"ci_low", "ci_high", "p_value", "folds"}``; nan below two finite folds or for a nan point.
    """
    from scipy import stats

    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if len(v) < 2 or not np.isfinite(point):
        return {"ci_low": float("nan"), "ci_high": float("nan"), "p_value": float("nan"), "folds": int(len(v))}
    se = float(np.sqrt((1.0 / len(v) + fold_test_share) * np.var(v, ddof=1)))
    q = float(stats.t.ppf(0.5 + confidence / 2.0, len(v) - 1))
    if se > 0:
        p = float(2 * stats.t.sf(abs(point - null) / se, len(v) - 1))
    else:  # every fold agrees exactly: nothing to doubt but whether it is the null
        p = 1.0 if point == null else 0.0
    return {"ci_low": float(point - q * se), "ci_high": float(point + q * se), "p_value": p, "folds": int(len(v))}


def _fold_metrics(y, scores, preds, fold_of, names) -> dict[str, np.ndarray]:
    """Each metric of ``names`` on each test fold: ``{name: (J,)}``."""
    out: dict[str, list] = {name: [] for name in names}
    for r, m in fold_masks(fold_of):
        values = _all_metrics(y[m], scores[r, m], None if preds is None else preds[r, m], *_unit_weights(y[m]),
                              names)
        for name in names:
            out[name].append(float(values[name][0]))
    return {name: np.asarray(v) for name, v in out.items()}


#: the value "no better than chance" gives a metric's p-value (None: no such value is tested)
CHANCE = {"roc_auc": 0.5, "balanced_accuracy": 0.5}


def corrected_summary(y, scores, preds, fold_of, point: dict, confidence: float) -> dict[str, dict]:
    """``summarize``'s result with each interval from :func:`corrected_t` over the test folds."""
    values = _fold_metrics(y, scores, preds, fold_of, METRIC_NAMES)
    share = fold_test_share(fold_of)
    out = {}
    for name in METRIC_NAMES:
        t = corrected_t(point[name], values[name], share, confidence, CHANCE.get(name, 0.0))
        # every metric here lies in [0, 1]: clipping the t interval there changes no coverage
        out[name] = {"mean": point[name], "ci_low": float(np.clip(t["ci_low"], 0.0, 1.0)),
                     "ci_high": float(np.clip(t["ci_high"], 0.0, 1.0))}
        if name in CHANCE:
            out[name]["p_vs_chance"] = t["p_value"]
    return out


def corrected_delta(y, scores_a, scores_b, fold_of, *, metric: str = "roc_auc", confidence: float = 0.95) -> dict:
    """Paired Δ (a - b) of a score metric with the corrected resampled t over the per-fold Δs.

    Returns:
        ``{"metric", "mean", "ci_low", "ci_high", "excludes_zero", "p_value"}``; ``mean`` is the
        difference of the repeat-averaged pooled metrics, as :func:`paired_delta` gives it.
    """
    y = _check_labels(y)
    a = _check_repeats(np.asarray(scores_a, dtype=float), len(y), name="scores_a")
    b = _check_repeats(np.asarray(scores_b, dtype=float), len(y), name="scores_b")
    fold_of = _check_repeats(fold_of, len(y), name="fold_of")
    if not a.shape == b.shape == fold_of.shape:
        raise ToolkitError(f"scores_a, scores_b and fold_of must have one shape. Got {a.shape}, {b.shape}, "
                           f"{fold_of.shape}.")
    point = float((_mean_over_repeats(y, a, None, _unit_weights(y), (metric,))[metric]
                   - _mean_over_repeats(y, b, None, _unit_weights(y), (metric,))[metric])[0])
    per_fold = _fold_metrics(y, a, None, fold_of, (metric,))[metric] - _fold_metrics(y, b, None, fold_of,
                                                                                       (metric,))[metric]
    t = corrected_t(point, per_fold, fold_test_share(fold_of), confidence)
    low, high = t["ci_low"], t["ci_high"]
    return {"metric": metric, "mean": point, "ci_low": low, "ci_high": high,
            "excludes_zero": bool(low > 0.0 or high < 0.0), "p_value": t["p_value"]}


def holm_over(p_values: dict) -> dict:
    """Holm over every entry of ``{key: p}`` together (rows and columns of a table alike); None stays None."""
    keys = [k for k, v in p_values.items() if v is not None and np.isfinite(v)]
    adjusted = holm([p_values[k] for k in keys])
    return {k: (float(adjusted[keys.index(k)]) if k in keys else None) for k in p_values}


def fold_delta_values(y, scores_a, scores_b, fold_of, metric: str) -> tuple[float, np.ndarray]:
    """The pooled point Δ (a - b) of a score metric and its per-fold Δs (J,), for :func:`corrected_t`."""
    y = _check_labels(y)
    a, b = np.atleast_2d(np.asarray(scores_a, float)), np.atleast_2d(np.asarray(scores_b, float))
    fold_of = np.atleast_2d(fold_of)
    point = float((_mean_over_repeats(y, a, None, _unit_weights(y), (metric,))[metric]
                   - _mean_over_repeats(y, b, None, _unit_weights(y), (metric,))[metric])[0])
    per_fold = _fold_metrics(y, a, None, fold_of, (metric,))[metric] - _fold_metrics(y, b, None, fold_of,
                                                                                       (metric,))[metric]
    return point, per_fold
