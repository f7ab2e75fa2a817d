"""Shared training loop for the Keras heads (``mlp``, ``lstm``, ``hybrid``).

Subclasses only build a functional model from the input shapes, using Keras
layers and ``keras.ops`` alone so the heads stay backend-agnostic. Keras is
imported inside methods: listing plugins or validating a spec never pays for it.

Why the networks lost to logistic regression at 3,000 users, and the defaults
---------------------------------------------------------------------------------------
Measured on the default synthetic data (3,000 users, ``experiments/quickstart.yaml``'s label,
training and 5 folds), TF-IDF + behavior, the same folds for every head, out-of-fold ROC-AUC
over all users (the run's own figure). logreg: 0.780.

1. *Early stopping watched the wrong thing.* Per-epoch curves (one fold, test AUC against the
   epoch) put the MLP's best ranking at epochs 2-4 (0.77-0.79, logreg 0.76 on that fold); it
   then falls to 0.65-0.70 while the validation *loss* keeps falling until epoch 7-9: with
   ``class_weight: balanced`` the scores start near 0.5 and the loss improves for epochs by
   recalibrating towards the 10% positive rate, not by ranking better. Stopping on it kept
   networks past their best ranking. Now ``training.monitor: auc`` (the default) stops, and
   cuts the learning rate, on the validation part's ROC-AUC (``monitor: loss`` restores the old
   behaviour: 0.731, the same figure as before this change).
2. *Folds scored on different scales.* Stopping on AUC alone made each fold's mean AUC 0.776
   but the pooled out-of-fold AUC 0.698: each fold stops at another epoch, with scores on
   another scale, and the run pools them. So each binary Keras head now ends in a frozen
   ``platt`` layer (``platt: true``): after training, a logistic regression of the validation
   labels on the logit sets its scale and offset (:func:`fit_platt`), putting every fold on
   its validation part's probability scale. Monotone, so a fold's ranking is unchanged;
   saved inside the model. With both: MLP 0.7725 (-0.007 from logreg; it was -0.048).
3. *What did not help* (MLP unless said; 5 folds, pooled): L2 on the first (TF-IDF) layer,
   ``l2`` 1e-4 / 1e-3 with the loss monitor: 0.733 / 0.747, 1e-2 with the AUC monitor and no
   Platt: 0.684; a wide linear path (``wide``, loss monitor): 0.732, hybrid 0.756 with both
   fixes; learning rate 3e-4: 0.730 (0.771 with both fixes); batch 256: hybrid 0.748; BatchNorm momentum 0.9 (the moving averages
   are not stale after ~30 steps an epoch): MLP 0.769, hybrid 0.745. These stay parameters, off
   by default (``l2: 0``, ``batch_norm_momentum: 0.99``; a wide path trained from a random
   start is ``wide: true``).
4. *BatchNorm is what is left.* Turning it off (``batch_norm: false``), everything else as
   above: MLP 0.789 (+0.010), hybrid 0.782 (+0.002), hazard C 0.760 against Cox 0.760. The
   hybrid's extra BatchNorm on each branch (the seed's; not part of the Dense 128/64 stack) is
   off by default (``branch_batch_norm: false``): 0.753 -> 0.762. With the stack's BatchNorm
   on, as the seed's architecture has it, the hybrid stayed at 0.762 on TF-IDF + behavior
   (-0.018), 0.757 with the temporal block, and the hazard network at 0.719 against Cox 0.760.
5. *So the networks start where the linear model ends* (``wide: logreg``; ``wide: cox`` for
   the hazard network; the default). The seed's stack is kept whole, and beside it a frozen
   linear path holds the logistic regression (Cox model) fitted on the same training part;
   the deep path's output layer starts at zero, so the untrained network scores exactly what
   the linear model scores, and training fits only the residual: a residual network over a
   generalized linear model (Wüthrich and Merz's "combined actuarial neural network", 2019).
   A fold whose trained network does no better on its validation part than its start keeps
   the start (``kept_start`` in the run's per-fold records). As shipped, on the same folds:
   MLP 0.7795 against logreg 0.7796, hybrid 0.7777 (TF-IDF + behavior) and 0.7797 (with
   the temporal block), hazard C 0.7619 against Cox 0.7597: every target met, and a network
   that adds nothing to the linear model now says so (its Δ is about 0) instead of losing to
   it. ``wide: false`` gives the seed's network alone (the figures of 4).

``python benchmarks/keras_defaults.py`` reruns every pair in one run and prints PASS/FAIL per
target, with each network's count of folds that kept the linear start; figures in
``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from toolkit.features.blocks import Block
from toolkit.heads.base import EpochCallback, Head
from toolkit.training import TrainingConfig


def to_input(block: Block):
    """A block as Keras takes it: float32, a sparse block as a SciPy CSR matrix.

    Sparse blocks stay sparse all the way: Keras slices each batch out of the
    CSR matrix as a ``tf.SparseTensor`` and the first Dense layer multiplies it
    sparse-by-dense, so memory and FLOPs follow the non-zeros rather than
    users x vocabulary. Measured against densifying each batch in a
    ``keras.utils.PyDataset`` (20,000 users, 20,000 columns, 40 non-zeros a
    row, 2 cores): 10.7 s against 13.4 s for two epochs, and 1.0 s against
    3.0 s to predict.
    """
    if block.kind == "sparse":
        import scipy.sparse as sp

        return sp.csr_matrix(block.data, dtype=np.float32)
    return np.asarray(block.data, dtype=np.float32)


def sparse_input(keras, block: Block):
    """A Keras input for a dense or sparse block (sequence blocks are built by their heads)."""
    return keras.Input(shape=(block.width,), sparse=block.kind == "sparse", name=f"in_{block.name}")


def mean_nonzeros(blocks: list[Block]) -> dict[str, float]:
    """Mean stored non-zeros per user of each sparse block, keyed by the model input's name."""
    return {f"in_{b.name}": float(b.data.nnz) / max(b.data.shape[0], 1)
            for b in blocks if b.kind == "sparse" and hasattr(b.data, "nnz")}


def l2_regularizer(keras, l2: float):
    """``keras.regularizers.L2(l2)``, or None for 0 (no penalty term in the loss at all)."""
    return keras.regularizers.L2(l2) if l2 > 0 else None


def dense_stack(keras, x, units: list[int], dropout: float, batch_norm: bool, prefix: str, first=None,
                first_l2: float = 0.0, momentum: float = 0.99):
    """The reference study's block: Dense -> BatchNorm -> Dropout, per width in ``units``.

    ``first`` replaces the first Dense layer (the MLP passes a ``ConcatDense`` over
    its inputs when one is sparse); layers are created in the same order either way.
    ``first_l2`` is the L2 penalty on the first Dense layer's kernel (the one reading the features);
    ``momentum`` the BatchNormalization layers' (Keras's default is 0.99).
    """
    for i, width in enumerate(units):
        layer = first if i == 0 and first is not None else keras.layers.Dense(
            width, activation="relu", name=f"{prefix}dense_{i}",
            kernel_regularizer=l2_regularizer(keras, first_l2) if i == 0 else None)
        x = layer(x)
        if batch_norm:
            x = keras.layers.BatchNormalization(momentum=momentum, name=f"{prefix}bn_{i}")(x)
        if dropout > 0:
            x = keras.layers.Dropout(dropout, name=f"{prefix}dropout_{i}")(x)
    return x


def linear_over(keras, inputs: list, blocks: list[Block], l2: float, name: str):
    """One linear unit over the blocks side by side (a sparse block stays sparse): the wide path's logit."""
    from toolkit.heads.concat_dense import concat_dense_class

    if any(b.kind == "sparse" for b in blocks):
        return concat_dense_class()(1, l2=l2, name=name)(inputs)
    x = inputs[0] if len(inputs) == 1 else keras.layers.Concatenate(name=f"{name}_concat")(inputs)
    return keras.layers.Dense(1, kernel_regularizer=l2_regularizer(keras, l2), name=name)(x)


def sigmoid_score(keras, x, wide=None, residual: bool = False):
    """The output ``score``: sigmoid of the logit (plus the wide path's logit), through the ``platt`` layer.

    ``platt`` is a frozen one-by-one Dense layer, the identity while the network trains;
    :func:`fit_platt` sets its scale and offset afterwards. It lives in the model so a
    saved head scores the same after loading. ``residual`` starts the deep path's logit at
    zero, so the untrained network scores exactly what its wide path scores
    (``wide: logreg``).
    """
    start = "zeros" if residual else "glorot_uniform"
    logit = keras.layers.Dense(1, name="logit", kernel_initializer=start)(x)
    if wide is not None:
        logit = keras.layers.Add(name="wide_and_deep")([logit, wide])
    z = keras.layers.Dense(1, name="platt", trainable=False, kernel_initializer="ones",
                           bias_initializer="zeros")(logit)
    return keras.layers.Activation("sigmoid", name="score")(z)


def fit_platt(model, x_val, y_val) -> tuple[float, float] | None:
    """Fit the ``platt`` layer's scale and offset on the validation part; None where it is left alone.

    Early stopping on the validation AUC ends each fold's network at a different
    epoch, with scores on a different scale; the folds' scores are pooled for the
    out-of-fold metrics, so the scales must agree. A logistic regression of the
    labels on the logit (Platt scaling) puts every fold on the probability scale of
    its own validation part; it is monotone, so a fold's ranking does not change. A
    validation part with one class, or a fitted scale <= 0 (which would reverse the
    ranking), leaves the identity in place.
    """
    from sklearn.linear_model import LogisticRegression

    y_val = np.asarray(y_val).astype(int).reshape(-1)
    if not len(y_val) or y_val.min() == y_val.max():
        return None
    p = np.clip(np.asarray(model.predict(x_val, batch_size=1024, verbose=0), dtype=np.float64).reshape(-1),
                1e-7, 1 - 1e-7)
    logit = np.log(p) - np.log1p(-p)
    fitted = LogisticRegression(C=1e4, max_iter=1000).fit(logit[:, None], y_val)
    scale, offset = float(fitted.coef_[0, 0]), float(fitted.intercept_[0])
    if not (np.isfinite(scale) and np.isfinite(offset)) or scale <= 0:
        return None
    layer = model.get_layer("platt")
    layer.set_weights([np.array([[scale]], dtype=np.float32), np.array([offset], dtype=np.float32)])
    return scale, offset


def wide_mode(value) -> str:
    """``wide`` as one word: ``none``, ``linear`` (trained from a random start) or ``logreg``."""
    if value is True:
        return "linear"
    if value in (False, None):
        return "none"
    return str(value)


def flat_arrays(blocks: list[Block], arrays: list) -> list:
    """The arrays of the dense and sparse blocks, in block order: what the wide path reads."""
    return [a for a, b in zip(arrays, blocks) if b.kind != "sequence"]


def start_wide_from_logreg(model, arrays: list, y, training, seed: int, C: float) -> None:
    """Set the ``wide`` layer to a logistic regression fitted on the training part, and freeze it.

    The same model the ``logreg`` head fits (L2, ``C``, the run's class weights), on the
    same (resampled) rows. With the deep path's logit starting at zero
    (:func:`sigmoid_score`'s ``residual``), the untrained network *is* that logistic
    regression, and training fits only what the linear model leaves: a residual network
    over a generalized linear model (the "combined actuarial neural network" of Wüthrich
    and Merz, 2019). The kernel's rows follow the blocks' order, as
    ``ConcatDense``'s and ``Concatenate``'s do.
    """
    import scipy.sparse as sp
    from sklearn.linear_model import LogisticRegression

    y = np.asarray(y).astype(int).reshape(-1)
    if any(sp.issparse(a) for a in arrays):
        x = sp.hstack([sp.csr_matrix(a) for a in arrays], format="csr")
    else:
        x = np.hstack([np.asarray(a) for a in arrays])
    layer = model.get_layer("wide")
    if y.min() != y.max():
        fitted = LogisticRegression(C=C, max_iter=1000, random_state=seed,
                                    class_weight="balanced" if training.class_weight == "balanced" else None)
        fitted.fit(x, y)
        layer.set_weights([fitted.coef_.T.astype(np.float32), fitted.intercept_.astype(np.float32)])
    layer.trainable = False


def validation_auc(model, x_val, y_val) -> float | None:
    """ROC-AUC of the model's scores on the validation part; None with one class there."""
    from sklearn.metrics import roc_auc_score

    y_val = np.asarray(y_val).astype(int).reshape(-1)
    if not len(y_val) or y_val.min() == y_val.max():
        return None
    scores = np.asarray(model.predict(x_val, batch_size=1024, verbose=0), dtype=np.float64).reshape(-1)
    return float(roc_auc_score(y_val, scores))


class KerasHead(Head):
    """A head whose scorer is a Keras functional model with a sigmoid output."""

    filename = "head.keras"

    def build(self, keras, blocks: list[Block]):
        """Return an uncompiled ``keras.Model`` taking one input per block, in order."""
        raise NotImplementedError

    def fit(self, blocks, y, *, validation, training: TrainingConfig, seed: int, on_epoch: EpochCallback | None = None):
        import keras

        keras.utils.set_random_seed(seed)
        self.nonzeros_ = mean_nonzeros(blocks)
        x = [to_input(b) for b in blocks]
        x_val = [to_input(b) for b in validation[0]]
        y = np.asarray(y, dtype=np.float32)
        x, y = training.resample_arrays(x, y.astype(int), seed)
        y = np.asarray(y, dtype=np.float32)

        self.model_ = self.build(keras, blocks)
        residual = wide_mode(getattr(self, "wide", False)) == "logreg" and any(
            layer.name == "wide" for layer in self.model_.layers)
        start = None
        if residual:
            start_wide_from_logreg(self.model_, flat_arrays(blocks, x), y, training, seed,
                                   getattr(self, "wide_C", 1.0))
            start = (validation_auc(self.model_, x_val, validation[1]), self.model_.get_weights())
        loss = (
            keras.losses.BinaryFocalCrossentropy(gamma=training.focal_gamma)
            if training.loss == "focal"
            else keras.losses.BinaryCrossentropy()
        )
        monitor = watched(training, validation, ranking=True)
        metrics = [keras.metrics.AUC(name="auc")] if monitor == "val_auc" else []
        self.model_.compile(optimizer=keras.optimizers.Adam(training.learning_rate), loss=loss, metrics=metrics)
        timer = _EpochTimer(keras, on_epoch, training.epochs)
        has_val = len(validation[1]) > 0
        self.model_.fit(
            x,
            y,
            validation_data=(x_val, np.asarray(validation[1], dtype=np.float32)) if has_val else None,
            epochs=training.epochs,
            batch_size=training.batch_size,
            class_weight=training.class_weights(y.astype(int)),
            shuffle=True,
            verbose=0,
            callbacks=training_callbacks(keras, training, monitor, timer),
        )
        self.epochs_run_ = timer.epochs_run
        self.tracing_seconds_ = timer.tracing_seconds()
        if residual:
            self.kept_start_ = False
        if start is not None and start[0] is not None:
            trained = validation_auc(self.model_, x_val, validation[1])
            if trained is None or trained <= start[0]:
                # The deep path did not rank the validation users better than the linear
                # model it started from: keep the start (the network adds nothing here).
                self.model_.set_weights(start[1])
                self.kept_start_ = True
        self.platt_ = fit_platt(self.model_, x_val, validation[1]) if getattr(self, "platt", False) else None
        return self

    def predict(self, blocks: list[Block]) -> np.ndarray:
        scores = self.model_.predict([to_input(b) for b in blocks], batch_size=1024, verbose=0)
        return np.asarray(scores, dtype=np.float64).reshape(-1)

    def count_params(self) -> int:
        """Trained weights, the frozen wide path's included (BatchNorm statistics and Platt not)."""
        weights = list(self.model_.trainable_weights)
        try:
            wide = self.model_.get_layer("wide")
        except ValueError:
            wide = None
        if wide is not None and not wide.trainable:
            weights += list(wide.weights)
        return int(sum(np.prod(w.shape) for w in weights))

    def flops_per_user(self) -> float:
        return keras_flops(self.model_, getattr(self, "nonzeros_", {}))

    def save(self, path) -> Path:
        path = Path(path)
        self.model_.save(path)
        return path

    @classmethod
    def load(cls, path) -> "KerasHead":
        import keras

        from toolkit.heads.concat_dense import concat_dense_class

        concat_dense_class()  # registers the layer a saved MLP may hold
        head = cls.__new__(cls)
        head.model_ = keras.models.load_model(path, compile=False)
        return head

    def __getstate__(self) -> dict[str, Any]:
        # A Keras model is saved with save(); pickling keeps only the config.
        return {k: v for k, v in self.__dict__.items() if k != "model_"}


def watched(training, validation, *, ranking: bool) -> str:
    """The quantity early stopping and the learning-rate cut watch.

    ``val_auc`` (the validation part's ROC-AUC) for a binary head when
    ``training.monitor`` is ``auc`` and the validation part holds both classes;
    otherwise the validation loss, or the training loss without a validation part.
    """
    y_val = np.asarray(validation[1])
    if not len(y_val):
        return "loss"
    both = y_val.ndim == 1 and 0 < float(np.sum(y_val)) < len(y_val)
    if ranking and getattr(training, "monitor", "loss") == "auc" and both:
        return "val_auc"
    return "val_loss"


def training_callbacks(keras, training, monitor: str, timer) -> list:
    """Early stopping (best weights restored) and the learning-rate cut on ``monitor``, then ``timer``."""
    mode = "max" if monitor.endswith("auc") else "min"
    return [
        keras.callbacks.EarlyStopping(monitor=monitor, mode=mode, patience=training.early_stopping_patience,
                                      restore_best_weights=True),
        keras.callbacks.ReduceLROnPlateau(monitor=monitor, mode=mode, patience=training.reduce_lr_patience,
                                          factor=training.reduce_lr_factor),
        timer,
    ]


class _EpochTimer:
    """Records each epoch's duration and reports progress.

    The first epoch also traces the train and validation graphs; graph tracing
    is not training, so :meth:`tracing_seconds` estimates it as the first
    epoch's excess over the median of the later epochs.
    """

    def __new__(cls, keras, on_epoch, epochs):
        class _Callback(keras.callbacks.Callback):
            def __init__(self):
                super().__init__()
                self.durations: list[float] = []
                self._start = 0.0

            def on_epoch_begin(self, epoch, logs=None):
                self._start = time.perf_counter()

            def on_epoch_end(self, epoch, logs=None):
                self.durations.append(time.perf_counter() - self._start)
                if on_epoch is not None:
                    on_epoch(epoch + 1, epochs, dict(logs or {}))

            @property
            def epochs_run(self) -> int:
                return len(self.durations)

            def tracing_seconds(self) -> float:
                if len(self.durations) < 2:
                    return 0.0
                return max(0.0, self.durations[0] - float(np.median(self.durations[1:])))

        return _Callback()


def keras_flops(model, nonzeros: dict[str, float] | None = None) -> float:
    """Multiply-adds x 2 per user for the layers that dominate cost (Dense, LSTM, BatchNorm).

    A Dense layer fed a sparse input costs its mean non-zeros per user (``nonzeros``,
    by input name) times its units, not its full width: that is what the sparse-dense
    product computes. Without the count (a loaded model) the full width is used.
    """
    nonzeros = nonzeros or {}
    total = 0.0
    for layer in model.layers:
        kind = type(layer).__name__
        if kind in ("Dense", "ConcatDense"):
            total += 2.0 * _fan_in(layer, nonzeros) * layer.units
        elif kind == "LSTM":
            fan_in = int(layer.cell.kernel.shape[0])
            steps = layer.input.shape[1] or 1
            total += 2.0 * 4 * layer.units * (fan_in + layer.units) * steps
        elif kind == "BatchNormalization":
            total += 2.0 * int(layer.input.shape[-1])
    return total


def _fan_in(layer, nonzeros: dict[str, float]) -> float:
    """Inputs a Dense or ConcatDense layer multiplies per user: non-zeros for a sparse input."""
    inputs = layer.input if isinstance(layer.input, (list, tuple)) else [layer.input]
    widths = getattr(layer, "widths", None) or [int(layer.kernel.shape[0])]
    fan_in = 0.0
    for tensor, width in zip(inputs, widths):
        name = tensor._keras_history.operation.name if getattr(tensor, "sparse", False) else None
        fan_in += nonzeros.get(name, width) if name else width
    return fan_in
