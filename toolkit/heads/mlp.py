"""``mlp``: the reference study's dense stack over the concatenated blocks."""

from __future__ import annotations

from typing import Sequence

from toolkit.features.blocks import kinds_text
from toolkit.heads.concat_dense import concat_dense_class
from toolkit.heads.keras_head import KerasHead, dense_stack, sparse_input
from toolkit.params import Interval
from toolkit.registry import register_head


@register_head("mlp")
class MLPHead(KerasHead):
    """Dense 128 ReLU, BatchNorm, Dropout 0.2; Dense 64 ReLU, BatchNorm, Dropout 0.2; sigmoid.

    Takes dense and sparse blocks (side by side; a sparse block is never densified,
    see ``ConcatDense``); a sequence block needs ``lstm``
    or ``hybrid``.

    Example spec block:
        head: {type: mlp, units: [128, 64], dropout: 0.2}

    Args:
        units: widths of the hidden Dense layers, in order.
        dropout: dropout rate after each hidden layer.
        batch_norm: whether to put BatchNormalization after each hidden layer.
    """

    param_constraints = {"dropout": Interval(0, 1, closed_high=False)}

    def __init__(self, *, units: list[int] = (128, 64), dropout: float = 0.2, batch_norm: bool = True):
        self.units = list(units)
        self.dropout = dropout
        self.batch_norm = batch_norm

    def check_blocks(self, kinds: Sequence[tuple[str, str]]) -> str | None:
        if not kinds:
            return "mlp needs at least one feature block."
        seq = [name for name, kind in kinds if kind == "sequence"]
        if seq:
            return (f"mlp takes dense and sparse blocks; {', '.join(seq)} gives a sequence block "
                    f"(got {kinds_text(kinds)}). Use head 'lstm' or 'hybrid' for sequences.")
        return None

    def build(self, keras, blocks):
        inputs, x = mlp_trunk(keras, blocks, self.units, self.dropout, self.batch_norm)
        out = keras.layers.Dense(1, activation="sigmoid", name="score")(x)
        return keras.Model(inputs, out, name="mlp")


def mlp_trunk(keras, blocks, units: list[int], dropout: float, batch_norm: bool):
    """The inputs of ``blocks`` and the MLP's dense stack over them (shared with the hazard head)."""
    inputs = [sparse_input(keras, b) for b in blocks]
    if any(b.kind == "sparse" for b in blocks) and units:
        # The first layer multiplies each block by its slice of one kernel, so a
        # sparse block is never densified (same weights as Dense over the concatenation).
        first = concat_dense_class()(units[0], activation="relu", name="dense_0")
        return inputs, dense_stack(keras, inputs, units, dropout, batch_norm, prefix="", first=first)
    x = inputs[0] if len(inputs) == 1 else keras.layers.Concatenate(name="concat")(inputs)
    return inputs, dense_stack(keras, x, units, dropout, batch_norm, prefix="")
