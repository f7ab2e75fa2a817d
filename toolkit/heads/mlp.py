"""``mlp``: the reference study's dense stack over the concatenated blocks."""

from __future__ import annotations

from typing import Literal, Sequence

from toolkit.features.blocks import kinds_text
from toolkit.heads.concat_dense import concat_dense_class
from toolkit.heads.keras_head import KerasHead, dense_stack, linear_over, sigmoid_score, sparse_input, wide_mode
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
        batch_norm_momentum: momentum of the BatchNormalization layers' moving mean and variance,
            which score the users after training.
        l2: L2 penalty on the first Dense layer's kernel, the one that reads the features
            (with TF-IDF, most of the model's weights). 0 turns it off.
        wide: a linear ("wide") path from the features to the output logit beside the deep
            stack. ``logreg`` (the default): the path is the logistic regression the ``logreg``
            head fits on the same training part (``wide_C``), frozen, and the deep stack's
            logit starts at zero, so the network starts as that model and learns only its
            residual; a fold whose trained network ranks its validation part no better than
            the start keeps the start. ``true``: a linear path trained with the network from
            a random start (wide-and-deep). ``false``: none (the seed's network alone).
        wide_l2: L2 penalty on the wide path's weights (``wide: true``).
        wide_C: inverse regularization strength of the logistic regression (``wide: logreg``).
        platt: after training, fit the output's scale and offset on the validation part
            (Platt scaling, :func:`~toolkit.heads.keras_head.fit_platt`), so folds stopped at
            different epochs score on one scale. Monotone: it never changes a fold's ranking.
    """

    param_constraints = {"dropout": Interval(0, 1, closed_high=False), "l2": Interval(0, 1),
                         "batch_norm_momentum": Interval(0, 1, closed_high=False),
                         "wide_l2": Interval(0, 1), "wide_C": Interval(0, None, closed_low=False)}

    def __init__(self, *, units: list[int] = (128, 64), dropout: float = 0.2, batch_norm: bool = True,
                 batch_norm_momentum: float = 0.99, l2: float = 0.0, wide: bool | Literal["logreg"] = "logreg", wide_l2: float = 0.0, wide_C: float = 1.0, platt: bool = True):
        self.units = list(units)
        self.dropout = dropout
        self.batch_norm = batch_norm
        self.batch_norm_momentum = batch_norm_momentum
        self.l2 = l2
        self.wide = wide
        self.wide_l2 = wide_l2
        self.wide_C = wide_C
        self.platt = platt

    def check_blocks(self, kinds: Sequence[tuple[str, str]]) -> str | None:
        if not kinds:
            return "mlp needs at least one feature block."
        seq = [name for name, kind in kinds if kind == "sequence"]
        if seq:
            return (f"mlp takes dense and sparse blocks; {', '.join(seq)} gives a sequence block "
                    f"(got {kinds_text(kinds)}). Use head 'lstm' or 'hybrid' for sequences.")
        return None

    def build(self, keras, blocks):
        inputs, x = mlp_trunk(keras, blocks, self.units, self.dropout, self.batch_norm, self.l2,
                             self.batch_norm_momentum)
        mode = wide_mode(self.wide)
        wide = linear_over(keras, inputs, blocks, self.wide_l2, "wide") if mode != "none" else None
        return keras.Model(inputs, sigmoid_score(keras, x, wide, residual=mode == "logreg"), name="mlp")


def mlp_trunk(keras, blocks, units: list[int], dropout: float, batch_norm: bool, l2: float = 0.0,
              momentum: float = 0.99):
    """The inputs of ``blocks`` and the MLP's dense stack over them (shared with the hazard head)."""
    inputs = [sparse_input(keras, b) for b in blocks]
    if any(b.kind == "sparse" for b in blocks) and units:
        # The first layer multiplies each block by its slice of one kernel, so a
        # sparse block is never densified (same weights as Dense over the concatenation).
        first = concat_dense_class()(units[0], activation="relu", l2=l2, name="dense_0")
        return inputs, dense_stack(keras, inputs, units, dropout, batch_norm, prefix="", first=first,
                                   momentum=momentum)
    x = inputs[0] if len(inputs) == 1 else keras.layers.Concatenate(name="concat")(inputs)
    return inputs, dense_stack(keras, x, units, dropout, batch_norm, prefix="", first_l2=l2, momentum=momentum)
