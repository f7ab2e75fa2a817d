"""The head contract: takes feature blocks, trains a scorer, returns scores in [0, 1].

``from toolkit.heads import Head`` is the public base class. A head declares its
parameters the same way a featurizer does (keyword-only ``__init__``), says which
blocks it can take in :meth:`Head.check_blocks` (checked when the spec is
validated, before any work) and implements :meth:`fit` and :meth:`predict`.
Non-Keras scorers are welcome (the ``logreg`` baseline is scikit-learn).
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, ClassVar, Sequence

import numpy as np

from toolkit.params import declared_params
from toolkit.training import TrainingConfig


@dataclass
class Block:
    """One featurizer's output for a set of users."""

    name: str  # the featurizer's registry key, with a suffix when used twice
    kind: str  # "dense", "sparse" or "sequence"
    data: Any  # 2-D array, SciPy sparse matrix, or (users, steps, channels) array

    def rows(self, index: np.ndarray) -> "Block":
        return Block(self.name, self.kind, self.data[index])

    @property
    def width(self) -> int:
        return int(self.data.shape[1]) if self.kind != "sequence" else int(self.data.shape[2])


EpochCallback = Callable[[int, int, dict], None]  # (epoch, epochs, logs)


class Head:
    """Base class for head plugins."""

    #: set by ``@register_head``
    registry_name: ClassVar[str] = ""
    #: file the trained head is saved to inside a results folder
    filename: ClassVar[str] = "head.pkl"

    def check_blocks(self, kinds: Sequence[tuple[str, str]]) -> str | None:
        """Return why this head cannot take blocks of these ``(name, kind)``, or None if it can."""
        return None

    def fit(
        self,
        blocks: list[Block],
        y: np.ndarray,
        *,
        validation: tuple[list[Block], np.ndarray],
        training: TrainingConfig,
        seed: int,
        on_epoch: EpochCallback | None = None,
    ) -> "Head":
        raise NotImplementedError

    def predict(self, blocks: list[Block]) -> np.ndarray:
        """Scores in [0, 1], one per user; higher means more likely retained."""
        raise NotImplementedError

    def count_params(self) -> int:
        """Trainable parameters of the fitted head."""
        return 0

    def flops_per_user(self) -> float:
        """A rough count of floating-point operations to score one user."""
        return 0.0

    def get_config(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in declared_params(type(self))}

    def save(self, folder: str | Path) -> Path:
        path = Path(folder) / self.filename
        with open(path, "wb") as fh:
            pickle.dump(self, fh, protocol=pickle.HIGHEST_PROTOCOL)
        return path

    @classmethod
    def load(cls, path: str | Path) -> "Head":
        with open(path, "rb") as fh:
            return pickle.load(fh)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


def kinds_text(kinds: Sequence[tuple[str, str]]) -> str:
    return ", ".join(f"{name} ({kind})" for name, kind in kinds) or "no blocks"
