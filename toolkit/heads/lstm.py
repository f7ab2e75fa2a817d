"""``lstm``: a recurrent scorer over the daily activity sequence."""

from __future__ import annotations

from typing import Sequence

from toolkit.features.blocks import kinds_text
from toolkit.heads.keras_head import KerasHead, dense_stack, sigmoid_score
from toolkit.params import Interval
from toolkit.registry import register_head


@register_head("lstm")
class LSTMHead(KerasHead):
    """LSTM over sequence blocks (channels concatenated), a Dense layer, sigmoid.

    Takes only sequence blocks (``temporal``); to add text or behavior use
    ``hybrid``.

    Example spec block:
        head: {type: lstm, lstm_units: 32, units: [64]}

    Args:
        lstm_units: size of the LSTM state.
        units: widths of the Dense layers after the LSTM.
        dropout: dropout rate after each Dense layer.
        batch_norm: whether to put BatchNormalization after each Dense layer.
        platt: fit the output's scale and offset on the validation part after training
            (see ``mlp``).
    """

    param_constraints = {"lstm_units": Interval(1, None), "dropout": Interval(0, 1, closed_high=False)}

    def __init__(self, *, lstm_units: int = 32, units: list[int] = (64,), dropout: float = 0.2, batch_norm: bool = True,
                 platt: bool = True):
        self.lstm_units = lstm_units
        self.units = list(units)
        self.dropout = dropout
        self.batch_norm = batch_norm
        self.platt = platt

    def check_blocks(self, kinds: Sequence[tuple[str, str]]) -> str | None:
        other = [name for name, kind in kinds if kind != "sequence"]
        if not kinds or other:
            return (f"lstm takes only sequence blocks (featurizer 'temporal'); got {kinds_text(kinds)}. "
                    "Use head 'hybrid' to combine a sequence with text or behavior blocks.")
        return None

    def build(self, keras, blocks):
        inputs = [keras.Input(shape=tuple(b.data.shape[1:]), name=f"in_{b.name}") for b in blocks]
        x = inputs[0] if len(inputs) == 1 else keras.layers.Concatenate(axis=-1, name="concat")(inputs)
        x = keras.layers.LSTM(self.lstm_units, name="lstm")(x)
        x = dense_stack(keras, x, self.units, self.dropout, self.batch_norm, prefix="")
        return keras.Model(inputs, sigmoid_score(keras, x), name="lstm")
