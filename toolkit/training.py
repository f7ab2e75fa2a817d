"""Training settings shared by every head: the spec's ``training:`` block."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

import numpy as np

from toolkit.errors import ToolkitError
from toolkit.params import Interval

SMOTE_INSTALL = "pip install 'retention-toolkit[imbalance]' (or: pip install imbalanced-learn)"


def smote_problem(kinds) -> str | None:
    """Why ``resample: smote`` cannot take blocks of these ``(name, kind)``, or None.

    SMOTE draws new rows on the line between two minority neighbours, which needs
    every block dense: a sparse TF-IDF row or a daily sequence has no meaningful
    midpoint here. A spec check can call this before any work.
    """
    other = [f"{name} ({kind})" for name, kind in kinds if kind != "dense"]
    if other:
        return (f"training.resample: smote interpolates dense feature rows; got {', '.join(other)}. Use dense "
                "blocks only (e.g. tfidf with svd_components, behavior), or resample: oversample.")
    return None


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
    # applied to the training part only; smote interpolates new positives between dense feature rows
    resample: Literal["none", "oversample", "undersample", "smote"] = "none"
    # map scores to probabilities on the validation part (toolkit.evaluation.calibration)
    calibrate: Literal["none", "sigmoid", "isotonic"] = "none"
    validation_fraction: float = 0.15  # carved from the training fold: early stopping and the threshold
    # what early stopping and the learning-rate cut watch on the validation part: auc (ROC-AUC,
    # binary heads) or loss; the hazard head always watches its loss
    monitor: Literal["auc", "loss"] = "auc"
    early_stopping_patience: int = 5  # epochs without improvement before stopping
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

    def resample_arrays(self, arrays: list, y: np.ndarray, seed: int) -> tuple[list, np.ndarray]:
        """The training part's feature arrays and labels after resampling (all of them alike).

        ``none``/``oversample``/``undersample`` select rows (:meth:`resample_indices`);
        ``smote`` (imbalanced-learn) adds synthetic minority rows until both classes
        are equally frequent, with ``k_neighbors`` lowered to the minority count - 1
        when the training part holds fewer than 6 minority users.
        """
        y = np.asarray(y)
        if self.resample != "smote":
            rows = self.resample_indices(y.astype(int), seed)
            return [a[rows] for a in arrays], y[rows]
        try:
            from imblearn.over_sampling import SMOTE
        except ImportError:
            raise ToolkitError(f"training.resample: smote needs imbalanced-learn, which is not installed. {SMOTE_INSTALL}") from None
        bad = [i for i, a in enumerate(arrays) if not isinstance(a, np.ndarray) or a.ndim != 2]
        if bad:
            raise ToolkitError(smote_problem([(f"block {i}", "sparse or sequence") for i in bad]))
        minority = int(min(np.sum(y == 1), np.sum(y == 0)))
        if minority < 2:
            return list(arrays), y
        widths = np.cumsum([a.shape[1] for a in arrays])[:-1]
        x, y_new = SMOTE(k_neighbors=min(5, minority - 1), random_state=seed).fit_resample(np.hstack(arrays), y)
        return [part.astype(a.dtype, copy=False) for part, a in zip(np.split(x, widths, axis=1), arrays)], y_new

    def resample_indices(self, y: np.ndarray, seed: int) -> np.ndarray:
        """Row indices of the training part after resampling, so both classes are equally frequent."""
        idx = np.arange(len(y))
        if self.resample in ("none", "smote"):  # smote goes through resample_arrays
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
