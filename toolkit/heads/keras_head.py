"""Shared training loop for the Keras heads (``mlp``, ``lstm``, ``hybrid``).

Subclasses only build a functional model from the input shapes, using Keras
layers and ``keras.ops`` alone so the heads stay backend-agnostic. Keras is
imported inside methods: listing plugins or validating a spec never pays for it.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from toolkit.features.blocks import Block
from toolkit.heads.base import EpochCallback, Head
from toolkit.training import TrainingConfig


def to_input(block: Block) -> np.ndarray:
    """Keras takes dense float32 arrays; sparse TF-IDF blocks are densified here."""
    data = block.data.toarray() if hasattr(block.data, "toarray") else np.asarray(block.data)
    return data.astype(np.float32, copy=False)


def dense_stack(keras, x, units: list[int], dropout: float, batch_norm: bool, prefix: str):
    """The reference study's block: Dense -> BatchNorm -> Dropout, per width in ``units``."""
    for i, width in enumerate(units):
        x = keras.layers.Dense(width, activation="relu", name=f"{prefix}dense_{i}")(x)
        if batch_norm:
            x = keras.layers.BatchNormalization(name=f"{prefix}bn_{i}")(x)
        if dropout > 0:
            x = keras.layers.Dropout(dropout, name=f"{prefix}dropout_{i}")(x)
    return x


class KerasHead(Head):
    """A head whose scorer is a Keras functional model with a sigmoid output."""

    filename = "head.keras"

    def build(self, keras, blocks: list[Block]):
        """Return an uncompiled ``keras.Model`` taking one input per block, in order."""
        raise NotImplementedError

    def fit(self, blocks, y, *, validation, training: TrainingConfig, seed: int, on_epoch: EpochCallback | None = None):
        import keras

        keras.utils.set_random_seed(seed)
        x = [to_input(b) for b in blocks]
        x_val = [to_input(b) for b in validation[0]]
        y = np.asarray(y, dtype=np.float32)
        x, y = training.resample_arrays(x, y.astype(int), seed)
        y = np.asarray(y, dtype=np.float32)

        self.model_ = self.build(keras, blocks)
        loss = (
            keras.losses.BinaryFocalCrossentropy(gamma=training.focal_gamma)
            if training.loss == "focal"
            else keras.losses.BinaryCrossentropy()
        )
        self.model_.compile(optimizer=keras.optimizers.Adam(training.learning_rate), loss=loss)
        has_val = len(validation[1]) > 0
        monitor = "val_loss" if has_val else "loss"
        timer = _EpochTimer(keras, on_epoch, training.epochs)
        callbacks = [
            keras.callbacks.EarlyStopping(
                monitor=monitor, patience=training.early_stopping_patience, restore_best_weights=True
            ),
            keras.callbacks.ReduceLROnPlateau(
                monitor=monitor, patience=training.reduce_lr_patience, factor=training.reduce_lr_factor
            ),
            timer,
        ]
        self.model_.fit(
            x,
            y,
            validation_data=(x_val, np.asarray(validation[1], dtype=np.float32)) if has_val else None,
            epochs=training.epochs,
            batch_size=training.batch_size,
            class_weight=training.class_weights(y.astype(int)),
            shuffle=True,
            verbose=0,
            callbacks=callbacks,
        )
        self.epochs_run_ = timer.epochs_run
        self.tracing_seconds_ = timer.tracing_seconds()
        return self

    def predict(self, blocks: list[Block]) -> np.ndarray:
        scores = self.model_.predict([to_input(b) for b in blocks], batch_size=1024, verbose=0)
        return np.asarray(scores, dtype=np.float64).reshape(-1)

    def count_params(self) -> int:
        return int(sum(np.prod(w.shape) for w in self.model_.trainable_weights))

    def flops_per_user(self) -> float:
        return keras_flops(self.model_)

    def save(self, path) -> Path:
        path = Path(path)
        self.model_.save(path)
        return path

    @classmethod
    def load(cls, path) -> "KerasHead":
        import keras

        head = cls.__new__(cls)
        head.model_ = keras.models.load_model(path, compile=False)
        return head

    def __getstate__(self) -> dict[str, Any]:
        # A Keras model is saved with save(); pickling keeps only the config.
        return {k: v for k, v in self.__dict__.items() if k != "model_"}


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


def keras_flops(model) -> float:
    """Multiply-adds x 2 per user for the layers that dominate cost (Dense, LSTM, BatchNorm)."""
    total = 0.0
    for layer in model.layers:
        kind = type(layer).__name__
        if kind == "Dense":
            fan_in = int(layer.kernel.shape[0])
            total += 2.0 * fan_in * layer.units
        elif kind == "LSTM":
            fan_in = int(layer.cell.kernel.shape[0])
            steps = layer.input.shape[1] or 1
            total += 2.0 * 4 * layer.units * (fan_in + layer.units) * steps
        elif kind == "BatchNormalization":
            total += 2.0 * int(layer.input.shape[-1])
    return total
