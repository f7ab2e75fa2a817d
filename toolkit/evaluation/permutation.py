"""The label-permutation test: how often shuffled labels score as well as the real ones.

The bootstrap intervals of :mod:`toolkit.evaluation.metrics` resample users and
treat the fitted pipeline as fixed. With a handful of positives most of the
variance is in the fitting itself (which users the folds and the validation part
happen to hold), so those intervals come out too narrow. The permutation test
instead refits the whole fold loop (featurizers, head, threshold) on labels shuffled
across the labelled users, on the same folds, as scikit-learn's
``permutation_test_score`` does, and reports the share of shuffles that reach the
observed value: ``p = (1 + #{null >= observed}) / (1 + N)``. Under the null (labels
independent of everything the pipeline sees) ``p`` is uniform on its grid, so a
run declares significance at no more than the nominal rate whatever its size.

The same is done for the model's ROC-AUC minus the first confound baseline's
(the baseline refitted on the same shuffled labels): the null there is "neither
the model nor the baseline sees anything", not "the model adds nothing over it".

The helpers here know nothing of the label kind: a time-to-return run
(:mod:`toolkit.evaluation.survival_permutation`) shuffles whole label records and
tests Harrell's C the same way, with the same rule for when the test runs.
"""

from __future__ import annotations

import numpy as np

#: Below this many positives among the labelled users the test runs unless the spec sets
#: ``evaluation.permutations`` (0 turns it off): the bootstrap intervals alone mislead there.
AUTO_BELOW_POSITIVES = 50
#: Shuffles when the test switches itself on: the fewest whose p-value can reach 0.05.
AUTO_PERMUTATIONS = 19
QUANTILES = (0.05, 0.5, 0.95)


def planned_permutations(setting: int | None, positives: int) -> int:
    """How many shuffles a run makes: the spec's ``evaluation.permutations``, else the automatic rule.

    ``positives`` counts the events the test rests on: positives of a yes/no label, returns seen
    of a time-to-return one.
    """
    if setting is not None:
        return int(setting)
    return AUTO_PERMUTATIONS if positives < AUTO_BELOW_POSITIVES else 0


def cost_line(n: int, loop_seconds: float, setting: int | None, positives: int, what: str = "positives") -> str:
    """The line printed before the first shuffle: ``n`` times the observed fold loop, and why the test runs."""
    why = "set by evaluation.permutations" if setting is not None else (
        f"on because the labelled users hold only {positives} {what}; evaluation.permutations: 0 turns it off")
    return (f"permutation test: {n} shuffles x {loop_seconds:.1f} s per fold loop, about "
            f"{n * loop_seconds:.0f} s ({why})")


def permutation_block(names: tuple[str, str], baseline: str, observed: tuple[float, float], null: np.ndarray, *,
                      auto: bool, seconds: float) -> dict:
    """``metrics.json``'s ``permutation`` block: the model's statistic and its Δ over ``baseline``.

    ``null`` is (N, 2): each shuffle's statistic and Δ, in the order of ``names``.
    """
    null = np.asarray(null, dtype=float).reshape(-1, 2)
    stat, delta = names
    return {"n": len(null), "auto": auto, "seconds": seconds, stat: null_summary(observed[0], null[:, 0]),
            delta: {"baseline": baseline, **null_summary(observed[1], null[:, 1])}}


def mean_roc_auc(y: np.ndarray, scores: np.ndarray) -> float:
    """ROC-AUC of out-of-fold scores (R, n), averaged over repeats, as the run's metrics report it."""
    from toolkit.evaluation.metrics import weighted_roc_auc

    ones = np.ones(len(y))
    return float(np.mean([weighted_roc_auc(y, row, ones) for row in np.atleast_2d(scores)]))


def p_value(observed: float, null: np.ndarray) -> float:
    """``(1 + #{null >= observed}) / (1 + N)``: never 0, and exact under the null."""
    null = np.asarray(null, dtype=float)
    if not np.isfinite(observed) or not len(null):
        return float("nan")
    return float((1 + np.sum(null >= observed)) / (1 + len(null)))


def null_summary(observed: float, null: np.ndarray) -> dict:
    """``{observed, p_value, null: {q05, q50, q95, mean}}`` for ``metrics.json``."""
    null = np.asarray(null, dtype=float)
    quantiles = np.quantile(null, QUANTILES) if len(null) else [float("nan")] * len(QUANTILES)
    described = {f"q{round(q * 100):02d}": float(v) for q, v in zip(QUANTILES, quantiles)}
    described["mean"] = float(null.mean()) if len(null) else float("nan")
    return {"observed": float(observed), "p_value": p_value(observed, null), "null": described}
