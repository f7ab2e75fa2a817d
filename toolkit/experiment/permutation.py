"""Run the label-permutation test of :mod:`toolkit.evaluation.permutation` on a finished fold loop.

Each shuffle reruns :func:`toolkit.experiment.runner.cross_validate` with the labels
permuted across the labelled users: the folds come from the same splitter and fold
seed, stratified on the shuffled labels (as scikit-learn's ``permutation_test_score``
re-splits with its ``cv``), so every shuffle is evaluated exactly as the real labels
were; keeping the real labels' folds instead would give the observed labelling
evenly spread positives that no shuffle has, and bias the test. Featurizers are
refitted per fold (their blocks stay out of the feature cache: shuffled folds are
never asked for again), and the first confound baseline is refitted on the same
shuffled labels. The shuffles are drawn from the run's seed, so a run repeats exactly.
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np

from toolkit.evaluation.baselines import confound_features, out_of_fold_scores
from toolkit.evaluation.permutation import mean_roc_auc, null_summary, planned_permutations
from toolkit.progress import NullProgress, Progress


def observed_statistics(prepared, cv, seed: int) -> tuple[str, float, float]:
    """The first baseline's name, the model's ROC-AUC and its Δ over that baseline, on the scored users."""
    name, auc, base = _statistics(prepared.users, prepared.y, cv, seed)
    return name, auc, auc - base


def _statistics(users, y: np.ndarray, cv, seed: int) -> tuple[str, float, float]:
    name, x = next(iter(confound_features(users).items()))
    scored = cv.scored
    base = out_of_fold_scores(x, y, cv.folds, cv.scores.shape[0], seed)[:, scored]
    return name, mean_roc_auc(y[scored], cv.scores[:, scored]), mean_roc_auc(y[scored], base)


def permutation_test(spec, prepared, store, cv, *, fold_seed: int, loop_seconds: float, progress: Progress,
                     n: int | None = None) -> dict | None:
    """``metrics.json``'s ``permutation`` block, or None when the run makes no shuffles.

    ``loop_seconds`` is what the observed fold loop took; the cost estimate printed
    before the first shuffle is ``n`` times that.
    """
    from toolkit.experiment.runner import cross_validate

    positives = int(prepared.y.sum())
    n = planned_permutations(spec.evaluation.permutations if n is None else n, positives)
    if n <= 0:
        return None
    why = "set by evaluation.permutations" if spec.evaluation.permutations is not None else (
        f"on because the labelled users hold only {positives} positives; evaluation.permutations: 0 turns it off")
    progress.log(f"permutation test: {n} shuffles x {loop_seconds:.1f} s per fold loop, about "
                 f"{n * loop_seconds:.0f} s ({why})")
    baseline, auc, delta = observed_statistics(prepared, cv, spec.seed)
    rng = np.random.default_rng(spec.seed)
    # Shuffled folds are never asked for again: keep their blocks out of the feature cache (a frozen
    # encoder's rows, embedded once per run, are still shared).
    store = dataclasses.replace(store, cache=None)
    null_auc, null_delta = np.empty(n), np.empty(n)
    start = time.perf_counter()
    progress.start("permutations", n)
    for i in range(n):
        shuffled = dataclasses.replace(prepared, y=rng.permutation(prepared.y))
        perm = cross_validate(spec, shuffled, store, fold_seed=fold_seed, progress=NullProgress())
        _, null_auc[i], base = _statistics(prepared.users, shuffled.y, perm, spec.seed)
        null_delta[i] = null_auc[i] - base
        progress.advance("permutations")
    return {"n": n, "auto": spec.evaluation.permutations is None, "seconds": time.perf_counter() - start,
            "roc_auc": null_summary(auc, null_auc),
            "delta_roc_auc": {"baseline": baseline, **null_summary(delta, null_delta)}}
