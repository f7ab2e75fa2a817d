"""Keras heads take sparse blocks as they are: same weights as the dense model, FLOPs by non-zeros."""

import numpy as np
import pytest
import scipy.sparse as sp

from toolkit.heads import Block
from toolkit.heads.concat_dense import concat_dense_class
from toolkit.registry import HEADS
from toolkit.training import TrainingConfig

WIDTH, NONZEROS, USERS = 3000, 4, 120


def blocks(seed=0, n=USERS):
    rng = np.random.default_rng(seed)
    text = sp.random(n, WIDTH, density=NONZEROS / WIDTH, format="csr", dtype=np.float32, random_state=seed)
    return [Block("tfidf", "sparse", text), Block("behavior", "dense", rng.normal(size=(n, 5)).astype(np.float32))]


def test_concat_dense_matches_dense_over_the_concatenation():
    import keras

    parts = blocks()
    keras.utils.set_random_seed(0)
    a, b = keras.Input((WIDTH,), sparse=True), keras.Input((5,))
    layer = concat_dense_class()(8, activation="relu")
    split = keras.Model([a, b], layer([a, b]))
    keras.utils.set_random_seed(0)
    c, d = keras.Input((WIDTH,)), keras.Input((5,))
    dense = keras.layers.Dense(8, activation="relu")
    joined = keras.Model([c, d], dense(keras.layers.Concatenate()([c, d])))
    # Same seed, same draw order: the same initial kernel as the plain Dense layer.
    np.testing.assert_array_equal(layer.kernel.numpy(), dense.kernel.numpy())
    got = split.predict([parts[0].data, parts[1].data], verbose=0)
    want = joined.predict([parts[0].data.toarray(), parts[1].data], verbose=0)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    assert np.count_nonzero(got) > 0


@pytest.mark.parametrize("name", ["mlp", "hybrid"])
def test_keras_heads_keep_sparse_blocks_sparse_and_count_flops_by_nonzeros(name, tmp_path):
    head = HEADS.get(name)(units=[16, 8]) if name == "mlp" else HEADS.get(name)(branch_units=16, units=[8])
    train, val = blocks(0), blocks(1, n=40)
    y = (np.random.default_rng(0).random(USERS) < 0.3).astype(int)
    head.fit(train, y, validation=(val, np.r_[np.ones(10), np.zeros(30)]),
             training=TrainingConfig(epochs=2, batch_size=32), seed=0)
    assert [t.sparse for t in head.model_.inputs] == [True, False]
    nonzeros = train[0].data.nnz / USERS
    first = 16
    rest = head.flops_per_user() - 2.0 * (nonzeros + (5 if name == "mlp" else 0)) * first
    # The first layer's cost follows the non-zeros: far below the dense width's.
    assert head.flops_per_user() < 2.0 * WIDTH * first / 10
    assert rest > 0
    scores = head.predict(val)
    assert scores.shape == (40,) and np.all((scores >= 0) & (scores <= 1))
    reloaded = type(head).load(head.save(tmp_path / "head.keras"))
    np.testing.assert_allclose(reloaded.predict(val), scores, rtol=1e-6)
