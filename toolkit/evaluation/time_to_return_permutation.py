"""The label-permutation test of :mod:`toolkit.evaluation.permutation` for a time-to-return label.

A shuffle moves each user's whole label record (the bins seen through, the bins a seen return
may lie in, the last bin seen through) to another user in the analysis, as one piece: the
censoring pattern, interval censoring and crawl gaps included, stays exactly the data's, and
only its pairing with the features is broken. The statistics are the model's Harrell's C on its
out-of-fold risk (the mean over repeats, as ``metrics.json`` reports it) and its Δ over the
first confound baseline's Cox model, refitted on the same shuffled records and folds. The caller
redraws the folds and refits everything per shuffle (:func:`permutation_null` only shuffles and
collects), so the null is the whole pipeline's.
"""

from __future__ import annotations

import time
from typing import Callable

import numpy as np

from toolkit.data.time_to_return import TimeToReturn
from toolkit.evaluation.folds import Fold
from toolkit.evaluation.permutation import permutation_block
from toolkit.evaluation.time_to_return_cv import fixed_blocks, out_of_fold
from toolkit.features.blocks import Block

NAMES = ("c_index", "delta_c_index")

# A shuffled label -> (the model's C, its Δ over the baseline), every fit redone on that label.
Statistics = Callable[[TimeToReturn], tuple[float, float]]


def shuffled_label(label: TimeToReturn, rng: np.random.Generator) -> TimeToReturn:
    """The same label records, each handed to a user drawn without replacement."""
    return label.rows(rng.permutation(len(label.event_last)))


def mean_c_index(label: TimeToReturn, risk: np.ndarray) -> float:
    """Harrell's C of out-of-fold risk (R, n), averaged over repeats."""
    from toolkit.evaluation.survival import c_index

    time, event = label.time.astype(float), label.event
    return float(np.mean([c_index(time, event, row) for row in np.atleast_2d(risk)]))


def baseline_risk(label: TimeToReturn, name: str, x: np.ndarray, folds: list[Fold], *, training,
                  seed: int) -> np.ndarray:
    """The out-of-fold risk (R, n) of a Cox model on one confound's columns, on the given folds."""
    from toolkit.heads.cox import CoxHead

    blocks = fixed_blocks([Block(name, "dense", np.asarray(x, dtype=np.float64))])
    return out_of_fold(label, blocks, CoxHead, folds, training=training, seed=seed).risk


def statistics(label: TimeToReturn, risk: np.ndarray, base: np.ndarray) -> tuple[float, float]:
    """The model's mean C and its Δ over the baseline's, both on ``label``."""
    c = mean_c_index(label, risk)
    return c, c - mean_c_index(label, base)


def permutation_null(label: TimeToReturn, stats: Statistics, n: int, seed: int, on_shuffle=None) -> np.ndarray:
    """(n, 2): the statistics on ``n`` shuffles of ``label``, drawn from ``seed`` (a run repeats exactly)."""
    rng = np.random.default_rng(seed)
    null = np.empty((n, 2))
    for i in range(n):
        null[i] = stats(shuffled_label(label, rng))
        if on_shuffle is not None:
            on_shuffle()
    return null


def time_to_return_permutation_test(label: TimeToReturn, stats: Statistics, n: int, *, seed: int, baseline: str,
                              observed: tuple[float, float] | None = None, auto: bool = False,
                              on_shuffle=None) -> dict:
    """``metrics.json``'s ``permutation`` block: ``c_index`` and ``delta_c_index``, each with its p-value.

    ``observed`` defaults to ``stats(label)``; a run passes the values of the fold loop it already made.
    """
    observed = stats(label) if observed is None else observed
    start = time.perf_counter()
    null = permutation_null(label, stats, n, seed, on_shuffle)
    return permutation_block(NAMES, baseline, observed, null, auto=auto, seconds=time.perf_counter() - start)
