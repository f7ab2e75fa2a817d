"""The ``temporal`` featurizer: the daily activity sequence, for sequence heads."""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from toolkit.errors import ToolkitError
from toolkit.featurizers.base import Featurizer
from toolkit.registry import register_featurizer


@register_featurizer("temporal")
class TemporalFeaturizer(Featurizer):
    """Daily posting activity as a ``(users, steps, channels)`` block.

    Channel 0 is ``log1p(posts that day)``; channel 1, with ``counts_and_mask``,
    is 1.0 on the days inside the user's observation window, so a head can tell
    "no posts" from "not observed".

    Example spec block:
        - {type: temporal, channels: counts_and_mask, scale: true}

    Args:
        channels: ``counts`` keeps channel 0 only; ``counts_and_mask`` keeps both.
        scale: Divide the count channel by its largest value among the training
            users, so training values lie in [0, 1] (test users may exceed 1).
    """

    kind = "sequence"

    def __init__(self, *, channels: Literal["counts", "counts_and_mask"] = "counts_and_mask", scale: bool = True):
        self.channels = channels
        self.scale = scale

    def _stack(self, users: pd.DataFrame, steps: int | None) -> np.ndarray:
        if "activity" not in users.columns:
            raise ToolkitError("The users table must have an 'activity' column for the temporal featurizer.")
        arrays = [np.asarray(a, dtype=np.float32) for a in users["activity"]]
        if not arrays:
            return np.zeros((0, steps or 0, 2), dtype=np.float32)
        expected = (steps if steps is not None else arrays[0].shape[0], 2)
        for user_id, a in zip(users.get("user_id", range(len(arrays))), arrays):
            if a.shape != expected:
                seen = "seen in fit" if steps is not None else "of the first user"
                raise ToolkitError(
                    f"Every user's activity must have shape (steps, 2) with the {expected[0]} steps {seen}. "
                    f"User {user_id!r} has shape {a.shape}."
                )
        return np.stack(arrays)

    def fit(self, users: pd.DataFrame) -> "TemporalFeaturizer":
        # ``channels`` is a Literal: the spec's schema already refused any other value
        block = self._stack(users, None)
        self.steps_ = int(block.shape[1])
        peak = float(block[..., 0].max()) if block.size else 0.0
        # No training user posted at all: nothing to scale by, so leave counts as they are.
        self.count_scale_ = peak if peak > 0 else 1.0
        return self

    def transform(self, users: pd.DataFrame) -> np.ndarray:
        block = self._stack(users, self.steps_)
        if self.channels == "counts":
            block = block[..., :1]
        block = np.array(block, dtype=np.float32)  # a copy: never scale the caller's arrays in place
        if self.scale:
            block[..., 0] /= self.count_scale_
        return block

    def flops_per_user(self) -> float:
        return float(getattr(self, "steps_", 0))
