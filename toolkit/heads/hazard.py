"""``hazard``: a Keras discrete-time hazard model for the time-to-return label.

The MLP's dense stack over the concatenated blocks, then one logit per time bin; trained on
the censored discrete-time log-likelihood (:mod:`toolkit.heads.hazard_loss`), which skips
the bins the crawl did not cover. The number of bins comes from the targets
(:func:`toolkit.heads.hazard_loss.pack_targets`), i.e. from the label's bin edges.
"""

from __future__ import annotations

from typing import Literal, Sequence

import numpy as np

from toolkit.errors import ToolkitError
from toolkit.features.blocks import kinds_text
from toolkit.heads.hazard_loss import hazard_loss_fn, initial_logits, survival_from_logits
from toolkit.heads.keras_head import KerasHead, _EpochTimer, linear_over, mean_nonzeros, to_input, training_callbacks, watched
from toolkit.heads.time_to_return import TimeToReturnHead
from toolkit.heads.mlp import mlp_trunk
from toolkit.params import Interval
from toolkit.registry import register_head


@register_head("hazard")
class HazardHead(KerasHead, TimeToReturnHead):
    """Dense 128 ReLU, BatchNorm, Dropout; Dense 64 ReLU, BatchNorm, Dropout; one logit per bin.

    Example spec block:
        head: {type: hazard, units: [128, 64], dropout: 0.2}

    Args:
        units: widths of the hidden Dense layers, in order.
        dropout: dropout rate after each hidden layer.
        batch_norm: whether to put BatchNormalization after each hidden layer.
        wide: ``cox`` (the default): a frozen linear path adds the ``cox`` head's risk score,
            fitted on the same training part (``wide_penalizer``), to every bin's logit, and
            the deep stack's logits start at zero: the network starts as that proportional
            model (a discrete-time, logit-link reading of it) and learns only its residual. A
            fold whose trained network fits its validation part no better (hazard loss) than
            the start keeps the start. ``true`` means the same; ``false``: the seed's network alone.
        wide_penalizer: the L2 penalty of that Cox fit.
    """

    targets = ("time_to_return",)  # as TimeToReturnHead's; KerasHead comes first in the MRO
    param_constraints = {"dropout": Interval(0, 1, closed_high=False), "wide_penalizer": Interval(0, None)}

    def __init__(self, *, units: list[int] = (128, 64), dropout: float = 0.2, batch_norm: bool = True,
                 wide: bool | Literal["cox"] = "cox", wide_penalizer: float = 0.1):
        self.units = list(units)
        self.dropout = dropout
        self.batch_norm = batch_norm
        self.wide = wide
        self.wide_penalizer = wide_penalizer

    def check_blocks(self, kinds: Sequence[tuple[str, str]]) -> str | None:
        if not kinds or any(kind == "sequence" for _, kind in kinds):
            return f"hazard takes dense and sparse blocks; got {kinds_text(kinds)}."
        return None

    def _residual(self) -> bool:
        return self.wide is True or self.wide == "cox"

    def build(self, keras, blocks):
        inputs, x = mlp_trunk(keras, blocks, self.units, self.dropout, self.batch_norm)  # the MLP's layers
        out = keras.layers.Dense(self.bins_, name="logits",
                                 kernel_initializer="zeros" if self._residual() else "glorot_uniform")(x)
        if self._residual():
            risk = linear_over(keras, inputs, blocks, 0.0, "wide")
            # the same risk score on every bin: a frozen row of ones broadcasts it
            every_bin = keras.layers.Dense(self.bins_, use_bias=False, trainable=False, kernel_initializer="ones",
                                           name="wide_bins")(risk)
            out = keras.layers.Add(name="wide_and_deep")([out, every_bin])
        return keras.Model(inputs, out, name="hazard")

    def _start_from_cox(self, blocks, y, seed: int) -> np.ndarray:
        """Fit the ``cox`` head on the training part, set and freeze the wide path; the centred risks."""
        from toolkit.heads.cox import CoxHead

        cox = CoxHead(penalizer=self.wide_penalizer).fit(blocks, y, seed=seed)
        coef = np.asarray(cox.coef_, dtype=np.float64)
        scale = np.asarray(cox.scale_, dtype=np.float64) if np.ndim(cox.scale_) else np.full(coef.shape, 1.0)
        mean = np.asarray(cox.mean_, dtype=np.float64) if np.ndim(cox.mean_) else np.zeros(coef.shape)
        kernel, bias = coef / scale, -float(np.sum(coef * mean / scale))  # Cox standardises dense columns
        layer = self.model_.get_layer("wide")
        layer.set_weights([kernel[:, None].astype(np.float32), np.array([bias], dtype=np.float32)])
        layer.trainable = False
        return cox.predict_risk(blocks)

    def fit(self, blocks, y, *, validation, training, seed: int, on_epoch=None):
        import keras

        y = np.asarray(y, dtype=np.float32)
        if y.ndim != 2 or y.shape[1] % 2 or not y.shape[1]:
            raise ToolkitError(f"hazard needs time-to-return targets of shape (n, 2 x bins). Got shape {y.shape}.")
        keras.utils.set_random_seed(seed)
        self.bins_ = y.shape[1] // 2
        self.nonzeros_ = mean_nonzeros(blocks)
        self.model_ = self.build(keras, blocks)
        start_bias = initial_logits(y)
        if self._residual():
            # the bins' logits then sit around the population's hazard, the risk score centred
            start_bias = start_bias - float(np.mean(self._start_from_cox(blocks, y, seed)))
        self.model_.get_layer("logits").bias.assign(start_bias.astype(np.float32))
        self.model_.compile(optimizer=keras.optimizers.Adam(training.learning_rate), loss=hazard_loss_fn())
        has_val = len(validation[1]) > 0
        timer = _EpochTimer(keras, on_epoch, training.epochs)
        callbacks = training_callbacks(keras, training, watched(training, validation, ranking=False), timer)
        val = ([to_input(b) for b in validation[0]], np.asarray(validation[1], dtype=np.float32)) if has_val else None
        start = None
        if self._residual() and val is not None:
            start = (self.model_.evaluate(*val, batch_size=1024, verbose=0), self.model_.get_weights())
        self.model_.fit([to_input(b) for b in blocks], y, validation_data=val, epochs=training.epochs,
                        batch_size=training.batch_size, shuffle=True, verbose=0, callbacks=callbacks)
        self.epochs_run_ = timer.epochs_run
        self.tracing_seconds_ = timer.tracing_seconds()
        if self._residual():
            self.kept_start_ = False
        if start is not None and self.model_.evaluate(*val, batch_size=1024, verbose=0) >= start[0]:
            self.model_.set_weights(start[1])  # the deep path fitted the validation part no better
            self.kept_start_ = True
        return self

    def predict_logits(self, blocks) -> np.ndarray:
        out = self.model_.predict([to_input(b) for b in blocks], batch_size=1024, verbose=0)
        return np.asarray(out, dtype=np.float64)

    def predict_survival(self, blocks) -> np.ndarray:
        """Each user's chance of no return by the end of each bin, (n, bins)."""
        return survival_from_logits(self.predict_logits(blocks))

    def predict_risk(self, blocks) -> np.ndarray:
        """The chance of a return by the end of follow-up (higher returns sooner)."""
        return 1.0 - self.predict_survival(blocks)[:, -1]

    def predict(self, blocks) -> np.ndarray:
        """The chance of a return by the end of follow-up, in [0, 1]."""
        return np.clip(self.predict_risk(blocks), 0.0, 1.0)
