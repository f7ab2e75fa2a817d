import numpy as np
import pytest
from factories import make_users

from toolkit.errors import ToolkitError
from toolkit.featurizers.base import Featurizer
from toolkit.featurizers.fasttext import FastTextFeaturizer
from toolkit.registry import FEATURIZERS

SMALL = dict(dim=16, epoch=3)


@pytest.fixture(scope="module")
def users():
    return make_users(n=40, seed=2)


@pytest.fixture(scope="module")
def fitted(users):
    return FastTextFeaturizer(**SMALL).fit(users.iloc[:30])


def test_registered_under_its_file_name():
    assert FEATURIZERS.get("fasttext") is FastTextFeaturizer


def test_dense_block_of_sentence_vectors(users, fitted):
    block = fitted.transform(users)
    assert block.shape == (40, 16) and block.dtype == np.float32
    empty = (users["text"] == "").to_numpy()
    assert empty.any() and (~empty).any()
    assert np.all(block[empty] == 0)
    assert np.all(np.abs(block[~empty]).sum(axis=1) > 0)
    assert fitted.flops_per_user() > 0


def test_same_seed_same_vectors_other_seed_other_vectors(users, fitted):
    again = FastTextFeaturizer(**SMALL).fit(users.iloc[:30])
    # Equal up to float rounding: fastText's SIMD loops may sum in another order
    # depending on where the arrays land in memory.
    np.testing.assert_allclose(again.transform(users), fitted.transform(users), rtol=1e-5, atol=1e-6)
    other = FastTextFeaturizer(**SMALL, seed=7).fit(users.iloc[:30])
    assert not np.allclose(other.transform(users), fitted.transform(users))


def test_trains_on_training_users_only(users):
    users = users.copy()
    users.loc[users.index[35], "text"] = "zanzibarian"
    featurizer = FastTextFeaturizer(**SMALL).fit(users.iloc[:30])
    assert "zanzibarian" not in featurizer.model_.words
    assert "tiktok" in featurizer.model_.words


def test_save_and_load_round_trip(users, fitted, tmp_path):
    fitted.save(tmp_path / "fasttext.pkl")
    loaded = Featurizer.load(tmp_path / "fasttext.pkl")
    np.testing.assert_array_equal(loaded.transform(users), fitted.transform(users))
    assert loaded.flops_per_user() == fitted.flops_per_user()


def test_pretrained_bin_is_used_as_is(users, fitted, tmp_path):
    path = str(tmp_path / "vectors.bin")
    fitted.model_.save_model(path)
    pretrained = FastTextFeaturizer(path=path, dim=300)
    pretrained.warm_up()
    pretrained.fit(users.iloc[:30])
    assert pretrained.dim_ == 16  # the file's dimension, not the ignored 'dim'
    np.testing.assert_array_equal(pretrained.transform(users), fitted.transform(users))

    pretrained.save(tmp_path / "pretrained.pkl")
    assert (tmp_path / "pretrained.pkl").stat().st_size < 10_000  # the path, not the model
    loaded = Featurizer.load(tmp_path / "pretrained.pkl")
    np.testing.assert_array_equal(loaded.transform(users), fitted.transform(users))


def test_missing_bin_path_names_the_path(users, tmp_path):
    path = str(tmp_path / "nope.bin")
    with pytest.raises(ToolkitError, match="nope.bin"):
        FastTextFeaturizer(path=path).fit(users)


def test_file_that_is_not_a_model_is_a_clear_error(users, tmp_path):
    path = tmp_path / "vectors.bin"
    path.write_text("not a model")
    with pytest.raises(ToolkitError, match="not usable: it does not start with fastText's file signature"):
        FastTextFeaturizer(path=str(path)).fit(users)


def test_training_text_without_words_is_a_clear_error(users):
    users = users.iloc[:3].copy()
    users["text"] = ["", "😂", "the"]
    with pytest.raises(ToolkitError, match="no words"):
        FastTextFeaturizer(**SMALL).fit(users)


def test_spec_seed_reaches_fasttext_and_seeds_0_and_1_differ(users):
    from specs import spec_dict
    from toolkit.experiment.spec import parse_spec

    def built(spec_seed, **block):
        spec = parse_spec(spec_dict(seed=spec_seed, featurizers=[{"type": "fasttext", **SMALL, **block}]))
        return spec.build_featurizers()[0]

    zero, one = built(0), built(1)
    assert (zero.seed, one.seed) == (0, 1)
    assert built(1, seed=5).seed == 5, "a seed set in the block wins"
    a = zero.fit(users.iloc[:30]).transform(users)
    b = one.fit(users.iloc[:30]).transform(users)
    assert not np.allclose(a, b), "fastText treats its seeds 0 and 1 alike; the featurizer must not"
