"""Training settings shared by every head: the spec's ``training:`` block."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

import numpy as np

from toolkit.params import Interval


@dataclass(kw_only=True)
class TrainingConfig:
    """How a head is trained; every field maps to a key of ``training:``.

    Example spec block::

        training: {epochs: 50, batch_size: 64, learning_rate: 0.001,
                   class_weight: balanced, loss: bce, resample: none}
    """

    epochs: int = 50  # upper bound; early stopping usually ends sooner
    batch_size: int = 64
    learning_rate: float = 0.001  # Adam's initial step size
    loss: Literal["bce", "focal"] = "bce"  # binary cross-entropy, or focal loss for rare positives
    focal_gamma: float = 2.0  # focusing strength of the focal loss
    class_weight: Literal["none", "balanced"] = "none"  # balanced: each class weighs half of the loss
    resample: Literal["none", "oversample", "undersample"] = "none"  # applied to the training part only
    validation_fraction: float = 0.15  # carved from the training fold: early stopping and the threshold
    early_stopping_patience: int = 5  # epochs without val-loss improvement before stopping
    reduce_lr_patience: int = 2  # epochs without improvement before the learning rate is cut
    reduce_lr_factor: float = 0.5

    param_constraints = {
        "epochs": Interval(1, 10_000),
        "batch_size": Interval(1, 1_000_000),
        "learning_rate": Interval(0, 10, closed_low=False),
        "focal_gamma": Interval(0, 10),
        "validation_fraction": Interval(0.05, 0.5),
        "early_stopping_patience": Interval(0, 10_000),
        "reduce_lr_patience": Interval(0, 10_000),
        "reduce_lr_factor": Interval(0, 1, closed_low=False, closed_high=False),
    }

    def to_dict(self) -> dict:
        return asdict(self)

    def class_weights(self, y: np.ndarray) -> dict[int, float] | None:
        """Keras-style class weights, or None. Balanced: n / (2 * n_class)."""
        if self.class_weight == "none":
            return None
        n, pos = len(y), int(np.sum(y))
        neg = n - pos
        if pos == 0 or neg == 0:
            return None
        return {0: n / (2.0 * neg), 1: n / (2.0 * pos)}

    def resample_indices(self, y: np.ndarray, seed: int) -> np.ndarray:
        """Row indices of the training part after resampling, so both classes are equally frequent."""
        idx = np.arange(len(y))
        if self.resample == "none":
            return idx
        rng = np.random.default_rng(seed)
        pos, neg = idx[y == 1], idx[y == 0]
        if len(pos) == 0 or len(neg) == 0:
            return idx
        minority, majority = (pos, neg) if len(pos) <= len(neg) else (neg, pos)
        if self.resample == "oversample":
            extra = rng.choice(minority, size=len(majority) - len(minority), replace=True)
            out = np.concatenate([idx, extra])
        else:
            out = np.concatenate([minority, rng.choice(majority, size=len(minority), replace=False)])
        return rng.permutation(out)
