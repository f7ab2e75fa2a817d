"""The ``behavior`` featurizer: the numeric per-user columns, standardized."""

from __future__ import annotations

import numpy as np
import pandas as pd

from toolkit.data.schema import BEHAVIOR_COLUMNS
from toolkit.errors import ToolkitError
from toolkit.featurizers.base import Featurizer
from toolkit.registry import register_featurizer


@register_featurizer("behavior")
class BehaviorFeaturizer(Featurizer):
    """Posting behavior (counts, engagement, posting hours, language share) as a dense block.

    Missing or infinite values become 0: the training mean when standardizing,
    so one odd user cannot put NaN into a head. A column that is constant among
    the training users is centred and left unscaled (no division by zero).

    Example spec block:
        - {type: behavior, columns: [n_posts, active_days, log_like_mean], standardize: true}

    Args:
        columns: The columns of ``toolkit.data.schema.BEHAVIOR_COLUMNS`` to use;
            ``None`` uses all of them.
        standardize: Subtract the training mean and divide by the training
            standard deviation (scikit-learn's ``StandardScaler``).
    """

    kind = "dense"

    def __init__(self, *, columns: list[str] | None = None, standardize: bool = True):
        self.columns = columns
        self.standardize = standardize

    def validate(self, where: str) -> None:
        """The column names, checked with the spec (``toolkit validate``), before any data is read."""
        if self.columns is None:
            return
        unknown = [c for c in self.columns if c not in BEHAVIOR_COLUMNS]
        if unknown:
            raise ToolkitError(
                f"{where}: the 'columns' parameter of BehaviorFeaturizer names unknown column(s) "
                f"{', '.join(map(repr, unknown))}. Valid: {', '.join(BEHAVIOR_COLUMNS)}."
            )
        if not self.columns:
            raise ToolkitError(f"{where}: the 'columns' parameter of BehaviorFeaturizer must name at least one "
                               "column. Got [].")

    def _columns(self) -> list[str]:
        self.validate("behavior")  # for a featurizer built in code, not from a spec
        return list(BEHAVIOR_COLUMNS) if self.columns is None else list(self.columns)

    def _values(self, users: pd.DataFrame, columns: list[str]) -> np.ndarray:
        missing = [c for c in columns if c not in users.columns]
        if missing:
            raise ToolkitError(f"The users table lacks the behavior column(s) {', '.join(missing)}.")
        # copy: pandas may hand back a read-only view, and the values are cleaned in place below
        values = np.array(users[columns].to_numpy(dtype=np.float64, na_value=np.nan), copy=True)
        values[~np.isfinite(values)] = np.nan
        return values

    def fit(self, users: pd.DataFrame) -> "BehaviorFeaturizer":
        self.columns_ = self._columns()
        values = self._values(users, self.columns_)
        if self.standardize:
            from sklearn.preprocessing import StandardScaler

            # StandardScaler skips NaN when fitting and gives zero-variance columns a scale of 1.
            self.scaler_ = StandardScaler().fit(values)
        else:
            self.scaler_ = None
        return self

    def transform(self, users: pd.DataFrame) -> np.ndarray:
        values = self._values(users, self.columns_)
        if self.scaler_ is not None and len(values):
            values = self.scaler_.transform(values)
        # NaN after scaling is the training mean; an all-NaN training column has no mean, so 0.
        return np.nan_to_num(values, nan=0.0, posinf=0.0, neginf=0.0).astype(np.float32)

    def flops_per_user(self) -> float:
        return 2.0 * len(self._columns())
