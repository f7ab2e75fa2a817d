import numpy as np
import pytest
from factories import make_users

from toolkit.errors import ToolkitError
from toolkit.featurizers.base import Featurizer
from toolkit.featurizers.temporal import TemporalFeaturizer
from toolkit.registry import FEATURIZERS


@pytest.fixture
def users():
    return make_users(n=30, seed=5, steps=9)


def _raw(users):
    return np.stack(list(users["activity"]))


def test_registered_under_its_file_name():
    assert FEATURIZERS.get("temporal") is TemporalFeaturizer
    assert TemporalFeaturizer().output_kind() == "sequence"


def test_sequence_shapes(users):
    both = TemporalFeaturizer().fit_transform(users)
    counts = TemporalFeaturizer(channels="counts").fit_transform(users)
    assert both.shape == (30, 9, 2) and both.dtype == np.float32
    assert counts.shape == (30, 9, 1)


def test_counts_are_scaled_by_the_training_maximum(users):
    train, test = users.iloc[:20], users.iloc[20:]
    featurizer = TemporalFeaturizer().fit(train)
    peak = _raw(train)[..., 0].max()
    assert featurizer.transform(train)[..., 0].max() == pytest.approx(1.0)
    block = featurizer.transform(test)
    np.testing.assert_allclose(block[..., 0], _raw(test)[..., 0] / peak, rtol=1e-6)
    np.testing.assert_array_equal(block[..., 1], _raw(test)[..., 1])


def test_unscaled_block_is_the_activity_itself(users):
    block = TemporalFeaturizer(scale=False).fit_transform(users)
    np.testing.assert_array_equal(block, _raw(users))


def test_no_posts_in_training_leaves_counts_unscaled(users):
    quiet = users.copy()
    quiet["activity"] = [np.stack([np.zeros(9), a[:, 1]], axis=1).astype(np.float32) for a in users["activity"]]
    featurizer = TemporalFeaturizer().fit(quiet)
    assert np.isfinite(featurizer.transform(users)).all()
    np.testing.assert_allclose(featurizer.transform(users), _raw(users))


def test_transform_does_not_change_the_users_table(users):
    before = _raw(users).copy()
    TemporalFeaturizer().fit_transform(users)
    np.testing.assert_array_equal(_raw(users), before)


def test_other_number_of_steps_is_a_clear_error(users):
    featurizer = TemporalFeaturizer().fit(users)
    with pytest.raises(ToolkitError, match="9 steps seen in fit.*shape \\(5, 2\\)"):
        featurizer.transform(make_users(n=3, steps=5))


def test_mixed_steps_in_training_is_a_clear_error(users):
    mixed = users.copy()
    mixed.at[mixed.index[4], "activity"] = np.zeros((4, 2), dtype=np.float32)
    with pytest.raises(ToolkitError, match=mixed["user_id"].iloc[4]):
        TemporalFeaturizer().fit(mixed)


def test_save_and_load_round_trip(users, tmp_path):
    featurizer = TemporalFeaturizer().fit(users.iloc[:20])
    featurizer.save(tmp_path / "temporal.pkl")
    loaded = Featurizer.load(tmp_path / "temporal.pkl")
    np.testing.assert_array_equal(loaded.transform(users), featurizer.transform(users))
