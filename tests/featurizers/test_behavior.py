import numpy as np
import pytest
from factories import make_users

from toolkit.data.schema import BEHAVIOR_COLUMNS
from toolkit.errors import ToolkitError
from toolkit.featurizers.base import Featurizer
from toolkit.featurizers.behavior import BehaviorFeaturizer
from toolkit.registry import FEATURIZERS


@pytest.fixture
def users():
    return make_users(n=40, seed=4)


def test_registered_under_its_file_name():
    assert FEATURIZERS.get("behavior") is BehaviorFeaturizer


def test_all_behavior_columns_by_default(users):
    block = BehaviorFeaturizer().fit_transform(users)
    assert block.shape == (40, len(BEHAVIOR_COLUMNS)) and block.dtype == np.float32


def test_standardization_uses_training_statistics_only(users):
    train, test = users.iloc[:30], users.iloc[30:]
    columns = ["n_posts", "hour_sin", "zh_share"]
    featurizer = BehaviorFeaturizer(columns=columns).fit(train)
    fitted_train = featurizer.transform(train)
    np.testing.assert_allclose(fitted_train.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(fitted_train.std(axis=0), 1, atol=1e-5)

    raw_train, raw_test = train[columns].to_numpy(), test[columns].to_numpy()
    expected = (raw_test - raw_train.mean(axis=0)) / raw_train.std(axis=0)
    np.testing.assert_allclose(featurizer.transform(test), expected, rtol=1e-5, atol=1e-5)


def test_columns_keep_the_given_order(users):
    block = BehaviorFeaturizer(columns=["zh_share", "n_posts"], standardize=False).fit_transform(users)
    np.testing.assert_allclose(block, users[["zh_share", "n_posts"]].to_numpy(), rtol=1e-6)


def test_constant_and_missing_values_stay_finite(users):
    users = users.copy()
    users["night_share"] = 0.0
    users.loc[users.index[:3], "hour_spread"] = [np.nan, np.inf, -np.inf]
    featurizer = BehaviorFeaturizer(columns=["night_share", "hour_spread"]).fit(users)
    block = featurizer.transform(users)
    assert np.isfinite(block).all()
    np.testing.assert_array_equal(block[:, 0], 0)
    np.testing.assert_array_equal(block[:3, 1], 0)  # missing -> the training mean


def test_unknown_column_lists_the_valid_ones(users):
    with pytest.raises(ToolkitError, match="'n_post'.*Valid: n_posts, active_days"):
        BehaviorFeaturizer(columns=["n_post"]).fit(users)


def test_missing_column_in_the_table_is_a_clear_error(users):
    with pytest.raises(ToolkitError, match="lacks.*zh_share"):
        BehaviorFeaturizer().fit(users.drop(columns=["zh_share"]))


def test_save_and_load_round_trip(users, tmp_path):
    featurizer = BehaviorFeaturizer().fit(users.iloc[:30])
    featurizer.save(tmp_path / "behavior.pkl")
    loaded = Featurizer.load(tmp_path / "behavior.pkl")
    np.testing.assert_array_equal(loaded.transform(users), featurizer.transform(users))


def test_a_single_float_column_works():
    from factories import make_users
    from toolkit.featurizers.behavior import BehaviorFeaturizer

    users = make_users(20, seed=1)
    block = BehaviorFeaturizer(columns=["hour_sin"]).fit(users).transform(users)
    assert block.shape == (20, 1) and abs(float(block.mean())) < 1e-5
