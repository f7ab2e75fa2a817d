"""``hybrid``: one branch per feature block, concatenated, then the reference dense stack."""

from __future__ import annotations

from typing import Literal, Sequence

from toolkit.heads.keras_head import KerasHead, dense_stack, l2_regularizer, linear_over, sigmoid_score, sparse_input, wide_mode
from toolkit.params import Interval
from toolkit.registry import register_head


@register_head("hybrid")
class HybridHead(KerasHead):
    """The reference study's hybrid model.

    Each dense or sparse block (text embeddings, TF-IDF, behavior) gets its own
    Dense branch; each sequence block (``temporal``) gets an LSTM branch. The
    branches are concatenated and go through Dense 128/64 with BatchNorm and
    Dropout, then a sigmoid.

    Example spec block:
        head: {type: hybrid, branch_units: 64, lstm_units: 32, units: [128, 64]}

    Args:
        branch_units: width of the Dense layer on each dense or sparse block.
        lstm_units: size of the LSTM state on each sequence block.
        units: widths of the shared Dense layers after the concatenation.
        dropout: dropout rate after each shared Dense layer.
        batch_norm: whether to put BatchNormalization after each Dense layer.
        branch_batch_norm: whether to put BatchNormalization after each branch's Dense layer too
            (the seed's hybrid did).
        batch_norm_momentum: momentum of the BatchNormalization layers (see ``mlp``).
        l2: L2 penalty on each branch's Dense kernel (the layers that read the features).
        wide: a linear path from the dense and sparse blocks to the output logit (see ``mlp``;
            the default ``logreg`` starts the network as the logistic regression on those blocks).
        wide_l2: L2 penalty on the wide path's weights (``wide: true``).
        wide_C: inverse regularization strength of that logistic regression (``wide: logreg``).
        platt: fit the output's scale and offset on the validation part after training
            (see ``mlp``).
    """

    param_constraints = {
        "branch_units": Interval(1, None),
        "lstm_units": Interval(1, None),
        "dropout": Interval(0, 1, closed_high=False),
        "l2": Interval(0, 1),
        "batch_norm_momentum": Interval(0, 1, closed_high=False),
        "wide_l2": Interval(0, 1), "wide_C": Interval(0, None, closed_low=False),
    }

    def __init__(
        self,
        *,
        branch_units: int = 64,
        lstm_units: int = 32,
        units: list[int] = (128, 64),
        dropout: float = 0.2,
        batch_norm: bool = True,
        branch_batch_norm: bool = False,
        batch_norm_momentum: float = 0.99,
        l2: float = 0.0,
        wide: bool | Literal["logreg"] = "logreg",
        wide_l2: float = 0.0,
        wide_C: float = 1.0,
        platt: bool = True,
    ):
        self.branch_units = branch_units
        self.lstm_units = lstm_units
        self.units = list(units)
        self.dropout = dropout
        self.batch_norm = batch_norm
        self.branch_batch_norm = branch_batch_norm
        self.batch_norm_momentum = batch_norm_momentum
        self.l2 = l2
        self.wide = wide
        self.wide_l2 = wide_l2
        self.wide_C = wide_C
        self.platt = platt

    def check_blocks(self, kinds: Sequence[tuple[str, str]]) -> str | None:
        if not kinds:
            return "hybrid needs at least one feature block."
        return None

    def build(self, keras, blocks):
        inputs, branches = [], []
        for b in blocks:
            if b.kind == "sequence":
                inp = keras.Input(shape=tuple(b.data.shape[1:]), name=f"in_{b.name}")
                branch = keras.layers.LSTM(self.lstm_units, name=f"{b.name}_lstm")(inp)
            else:
                inp = sparse_input(keras, b)  # a sparse block's branch multiplies only its non-zeros
                branch = keras.layers.Dense(self.branch_units, activation="relu", name=f"{b.name}_dense",
                                            kernel_regularizer=l2_regularizer(keras, self.l2))(inp)
                if self.batch_norm and self.branch_batch_norm:
                    branch = keras.layers.BatchNormalization(momentum=self.batch_norm_momentum,
                                                                  name=f"{b.name}_bn")(branch)
            inputs.append(inp)
            branches.append(branch)
        x = branches[0] if len(branches) == 1 else keras.layers.Concatenate(name="concat")(branches)
        x = dense_stack(keras, x, self.units, self.dropout, self.batch_norm, prefix="shared_",
                        momentum=self.batch_norm_momentum)
        flat = [(inp, b) for inp, b in zip(inputs, blocks) if b.kind != "sequence"]
        mode, wide = wide_mode(self.wide), None
        if mode != "none" and flat:
            wide = linear_over(keras, [i for i, _ in flat], [b for _, b in flat], self.wide_l2, "wide")
        return keras.Model(inputs, sigmoid_score(keras, x, wide, residual=wide is not None and mode == "logreg"),
                           name="hybrid")
