import numpy as np
import pytest
import scipy.sparse as sp
from factories import make_users

from toolkit.errors import ToolkitError
from toolkit.featurizers.base import Featurizer
from toolkit.featurizers.tfidf import TfidfFeaturizer
from toolkit.registry import FEATURIZERS


@pytest.fixture
def users():
    return make_users(n=40, seed=1)


def test_registered_under_its_file_name():
    assert FEATURIZERS.get("tfidf") is TfidfFeaturizer


def test_constructor_stores_parameters_as_given():
    featurizer = TfidfFeaturizer(ngram_range=[1, 3], min_df=0.1)
    assert featurizer.get_config()["ngram_range"] == [1, 3]
    assert featurizer.get_config()["min_df"] == 0.1
    assert not hasattr(featurizer, "vectorizer_")


def test_sparse_block_with_one_column_per_vocabulary_entry(users):
    featurizer = TfidfFeaturizer(min_df=1)
    assert featurizer.output_kind() == "sparse"
    train = featurizer.fit_transform(users.iloc[:30])
    test = featurizer.transform(users.iloc[30:])
    vocabulary = len(featurizer.vectorizer_.vocabulary_)
    assert sp.issparse(train) and sp.issparse(test)
    assert train.shape == (30, vocabulary) and test.shape == (10, vocabulary)
    assert train.dtype == np.float32
    assert np.allclose(train.toarray(), featurizer.transform(users.iloc[:30]).toarray())


def test_vocabulary_comes_from_training_users_only(users):
    users = users.copy()
    users.loc[users.index[35], "text"] = "zanzibarian"
    featurizer = TfidfFeaturizer(min_df=1).fit(users.iloc[:30])
    assert "zanzibarian" not in featurizer.vectorizer_.vocabulary_
    row = featurizer.transform(users.iloc[35:36])
    assert row.nnz == 0

    users.loc[users.index[3], "text"] = "zanzibarian"
    assert "zanzibarian" in TfidfFeaturizer(min_df=1).fit(users.iloc[:30]).vectorizer_.vocabulary_


def test_ngrams_are_built_over_tokens(users):
    users = users.iloc[:4].copy()
    users["text"] = ["小红书 cat tax", "小红书 cat tax", "hello", "hello"]
    vocabulary = TfidfFeaturizer(min_df=1, ngram_range=(1, 2)).fit(users).vectorizer_.vocabulary_
    assert {"小红书", "cat", "tax", "小红书 cat", "cat tax", "hello"} == set(vocabulary)


def test_stop_words_parameter(users):
    users = users.iloc[:4].copy()
    users["text"] = ["the cat 的 猫咪", "the dog 的 小狗", "a cat", "a dog"]
    with_stops = TfidfFeaturizer(min_df=1, ngram_range=(1, 1), stop_words=False).fit(users)
    without = TfidfFeaturizer(min_df=1, ngram_range=(1, 1)).fit(users)
    assert "the" in with_stops.vectorizer_.vocabulary_ and "的" in with_stops.vectorizer_.vocabulary_
    assert "the" not in without.vectorizer_.vocabulary_ and "的" not in without.vectorizer_.vocabulary_


def test_svd_gives_a_dense_deterministic_block(users):
    featurizer = TfidfFeaturizer(min_df=1, svd_components=5)
    assert featurizer.output_kind() == "dense"
    train = featurizer.fit_transform(users.iloc[:30])
    test = featurizer.transform(users.iloc[30:])
    assert isinstance(test, np.ndarray) and test.shape == (10, 5) and test.dtype == np.float32
    assert train.shape == (30, 5)
    again = TfidfFeaturizer(min_df=1, svd_components=5).fit(users.iloc[:30]).transform(users.iloc[30:])
    np.testing.assert_allclose(test, again, atol=1e-6)
    vocabulary = featurizer.vocabulary_size_
    assert featurizer.flops_per_user() >= 2 * vocabulary * 5


def test_min_df_above_the_number_of_training_users_is_a_clear_error(users):
    with pytest.raises(ToolkitError, match="min_df.*at least 50 training users.*only 30"):
        TfidfFeaturizer(min_df=50).fit(users.iloc[:30])


def test_min_df_share_above_one_is_an_error(users):
    with pytest.raises(ToolkitError, match="min_df"):
        TfidfFeaturizer(min_df=1.5).fit(users)


def test_no_vocabulary_is_a_clear_error(users):
    users = users.iloc[:5].copy()
    users["text"] = ["", "😂", "the and of", "的 了", ""]
    with pytest.raises(ToolkitError, match="no vocabulary"):
        TfidfFeaturizer(min_df=1).fit(users)


def test_too_many_svd_components_is_a_clear_error(users):
    with pytest.raises(ToolkitError, match="svd_components"):
        TfidfFeaturizer(min_df=1, svd_components=31).fit(users.iloc[:30])


def test_empty_text_gives_an_empty_row(users):
    featurizer = TfidfFeaturizer(min_df=1).fit(users)
    users = users.iloc[:1].copy()
    users["text"] = [""]
    assert featurizer.transform(users).nnz == 0


def test_save_and_load_round_trip(users, tmp_path):
    featurizer = TfidfFeaturizer(min_df=1).fit(users.iloc[:30])
    featurizer.save(tmp_path / "tfidf.pkl")
    loaded = Featurizer.load(tmp_path / "tfidf.pkl")
    expected = featurizer.transform(users.iloc[30:]).toarray()
    np.testing.assert_array_equal(loaded.transform(users.iloc[30:]).toarray(), expected)


def test_flops_grow_with_the_ngram_range(users):
    unigrams = TfidfFeaturizer(min_df=1, ngram_range=(1, 1)).fit(users)
    bigrams = TfidfFeaturizer(min_df=1, ngram_range=(1, 2)).fit(users)
    assert 0 < unigrams.flops_per_user() < bigrams.flops_per_user()
