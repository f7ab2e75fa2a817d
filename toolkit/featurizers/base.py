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

import pickle
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
import pandas as pd

from toolkit.params import declared_params

BlockKind = Literal["dense", "sparse", "sequence"]


class Featurizer:
    """Base class for featurizer plugins.

    Subclasses set ``kind`` (or override :meth:`output_kind` when it depends on
    a parameter), and implement :meth:`fit` and :meth:`transform`.
    """

    #: the kind of block ``transform`` returns
    kind: ClassVar[BlockKind] = "dense"
    #: set by ``@register_featurizer``
    registry_name: ClassVar[str] = ""

    def output_kind(self) -> BlockKind:
        """The kind of block :meth:`transform` returns, known before fitting."""
        return self.kind

    def get_config(self) -> dict[str, Any]:
        """The constructor parameters, as given: the plugin's YAML block without ``type``."""
        return {name: getattr(self, name) for name in declared_params(type(self))}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "Featurizer":
        return cls(**config)

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

    # Persistence: pickle by default; a plugin holding an unpicklable object
    # (a fastText model) overrides __getstate__/__setstate__.
    def save(self, path: str | Path) -> None:
        with open(path, "wb") as fh:
            pickle.dump(self, fh, protocol=pickle.HIGHEST_PROTOCOL)

    @staticmethod
    def load(path: str | Path) -> "Featurizer":
        with open(path, "rb") as fh:
            return pickle.load(fh)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


def as_float32(block: Any) -> Any:
    """Blocks travel as float32: half the memory of float64 and what Keras wants."""
    if hasattr(block, "astype") and getattr(block, "dtype", None) != np.float32:
        return block.astype(np.float32)
    return block
