"""Run the time-to-return permutation test (:mod:`toolkit.evaluation.time_to_return_permutation`) on a finished fold loop.

Each shuffle reruns :func:`toolkit.tasks.time_to_return.cross_validate_time_to_return` on the users'
label records permuted across the users in the analysis: the folds come from ``time_to_return_folds``
with the run's fold seed, stratified on the shuffled "return seen" (as the binary test re-splits
on its shuffled labels), the featurizers are refitted per fold with their blocks kept out of the
feature cache (shuffled folds are never asked for again), and the timing Cox baseline is
refitted on the same shuffled records and folds. The automatic rule is the binary test's, counted
in returns seen.
"""

from __future__ import annotations

import dataclasses

from toolkit.evaluation.baselines import confound_features
from toolkit.evaluation.permutation import cost_line, planned_permutations
from toolkit.evaluation.time_to_return_permutation import baseline_risk, statistics, time_to_return_permutation_test
from toolkit.progress import NullProgress, Progress


def time_to_return_permutation(spec, prepared, store, cv, cross_validate_time_to_return, *, fold_seed: int, loop_seconds: float,
                         progress: Progress, n: int | None = None) -> dict | None:
    """``metrics.json``'s ``permutation`` block of a time-to-return run, or None when it makes no shuffles.

    ``loop_seconds`` is what the observed fold loop took; the cost estimate printed before the
    first shuffle is ``n`` times that. ``cross_validate_time_to_return`` is the time-to-return fold loop,
    handed in by :mod:`toolkit.tasks.time_to_return`, which imports this module.
    """
    label, setting = prepared.label, spec.evaluation.permutations
    returns = int(label.event.sum())
    n = planned_permutations(setting if n is None else n, returns)
    if n <= 0:
        return None
    progress.log(cost_line(n, loop_seconds, setting, returns, "returns seen"))
    name, x = next(iter(confound_features(prepared.users).items()))
    store = dataclasses.replace(store, cache=None)

    def base(shuffled, folds):
        return baseline_risk(shuffled, name, x, folds, training=spec.training, seed=spec.seed)

    def shuffled_statistics(shuffled):
        moved = dataclasses.replace(prepared, label=shuffled)
        perm = cross_validate_time_to_return(spec, moved, store, fold_seed=fold_seed, progress=NullProgress())
        return statistics(shuffled, perm.preds.risk, base(shuffled, perm.folds))

    progress.start("permutations", n)
    return time_to_return_permutation_test(label, shuffled_statistics, n, seed=spec.seed, baseline=name,
                                     observed=statistics(label, cv.preds.risk, base(label, cv.folds)),
                                     auto=setting is None, on_shuffle=lambda: progress.advance("permutations"))
