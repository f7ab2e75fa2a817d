"""Train/test folds and the validation part carved from each training fold."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from toolkit.errors import ToolkitError
from toolkit.evaluation.permutation import AUTO_BELOW_POSITIVES


@dataclass(frozen=True)
class Fold:
    repeat: int
    fold: int
    train: np.ndarray  # row indices the featurizers and the head may learn from
    test: np.ndarray  # row indices scored out of fold


def make_folds(y: np.ndarray, evaluation, seed: int) -> list[Fold]:
    """Repeated stratified k-fold, or one stratified split; the same for every spec with this seed."""
    from sklearn.model_selection import RepeatedStratifiedKFold, StratifiedShuffleSplit

    y = np.asarray(y)
    if evaluation.split:
        splitter = StratifiedShuffleSplit(
            n_splits=1, test_size=evaluation.test_fraction, random_state=seed
        )
        return [Fold(0, 0, tr, te) for tr, te in splitter.split(np.zeros(len(y)), y)]
    k, repeats = evaluation.folds, evaluation.repeats
    splitter = RepeatedStratifiedKFold(n_splits=k, n_repeats=repeats, random_state=seed)
    return [Fold(i // k, i % k, tr, te) for i, (tr, te) in enumerate(splitter.split(np.zeros(len(y)), y))]


def check_positives(y: np.ndarray, evaluation, *, counts: str = "") -> None:
    """Stop before any training when a test fold would hold too few positives (or negatives).

    ``counts`` (the data report's users in the file, in the cohort and censored)
    goes into the message, so the user sees where the users went.
    """
    y = np.asarray(y)
    n, pos = len(y), int(y.sum())
    neg = n - pos
    need = evaluation.min_positives_per_fold
    if evaluation.split:
        frac = evaluation.test_fraction
        per_fold, how = int(np.floor(pos * frac)), f"a test split of {frac:g}"
        fewer = "a larger evaluation.split.test_fraction"
    else:
        k = evaluation.folds
        per_fold, how = pos // k, f"{k} folds"
        fewer = f"fewer folds (evaluation.cv.folds, now {k})"
    if per_fold < need:
        raise ToolkitError(
            f"Too few positives to evaluate: the label gives {pos} retained users among {n} labelled users "
            f"(positive rate {pos / max(n, 1):.2%}){'; ' + counts if counts else ''}; with {how} a test fold would hold as few as {per_fold} "
            f"positives, fewer than evaluation.min_positives_per_fold = {need}. To change this: use {fewer}, "
            "a wider label window (label.retained_if), a larger cohort (label.cohort), more data, "
            "or a lower evaluation.min_positives_per_fold, which costs power: with a handful of positives a "
            "test fold's metric is noise, the per-fold intervals come out wide, and the permutation test's "
            f"p-value (evaluation.permutations, on by default below {AUTO_BELOW_POSITIVES} positives) is the "
            "number to read."
        )
    if neg < (evaluation.folds if not evaluation.split else 2):
        raise ToolkitError(f"Too few negatives to evaluate: {neg} of {n} labelled users are not retained.")


def carve_validation(labels: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Split a training fold (positions 0..n-1, with these labels) into fit and validation positions.

    Stratified when both classes have at least two rows (and the parts room for both), so rare
    positives reach the validation part (it picks the threshold and drives early stopping). A
    class with a single row stays in the fit part: a head cannot learn a class it never sees
    (scikit-learn's heads stop with a traceback; a network trains silently on one class), while a
    validation part without it only makes the threshold fall back (:mod:`toolkit.evaluation.fallback`)
    and leaves the fold uncalibrated.
    """
    from sklearn.model_selection import train_test_split

    labels = np.asarray(labels).astype(int)
    counts = np.bincount(labels, minlength=2)
    every = np.arange(len(labels))
    lone = every[counts[labels] == 1]
    pool = every[counts[labels] != 1]
    n_val = int(np.ceil(fraction * len(pool)))
    if len(pool) < 2 or n_val >= len(pool):
        return np.sort(np.concatenate([pool, lone])), np.zeros(0, dtype=int)
    stratify = labels[pool] if counts.min() >= 2 and 2 <= n_val <= len(pool) - 2 else None
    fit, val = train_test_split(pool, test_size=fraction, random_state=seed, stratify=stratify)
    return np.sort(np.concatenate([fit, lone])), np.sort(val)
