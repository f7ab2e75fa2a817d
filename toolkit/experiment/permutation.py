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
from toolkit.evaluation.permutation import cost_line, mean_roc_auc, permutation_block, planned_permutations
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
    setting = spec.evaluation.permutations if n is None else n
    n = planned_permutations(setting, positives)
    if n <= 0:
        return None
    progress.log(cost_line(n, loop_seconds, spec.evaluation.permutations, positives))
    baseline, auc, delta = observed_statistics(prepared, cv, spec.seed)
    rng = np.random.default_rng(spec.seed)
    # Shuffled folds are never asked for again: keep their blocks out of the feature cache (a frozen
    # encoder's rows, embedded once per run, are still shared).
    store = dataclasses.replace(store, cache=None)
    null = np.empty((n, 2))
    start = time.perf_counter()
    progress.start("permutations", n)
    for i in range(n):
        shuffled = dataclasses.replace(prepared, y=rng.permutation(prepared.y))
        perm = cross_validate(spec, shuffled, store, fold_seed=fold_seed, progress=NullProgress())
        _, null[i, 0], base = _statistics(prepared.users, shuffled.y, perm, spec.seed)
        null[i, 1] = null[i, 0] - base
        progress.advance("permutations")
    return permutation_block(("roc_auc", "delta_roc_auc"), baseline, (auc, delta), null,
                             auto=spec.evaluation.permutations is None, seconds=time.perf_counter() - start)
