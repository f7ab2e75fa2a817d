"""``logreg``: scikit-learn logistic regression, the non-deep baseline."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from toolkit.features.blocks import Block, kinds_text
from toolkit.heads.base import Head
from toolkit.params import Interval
from toolkit.registry import register_head


def stack(blocks: list[Block]):
    """Side by side, staying sparse when any block is sparse (TF-IDF can be wide)."""
    import scipy.sparse as sp

    if any(b.kind == "sparse" for b in blocks):
        return sp.hstack([sp.csr_matrix(b.data) for b in blocks], format="csr")
    return np.hstack([np.asarray(b.data) for b in blocks])


@register_head("logreg")
class LogRegHead(Head):
    """L2-regularized logistic regression on the concatenated dense and sparse blocks.

    Uses ``training.class_weight`` and ``training.resample``; ignores epochs,
    batch size and learning rate.

    Example spec block:
        head: {type: logreg, C: 1.0}

    Args:
        C: inverse regularization strength.
        max_iter: iteration limit of the solver.
    """

    param_constraints = {"C": Interval(0, None, closed_low=False), "max_iter": Interval(1, None)}

    def __init__(self, *, C: float = 1.0, max_iter: int = 1000):
        self.C = C
        self.max_iter = max_iter

    def check_blocks(self, kinds: Sequence[tuple[str, str]]) -> str | None:
        seq = [name for name, kind in kinds if kind == "sequence"]
        if not kinds or seq:
            return (f"logreg takes dense and sparse blocks; got {kinds_text(kinds)}. "
                    "Use head 'lstm' or 'hybrid' for sequence blocks.")
        return None

    def fit(self, blocks, y, *, validation, training, seed, on_epoch=None):
        from sklearn.linear_model import LogisticRegression

        (x,), y = training.resample_arrays([stack(blocks)], np.asarray(y).astype(int), seed)
        self.model_ = LogisticRegression(
            C=self.C,
            max_iter=self.max_iter,
            class_weight="balanced" if training.class_weight == "balanced" else None,
            random_state=seed,
        )
        self.model_.fit(x, y)
        if on_epoch is not None:
            on_epoch(1, 1, {})
        return self

    def predict(self, blocks):
        return self.model_.predict_proba(stack(blocks))[:, 1]

    def count_params(self) -> int:
        return int(self.model_.coef_.size + self.model_.intercept_.size)

    def flops_per_user(self) -> float:
        return 2.0 * self.model_.coef_.size
