"""One contract every registered plugin passes (scikit-learn's estimator checks, in small).

Featurizers: config round trip, shapes and kind, determinism, no learning from
the rows they transform, save and reload. Heads: scores in [0, 1] of the right
shape, determinism with a seed, save and reload, blocks they reject say why. A head
that learns a time-to-event label gets time-to-return targets instead of 0/1.
"""

import datetime as dt

import numpy as np
import pytest

from factories import make_users
from fake_encoders import fake_engines  # noqa: F401  (fixture)
from toolkit.data.time_to_return import time_to_return
from toolkit.featurizers import Featurizer
from toolkit.heads import Block
from toolkit.plugin import TINY_MODEL
from toolkit.registry import FEATURIZERS, HEADS
from toolkit.training import TrainingConfig

# Each plugin's own small settings (``test_params``) make it run in about a second; the tiny
# DistilBERT that TINY_MODEL stands for is built once per session.
@pytest.fixture(scope="session")
def tiny_bert(tmp_path_factory):
    from tiny_distilbert import build_tiny_distilbert

    return build_tiny_distilbert(tmp_path_factory.mktemp("tiny-bert"))


def featurizer(name, tiny_bert):
    cls = FEATURIZERS.get(name)
    params = {k: (str(tiny_bert) if v == TINY_MODEL else v) for k, v in cls.test_params.items()}
    return cls(**params)


def as_array(block):
    return block.toarray() if hasattr(block, "toarray") else np.asarray(block)


@pytest.fixture(scope="module")
def users():
    return make_users(60, seed=3, steps=7)


@pytest.mark.parametrize("name", FEATURIZERS.names())
def test_featurizer_contract(name, users, tiny_bert, tmp_path, fake_engines):
    # fake_engines: the packaged encoders (e5, use) run on a stand-in engine here; their real engines are
    # tested in tests/featurizers/test_e5.py and test_use.py
    train, test = users.iloc[:40], users.iloc[40:]
    feat = featurizer(name, tiny_bert)
    assert isinstance(feat, Featurizer)
    # constructor = config: storing parameters does no work, and the config rebuilds the object
    clone = type(feat)(**feat.get_config())
    assert clone.get_config() == feat.get_config()
    assert not [k for k in vars(feat) if k.endswith("_") and not k.startswith("_")], "learned state before fit"

    feat.warm_up()
    out_test = feat.fit(train).transform(test)
    kind = feat.output_kind()
    assert kind in ("dense", "sparse", "sequence")
    if kind == "sparse":
        assert hasattr(out_test, "toarray")
    assert out_test.shape[0] == len(test)
    assert out_test.ndim == (3 if kind == "sequence" else 2)
    assert np.isfinite(as_array(out_test)).all()

    # transforming other rows first must not change what the test rows get (no learning in transform)
    again = featurizer(name, tiny_bert).fit(train)
    again.transform(users.iloc[::-1])
    np.testing.assert_allclose(as_array(again.transform(test)), as_array(out_test), rtol=1e-5, atol=1e-6)

    path = tmp_path / "feat.pkl"
    feat.save(path)
    reloaded = Featurizer.load(path)
    np.testing.assert_allclose(as_array(reloaded.transform(test)), as_array(out_test), rtol=1e-5, atol=1e-6)
    assert feat.flops_per_user() >= 0


def blocks_for(head_cls, users, n_rows):
    """The richest blocks a head accepts: dense with a sequence, else dense, else a sequence alone."""
    rng = np.random.default_rng(0)
    dense = Block("behavior", "dense", rng.normal(size=(n_rows, 6)).astype(np.float32))
    seq = Block("temporal", "sequence", np.stack(users["activity"].to_numpy())[:n_rows])
    for blocks in ([dense, seq], [dense], [seq]):
        if head_cls().check_blocks([(b.name, b.kind) for b in blocks]) is None:
            return blocks
    pytest.fail(f"{head_cls.__name__} accepts neither dense nor sequence blocks")


def targets_for(head_cls, blocks, n):
    """0/1 from the first feature, or (time_to_return heads) return days that shorten as it grows."""
    x = blocks[0].data.reshape(n, -1)[:, 0]
    if "time_to_return" not in head_cls.targets:
        return (x > 0).astype(int)
    from toolkit.heads.hazard_loss import pack_targets

    days = 7 + np.floor(np.random.default_rng(1).exponential(5 * np.exp(-x))).astype(int)
    label = time_to_return([dt.date(2025, 1, 1)] * n, np.arange(n), days, after_days=7, follow_days=20,
                           data_end=dt.date(2025, 1, 19), covered=None)
    return pack_targets(label)


@pytest.mark.parametrize("name", HEADS.names())
def test_head_contract(name, users, tmp_path):
    n = len(users)
    head_cls = HEADS.get(name)
    blocks = blocks_for(head_cls, users, n)
    assert set(head_cls.targets) <= {"binary", "time_to_return"}
    y = targets_for(head_cls, blocks, n)
    fit, val = np.arange(0, 40), np.arange(40, n)
    training = TrainingConfig(epochs=3, batch_size=16)
    assert head_cls().check_blocks([(b.name, b.kind) for b in blocks]) is None

    def train():
        head = head_cls()
        head.fit([b.rows(fit) for b in blocks], y[fit], validation=([b.rows(val) for b in blocks], y[val]),
                 training=training, seed=0)
        return head

    head = train()
    scores = head.predict([b.rows(val) for b in blocks])
    assert scores.shape == (len(val),)
    assert np.all((scores >= 0) & (scores <= 1))
    np.testing.assert_allclose(train().predict([b.rows(val) for b in blocks]), scores, rtol=1e-5, atol=1e-6)
    assert head.count_params() > 0 and head.flops_per_user() > 0
    if "time_to_return" in head_cls.targets:  # what the time-to-return metrics read, declared by the base
        from toolkit.heads.time_to_return import TimeToReturnHead

        assert issubclass(head_cls, TimeToReturnHead)
        surv = head.predict_survival([b.rows(val) for b in blocks])
        assert surv.shape[0] == len(val) and np.all(np.diff(surv, axis=1) <= 1e-9)
        assert head.predict_risk([b.rows(val) for b in blocks]).shape == (len(val),)

    path = head.save(tmp_path / type(head).filename)
    reloaded = type(head).load(path)
    np.testing.assert_allclose(reloaded.predict([b.rows(val) for b in blocks]), scores, rtol=1e-5, atol=1e-6)

    # no head takes an empty block list, and the refusal says why
    assert head_cls().check_blocks([])
