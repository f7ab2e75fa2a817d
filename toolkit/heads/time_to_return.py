"""The contract of a head that learns time to return (``label.time_to_return``).

Such a head's ``fit`` takes :func:`toolkit.heads.hazard_loss.pack_targets`' (n, 2 x bins) array
as ``y`` (the at-risk mask, then the bins the return may lie in), and it predicts two things the
time-to-return metrics read (:mod:`toolkit.evaluation.time_to_return_cv`):

* :meth:`TimeToReturnHead.predict_risk`: one number per user, higher returning sooner (the
  C-index and the time-dependent AUC rank users by it);
* :meth:`TimeToReturnHead.predict_survival`: each user's chance of no return by the end of each
  bin, (n, bins), non-increasing along a row (the IBS and the calibration curves read it).

``predict`` (the yes/no contract) is the chance of a return by the end of follow-up. A
third-party head for this label subclasses this base; the spec's validation checks that the head
learns the task's target (``targets``).
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from toolkit.heads.base import Head


class TimeToReturnHead(Head):
    """Base class for heads of the time-to-return label."""

    targets: ClassVar[tuple[str, ...]] = ("time_to_return",)

    def predict_risk(self, blocks) -> np.ndarray:
        """One score per user; higher returns sooner."""
        raise NotImplementedError

    def predict_survival(self, blocks) -> np.ndarray:
        """Each user's chance of no return by the end of each bin, (n, bins)."""
        raise NotImplementedError

    def predict(self, blocks) -> np.ndarray:
        """The chance of a return by the end of follow-up, in [0, 1]."""
        return np.clip(1.0 - self.predict_survival(blocks)[:, -1], 0.0, 1.0)
