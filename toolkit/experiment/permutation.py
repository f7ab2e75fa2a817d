"""Run the label-permutation test of :mod:`toolkit.evaluation.permutation` on a finished fold loop.

Each shuffle reruns :func:`toolkit.tasks.binary.cross_validate` with the labels
permuted across the labelled users: the folds come from the same splitter and fold
seed, stratified on the shuffled labels (as scikit-learn's ``permutation_test_score``
re-splits with its ``cv``), so every shuffle is evaluated exactly as the real labels
were; keeping the real labels' folds instead would give the observed labelling
evenly spread positives that no shuffle has, and bias the test. Featurizers are
refitted per fold (their blocks stay out of the feature cache: shuffled folds are
never asked for again), and the first confound baseline (timing) is refitted on the
same shuffled labels. Two sequential series are drawn (:mod:`toolkit.evaluation.permutation`):
labels shuffled across all users ("better than chance") and within timing strata ("adds to
timing"). The shuffles are drawn from the run's seed, so a run repeats exactly.
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np

from toolkit.evaluation.baselines import confound_features, out_of_fold_scores, shuffle_within, timing_strata
from toolkit.evaluation.permutation import (AUTO_SEQUENTIAL, cost_line, mean_roc_auc, planned_permutations,
                                            sequential_block, sequential_null)
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


def permutation_test(spec, prepared, store, cv, cross_validate, *, fold_seed: int, loop_seconds: float,
                     progress: Progress, n: int | None = None) -> dict | None:
    """``metrics.json``'s ``permutation`` block, or None when the run makes no shuffles.

    ``n`` (default: ``evaluation.permutations``, else the automatic rule) is the most shuffles per
    question; ``loop_seconds`` is what the observed fold loop took, and the cost printed before
    the first shuffle is counted in it. ``cross_validate`` is the runner's fold loop
    (:func:`toolkit.tasks.binary.cross_validate`), handed in so that this module does not
    import the runner that imports it.
    """
    positives = int(prepared.y.sum())
    setting = spec.evaluation.permutations if n is None else n
    n = planned_permutations(setting, positives, AUTO_SEQUENTIAL)
    if n <= 0:
        return None
    progress.log(cost_line(n, loop_seconds, spec.evaluation.permutations, positives, questions=2))
    baseline, auc, delta = observed_statistics(prepared, cv, spec.seed)
    rng = np.random.default_rng(spec.seed)
    strata = timing_strata(prepared.users)
    # Shuffled folds are never asked for again: keep their blocks out of the feature cache (a frozen
    # encoder's rows, embedded once per run, are still shared).
    store = dataclasses.replace(store, cache=None)

    def refit(y: np.ndarray) -> tuple[float, float]:
        perm = cross_validate(spec, dataclasses.replace(prepared, y=y), store, fold_seed=fold_seed,
                              progress=NullProgress())
        _, model, base = _statistics(prepared.users, y, perm, spec.seed)
        return model, model - base

    start = time.perf_counter()
    progress.start("permutations", 2 * n)
    step = lambda: progress.advance("permutations")  # noqa: E731
    nulls = {"roc_auc": sequential_null(auc, lambda: refit(rng.permutation(prepared.y))[0], n, on_draw=step),
             "delta_roc_auc": sequential_null(delta, lambda: refit(shuffle_within(rng, prepared.y, strata))[1], n,
                                              on_draw=step)}
    return sequential_block(baseline, {"roc_auc": auc, "delta_roc_auc": delta}, nulls, n_max=n,
                            auto=spec.evaluation.permutations is None, seconds=time.perf_counter() - start)
