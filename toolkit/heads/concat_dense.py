"""``ConcatDense``: a Dense layer over several inputs side by side, some of them sparse.

``Dense(Concatenate([tfidf, behavior]))`` would densify the sparse TF-IDF batch
(Keras concatenates a sparse and a dense tensor by densifying), so every batch
pays ``users x vocabulary`` multiply-adds. This layer holds the same kernel and
bias as that Dense layer, initialised the same way (one Glorot-uniform kernel
over the full fan-in, drawn at the same point of layer construction), and
multiplies each input by its own slice of the kernel: on a sparse input that is
a sparse-dense product whose cost follows the non-zeros.
"""

from __future__ import annotations

import functools


@functools.lru_cache(maxsize=None)
def concat_dense_class():
    """Define and register the layer on first use, so importing this module does not import Keras."""
    import keras

    @keras.saving.register_keras_serializable(package="toolkit")
    class ConcatDense(keras.layers.Layer):
        """Dense over the concatenation of its inputs, without building the concatenation.

        Args:
            units: output width.
            activation: as for ``keras.layers.Dense``.
            l2: L2 penalty on the kernel (``keras.regularizers.L2``); 0 adds none.
        """

        def __init__(self, units: int, activation=None, l2: float = 0.0, **kwargs):
            super().__init__(**kwargs)
            self.units = int(units)
            self.activation = keras.activations.get(activation)
            self.l2 = float(l2)
            # Created here, like Dense does, so the seeds are drawn in the same order.
            self.kernel_initializer = keras.initializers.get("glorot_uniform")
            self.bias_initializer = keras.initializers.get("zeros")

        def build(self, input_shape):
            self.widths = [int(shape[-1]) for shape in input_shape]
            self.kernel = self.add_weight(name="kernel", shape=(sum(self.widths), self.units),
                                          initializer=self.kernel_initializer,
                                          regularizer=keras.regularizers.L2(self.l2) if self.l2 > 0 else None)
            self.bias = self.add_weight(name="bias", shape=(self.units,), initializer=self.bias_initializer)

        def call(self, inputs):
            total, start = None, 0
            for x, width in zip(inputs, self.widths):
                part = keras.ops.matmul(x, self.kernel[start:start + width])
                total = part if total is None else total + part
                start += width
            return self.activation(total + self.bias)

        def compute_output_shape(self, input_shape):
            return (input_shape[0][0], self.units)

        def get_config(self):
            return {**super().get_config(), "units": self.units, "l2": self.l2,
                    "activation": keras.activations.serialize(self.activation)}

    return ConcatDense
