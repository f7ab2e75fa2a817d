import pickle

import numpy as np
import pytest
from factories import make_users
from tiny_distilbert import build_tiny_distilbert

from toolkit.errors import ToolkitError
from toolkit.featurizers.base import Featurizer
from toolkit.featurizers.distilbert import DistilBertFeaturizer
from toolkit.registry import FEATURIZERS

ATOL = 1e-5


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return build_tiny_distilbert(tmp_path_factory.mktemp("tiny-distilbert"))


@pytest.fixture(scope="module")
def users():
    return make_users(n=12, seed=3)


@pytest.fixture(scope="module")
def fitted(tiny, users):
    featurizer = DistilBertFeaturizer(model=tiny, batch_size=4, max_length=48)
    featurizer.warm_up()
    return featurizer.fit(users.iloc[:8])


def _one_user(users, text):
    one = users.iloc[:1].copy()
    one["text"] = [text]
    return one


def test_registered_under_its_file_name():
    assert FEATURIZERS.get("distilbert") is DistilBertFeaturizer


def test_constructor_does_no_work():
    featurizer = DistilBertFeaturizer(model="/no/such/folder")
    assert featurizer.get_config()["model"] == "/no/such/folder"


def test_dense_float32_block_of_hidden_size(fitted, users):
    block = fitted.transform(users)
    assert block.shape == (12, 32) and block.dtype == np.float32
    assert fitted.dim_ == 32
    assert np.isfinite(block).all()
    assert fitted.flops_per_user() > 0


def test_order_is_restored_after_sorting_by_length(fitted, users):
    lengths = [len(t) for t in users["text"]]
    assert lengths != sorted(lengths)  # the batches really are reordered
    block = fitted.transform(users)
    for i in range(len(users)):
        alone = fitted.transform(users.iloc[i : i + 1])
        np.testing.assert_allclose(alone[0], block[i], atol=ATOL)


def test_padding_does_not_change_the_mean_pooled_vector(tiny, users):
    short, long = "hello 小红书", "hello from texas " * 10
    batch = _one_user(users, short)
    batch = batch.loc[batch.index.repeat(2)].reset_index(drop=True)
    batch["text"] = [short, long]
    featurizer = DistilBertFeaturizer(model=tiny, batch_size=2)
    padded = featurizer.fit(batch).transform(batch)[0]
    alone = featurizer.transform(_one_user(users, short))[0]
    np.testing.assert_allclose(padded, alone, atol=ATOL)


def test_cls_pooling_differs_from_mean_pooling(tiny, fitted, users):
    cls = DistilBertFeaturizer(model=tiny, pooling="cls").fit(users).transform(users)
    assert cls.shape == (12, 32)
    assert not np.allclose(cls, fitted.transform(users))


def test_empty_text_still_gets_cls_and_sep(fitted, users):
    vector = fitted.transform(_one_user(users, ""))[0]
    assert np.isfinite(vector).all() and np.abs(vector).sum() > 0
    assert fitted._mean_tokens == 2


def test_texts_are_truncated_to_max_length(tiny, users):
    featurizer = DistilBertFeaturizer(model=tiny, max_length=8).fit(users)
    featurizer.transform(_one_user(users, "hello world " * 50))
    assert featurizer._mean_tokens == 8


@pytest.mark.parametrize("model", ["/no/such/folder", "no-such-org/no-such-model-xyz"])
def test_missing_model_says_how_to_get_it(model, users):
    with pytest.raises(ToolkitError) as info:
        DistilBertFeaturizer(model=model).warm_up()
    message = str(info.value)
    assert "not found locally" in message and model in message
    assert f"huggingface-cli download {model}" in message
    assert f"AutoModel.from_pretrained('{model}')" in message


def test_pickle_drops_the_model_and_reloads_it(fitted, users, tmp_path):
    state = fitted.__getstate__()
    assert "_encoder" not in state and "_tokenizer" not in state
    assert len(pickle.dumps(fitted)) < 10_000
    fitted.save(tmp_path / "distilbert.pkl")
    loaded = Featurizer.load(tmp_path / "distilbert.pkl")
    np.testing.assert_allclose(loaded.transform(users), fitted.transform(users), atol=ATOL)


def test_frozen_params_and_weights_bytes_are_the_encoders(tiny, fitted):
    from pathlib import Path

    from transformers import AutoModel

    encoder = AutoModel.from_pretrained(tiny)
    assert fitted.frozen_params() == sum(p.numel() for p in encoder.parameters())
    assert fitted.weights_bytes() == sum(p.stat().st_size for p in Path(tiny).iterdir())
    assert Featurizer().frozen_params() == 0 and Featurizer().weights_bytes() == 0


def test_int8_quantizes_linear_layers_and_stays_close_to_fp32(tiny, users):
    import torch

    int8 = DistilBertFeaturizer(model=tiny, batch_size=4, max_length=48, quantize="int8").fit(users)
    linear = [m for m in int8._encoder.modules() if type(m) is torch.nn.Linear]
    quantized = [m for m in int8._encoder.modules() if "quantized" in type(m).__module__]
    assert not linear and quantized  # every Linear layer was replaced
    fp32 = DistilBertFeaturizer(model=tiny, batch_size=4, max_length=48).fit(users)
    assert int8.frozen_params() == fp32.frozen_params()  # counted before quantizing
    assert not np.allclose(int8.transform(users), fp32.transform(users), atol=1e-4)
    cosine = int8.mean_cosine_to_fp32(users)
    assert 0.9 < cosine < 1.0
    assert fp32.mean_cosine_to_fp32(users) == pytest.approx(1.0, abs=1e-6)


def test_int8_on_a_gpu_is_refused_at_validation(tiny):
    featurizer = DistilBertFeaturizer(model=tiny, quantize="int8", device="cuda")
    with pytest.raises(ToolkitError, match="featurizers.0.: quantize: int8 runs on the CPU only"):
        featurizer.validate("featurizers[0]")
    with pytest.raises(ToolkitError, match="CPU only"):
        featurizer.warm_up()


def test_row_identity_is_the_weights_and_the_parameters_that_change_a_row(tiny, tmp_path):
    import shutil

    base = DistilBertFeaturizer(model=tiny).row_identity()
    copy = shutil.copytree(tiny, tmp_path / "copy")
    assert DistilBertFeaturizer(model=str(copy), batch_size=3).row_identity() == base
    assert DistilBertFeaturizer(model=tiny, quantize="int8").row_identity() != base
    assert DistilBertFeaturizer(model=tiny, max_length=16).row_identity() != base
    assert DistilBertFeaturizer.stateless and not Featurizer.stateless
