"""Out-of-fold survival predictions and their metrics, for the time-to-return label.

Folds are the binary evaluation's (:func:`toolkit.evaluation.folds.make_folds`), stratified by
"return seen" so every test fold holds returns. In each fold the head is fitted on the training
users (a validation part carved from them drives early stopping) and scores the test users:
``risk`` (higher returns sooner) and ``surv`` (the chance of no return by the end of each bin).
The metrics then run on those predictions exactly as :func:`toolkit.evaluation.survival.summarize_time_to_return`
describes, with horizons and ``tau`` given in days after ``after_days``; given the folds
(:func:`fold_of`), their intervals and the paired Δs' are the corrected resampled t over the test
folds, the yes/no task's.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

from toolkit.data.time_to_return import TimeToReturn
from toolkit.errors import ToolkitError
from toolkit.evaluation.folds import Fold, carve_validation, make_folds
from toolkit.evaluation.metrics import fold_ids
from toolkit.evaluation.survival import summarize_time_to_return
from toolkit.evaluation.time_to_return_compare import paired_time_to_return_delta
from toolkit.heads.hazard_loss import pack_targets

# (train rows, test rows) -> (train blocks, test blocks): featurizers fitted on the training rows only.
Featurize = Callable[[np.ndarray, np.ndarray], tuple[list, list]]


@dataclass
class TimeToReturnPredictions:
    risk: np.ndarray  # (R, n) out-of-fold risk per repeat
    surv: np.ndarray  # (R, n, K) out-of-fold survival at the end of each bin


def time_to_return_folds(label: TimeToReturn, evaluation, seed: int) -> list[Fold]:
    """The evaluation's folds, stratified by whether a return was seen."""
    if not label.in_analysis.all():
        raise ToolkitError("every user in a time-to-return evaluation must be in the analysis; "
                           "select them with label.rows(label.in_analysis) first.")
    return make_folds(label.event.astype(int), evaluation, seed)


def out_of_fold(label: TimeToReturn, featurize: Featurize, make_head: Callable, folds: list[Fold], *,
                training, seed: int, on_epoch=None, on_fold=None) -> TimeToReturnPredictions:
    """Fit a fresh head per fold and collect its test users' predictions.

    ``on_epoch`` reaches the head's ``fit``; ``on_fold(fold, head, seconds)`` is called after each fold
    with the seconds its training took (graph tracing excluded, as for the binary heads).
    """
    targets = pack_targets(label)
    n, bins = label.at_risk.shape
    repeats = max(f.repeat for f in folds) + 1
    risk, surv = np.full((repeats, n), np.nan), np.full((repeats, n, bins), np.nan)
    for fold in folds:
        train_blocks, test_blocks = featurize(fold.train, fold.test)
        fit, val = carve_validation(label.event[fold.train].astype(int), training.validation_fraction,
                                    seed + fold.repeat * 1000 + fold.fold)
        y = targets[fold.train]
        start = time.perf_counter()
        head = make_head().fit([b.rows(fit) for b in train_blocks], y[fit],
                               validation=([b.rows(val) for b in train_blocks], y[val]), training=training, seed=seed,
                               on_epoch=on_epoch)
        seconds = time.perf_counter() - start - getattr(head, "tracing_seconds_", 0.0)
        risk[fold.repeat, fold.test] = head.predict_risk(test_blocks)
        surv[fold.repeat, fold.test] = head.predict_survival(test_blocks)
        if on_fold is not None:
            on_fold(fold, head, seconds)
    if np.isnan(risk).any():
        raise ToolkitError("the folds did not score every user once per repeat (use k-fold, not a single split).")
    return TimeToReturnPredictions(risk, surv)


def fixed_blocks(blocks: list) -> Featurize:
    """A ``featurize`` for blocks that learn nothing from users (computed once for all of them)."""
    return lambda train, test: ([b.rows(train) for b in blocks], [b.rows(test) for b in blocks])


def metric_grid(label: TimeToReturn) -> np.ndarray:
    """The bins the survival curves are scored at: from the earliest time to the one before the latest."""
    time = label.time
    grid = np.arange(int(time.min()), int(time.max()))
    if len(grid) < 2:
        raise ToolkitError(f"the users' times span {len(grid) + 1} bin(s); the metrics need at least three.")
    return grid


def fold_of(folds: list[Fold], label: TimeToReturn) -> np.ndarray | None:
    """Each user's test fold per repeat, (R, n), for the corrected intervals (None below two folds)."""
    return fold_ids(folds, len(label.event_last), max(f.repeat for f in folds) + 1)


def paired_metric_delta(label: TimeToReturn, a: TimeToReturnPredictions, b: TimeToReturnPredictions, *,
                        metric: str = "c_index", n_boot: int = 1000, confidence: float = 0.95, seed: int = 0,
                        folds: np.ndarray | None = None) -> dict:
    """The paired difference a - b of one metric (:mod:`toolkit.evaluation.time_to_return_compare`).

    ``folds`` (:func:`fold_of`): the corrected t over the test folds; None: the paired user bootstrap.
    """
    grid = metric_grid(label)
    return paired_time_to_return_delta(label.time.astype(float), label.event, (a.risk, a.surv[:, :, grid]),
                                       (b.risk, b.surv[:, :, grid]), grid, metric=metric, n_boot=n_boot,
                                       confidence=confidence, seed=seed, fold_of=folds)


def survival_metrics(label: TimeToReturn, preds: TimeToReturnPredictions, *, horizons_days, tau_days=None,
                     n_boot: int = 1000, confidence: float = 0.95, seed: int = 0,
                     folds: np.ndarray | None = None) -> dict:
    """``{"c_index", "uno_c", "ibs", "auc_at": {"<days>": ...}}``, each ``{"mean", "ci_low", "ci_high"}``.

    ``ibs`` integrates over the bins from the earliest time to the one before the latest; the AUC's
    keys are the horizons in days after ``after_days``; ``tau_days`` truncates ``uno_c`` there.
    ``folds`` (:func:`fold_of`): intervals from the corrected t over the test folds (and
    ``p_vs_chance`` for the C-index and Uno's C); None: the user bootstrap.
    """
    time, event = label.time.astype(float), label.event
    grid = metric_grid(label)
    hz = [label.horizon_bin(h) for h in horizons_days]
    tau = None if tau_days is None else label.horizon_bin(tau_days) + 1
    out = summarize_time_to_return(time, event, preds.risk, preds.surv[:, :, grid], grid, horizons=hz, tau=tau,
                                   n_boot=n_boot, confidence=confidence, seed=seed, fold_of=folds)
    out["auc_at"] = {f"{h:g}": out["auc_at"][f"{k:g}"] for h, k in zip(horizons_days, hz)}
    return out
