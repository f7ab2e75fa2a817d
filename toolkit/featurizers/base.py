"""The featurizer contract.

A featurizer turns the per-user table (see README, "The users table") into one
feature block. It follows scikit-learn:

* ``__init__`` takes keyword-only parameters, stores them as given and does no
  work; the annotated parameters and their defaults are the plugin's declared
  parameters (``toolkit plugins`` lists them, the spec is checked against them).
* ``fit(users)`` learns state from the training users only; learned attributes
  end in an underscore.
* ``transform(users)`` returns a block: a 2-D NumPy array (``dense``), a SciPy
  sparse matrix (``sparse``) or a 3-D array ``(users, steps, channels)``
  (``sequence``).
"""

from __future__ import annotations

from typing import Any, ClassVar

import pandas as pd

from toolkit.features.blocks import BlockKind, as_float32  # noqa: F401  (as_float32: for plugins)
from toolkit.plugin import Plugin


class Featurizer(Plugin):
    """Base class for featurizer plugins.

    Subclasses set ``kind`` (or override :meth:`output_kind` when it depends on
    a parameter), and implement :meth:`fit` and :meth:`transform`.
    """

    #: the kind of block ``transform`` returns
    kind: ClassVar[BlockKind] = "dense"

    def output_kind(self) -> BlockKind:
        """The kind of block :meth:`transform` returns, known before fitting."""
        return self.kind

    def fit(self, users: pd.DataFrame) -> "Featurizer":
        return self

    def transform(self, users: pd.DataFrame) -> Any:
        raise NotImplementedError

    def fit_transform(self, users: pd.DataFrame) -> Any:
        return self.fit(users).transform(users)

    def flops_per_user(self) -> float:
        """A rough count of floating-point operations to featurize one user (after fit)."""
        return 0.0

    def warm_up(self) -> None:
        """Load whatever is expensive to load (a pretrained model) before timing starts."""

    def check_available(self) -> None:
        """Raise ToolkitError when something this featurizer needs (weights, a file) is missing.

        Called by ``validate`` and before a run does any work.
        """
