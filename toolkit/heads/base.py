"""The head contract: takes feature blocks, trains a scorer, returns scores in [0, 1].

``from toolkit.heads import Head`` is the public base class. A head declares its
parameters the same way a featurizer does (keyword-only ``__init__``), says which
blocks it can take in :meth:`Head.check_blocks` (checked when the spec is
validated, before any work) and implements :meth:`fit` and :meth:`predict`.
Non-Keras scorers are welcome (the ``logreg`` baseline is scikit-learn).
"""

from __future__ import annotations

from typing import Callable, ClassVar, Sequence

import numpy as np

from toolkit.features.blocks import Block
from toolkit.plugin import Plugin
from toolkit.training import TrainingConfig


EpochCallback = Callable[[int, int, dict], None]  # (epoch, epochs, logs)


class Head(Plugin):
    """Base class for head plugins."""

    #: file the trained head is saved to inside a results folder
    filename: ClassVar[str] = "head.pkl"
    #: the targets the head can learn (a task's ``target``, :mod:`toolkit.tasks`): ``binary`` targets are
    #: 0/1 per user; ``time_to_return`` targets are :func:`toolkit.heads.hazard_loss.pack_targets`'
    #: (n, 2 x bins) array
    targets: ClassVar[tuple[str, ...]] = ("binary",)

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


def kept_start(head) -> dict:
    """``{"kept_start": bool}`` for a head that starts from a linear model (``wide: logreg``/``cox``), else ``{}``.

    True when the fold's trained network did no better on its validation part than the linear
    model it started from and kept that start: a fold's record says whether the network added
    anything there.
    """
    return {"kept_start": bool(head.kept_start_)} if hasattr(head, "kept_start_") else {}
