"""Feature blocks: what a featurizer produces and a head consumes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Sequence

import numpy as np

BlockKind = Literal["dense", "sparse", "sequence"]


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


def kinds_text(kinds: Sequence[tuple[str, str]]) -> str:
    """``tfidf (sparse), behavior (dense)``: blocks named for a message."""
    return ", ".join(f"{name} ({kind})" for name, kind in kinds) or "no blocks"


def as_float32(block: Any) -> Any:
    """Blocks travel as float32: half the memory of float64 and what Keras wants."""
    if hasattr(block, "astype") and getattr(block, "dtype", None) != np.float32:
        return block.astype(np.float32)
    return block
