"""The content-keyed row cache of stateless featurizers (toolkit/features/rows.py)."""

import shutil

import numpy as np
import pytest
from factories import make_users
from tiny_distilbert import build_tiny_distilbert

from toolkit.features.rows import RowStore, clear_rows, embed_rows
from toolkit.featurizers.distilbert import DistilBertFeaturizer
from toolkit.featurizers.tfidf import TfidfFeaturizer

ATOL = 1e-5


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return build_tiny_distilbert(tmp_path_factory.mktemp("tiny-distilbert"))


@pytest.fixture()
def users():
    table = make_users(n=16, seed=5)
    table.loc[3, "text"] = "the same words"
    table.loc[9, "text"] = "the same words"
    return table


def _featurizer(tiny, **params):
    return DistilBertFeaturizer(model=tiny, batch_size=4, max_length=32, **params)


def test_rows_match_transform_in_the_users_order(tiny, users, tmp_path):
    featurizer = _featurizer(tiny)
    rows, stats = embed_rows(featurizer, users, tmp_path)
    np.testing.assert_allclose(rows, featurizer.fit(users).transform(users), atol=ATOL)
    assert rows.dtype == np.float32
    assert stats.computed == len(users) and stats.from_cache == 0
    # users 3 and 9 share a text, and several users have none: each distinct text is embedded once
    assert stats.texts_embedded == len(set(users["text"].fillna("")))
    assert stats.texts_embedded < len(users)


def test_a_second_call_with_the_same_texts_computes_nothing(tiny, users, tmp_path):
    first, _ = embed_rows(_featurizer(tiny), users, tmp_path)
    again, stats = embed_rows(_featurizer(tiny), users.sample(frac=1.0, random_state=0), tmp_path)
    assert stats.computed == 0 and stats.texts_embedded == 0 and stats.from_cache == len(users)
    shuffled = users.sample(frac=1.0, random_state=0).index
    np.testing.assert_array_equal(again, first[shuffled])


def test_a_changed_text_computes_only_that_row(tiny, users, tmp_path):
    embed_rows(_featurizer(tiny), users, tmp_path)
    changed = users.copy()
    changed.loc[5, "text"] = "hello from texas, a new post"
    rows, stats = embed_rows(_featurizer(tiny), changed, tmp_path)
    assert (stats.computed, stats.texts_embedded, stats.from_cache) == (1, 1, len(users) - 1)
    np.testing.assert_allclose(rows[5], _featurizer(tiny).fit(changed).transform(changed.iloc[[5]])[0], atol=ATOL)


def test_other_parameters_do_not_share_rows_but_batch_size_does(tiny, users, tmp_path):
    embed_rows(_featurizer(tiny), users, tmp_path)
    _, cls_stats = embed_rows(_featurizer(tiny, pooling="cls"), users, tmp_path)
    assert cls_stats.from_cache == 0
    _, batch_stats = embed_rows(DistilBertFeaturizer(model=tiny, batch_size=7, max_length=32), users, tmp_path)
    assert batch_stats.computed == 0  # padding is masked and the order restored: batches do not change a row


def test_the_same_weights_in_another_folder_share_rows(tiny, users, tmp_path):
    embed_rows(_featurizer(tiny), users, tmp_path / "cache")
    copy = shutil.copytree(tiny, tmp_path / "copy")
    _, stats = embed_rows(DistilBertFeaturizer(model=str(copy), batch_size=4, max_length=32), users, tmp_path / "cache")
    assert stats.computed == 0


def test_other_weights_never_share_rows(tmp_path, users):
    a = build_tiny_distilbert(tmp_path / "a", seed=0)
    b = build_tiny_distilbert(tmp_path / "b", seed=1)
    embed_rows(DistilBertFeaturizer(model=a, max_length=32), users, tmp_path / "cache")
    _, stats = embed_rows(DistilBertFeaturizer(model=b, max_length=32), users, tmp_path / "cache")
    assert stats.from_cache == 0


def test_shards_are_plain_arrays_written_whole(tiny, users, tmp_path):
    embed_rows(_featurizer(tiny), users, tmp_path)
    folder = RowStore(tmp_path, _featurizer(tiny)).folder
    shards = list(folder.glob("*.npz"))
    assert len(shards) == 1 and not list(folder.glob(".*.tmp"))
    with np.load(shards[0], allow_pickle=False) as data:  # no object arrays: nothing to unpickle
        assert data["digests"].dtype == np.uint8 and data["rows"].dtype == np.float32


def test_an_unreadable_shard_is_discarded_and_recomputed(tiny, users, tmp_path):
    first, _ = embed_rows(_featurizer(tiny), users, tmp_path)
    shard = next(RowStore(tmp_path, _featurizer(tiny)).folder.glob("*.npz"))
    shard.write_bytes(shard.read_bytes()[:100])  # truncated, as after a crash of a non-atomic writer
    with pytest.warns(UserWarning, match="unreadable"):
        rows, stats = embed_rows(_featurizer(tiny), users, tmp_path)
    assert stats.from_cache == 0 and not shard.exists()
    np.testing.assert_allclose(rows, first, atol=ATOL)


def test_without_a_cache_root_nothing_is_stored(tiny, users, tmp_path):
    rows, stats = embed_rows(_featurizer(tiny), users, None)
    assert rows.shape == (len(users), 32) and stats.from_cache == 0
    _, again = embed_rows(_featurizer(tiny), users, None)
    assert again.computed == len(users)


def test_clear_rows_removes_the_shards(tiny, users, tmp_path):
    embed_rows(_featurizer(tiny), users, tmp_path)
    (tmp_path / "rows" / "notes.txt").write_text("mine")  # not the cache's: left alone and reported
    removal = clear_rows(tmp_path)
    assert removal.removed == 3 and removal.bytes > 0  # one shard, its identity.json and facts.json
    assert (tmp_path / "rows" / "notes.txt").read_text() == "mine" and len(removal.kept) == 1
    _, stats = embed_rows(_featurizer(tiny), users, tmp_path)
    assert stats.from_cache == 0


def test_a_featurizer_that_learns_from_its_training_users_is_refused(users, tmp_path):
    assert not TfidfFeaturizer.stateless and DistilBertFeaturizer.stateless
    with pytest.raises(TypeError, match="stateless"):
        embed_rows(TfidfFeaturizer(), users, tmp_path)


def test_rows_from_the_cache_carry_the_seconds_they_took(tiny, users, tmp_path):
    _, first = embed_rows(_featurizer(tiny), users, tmp_path)
    _, again = embed_rows(_featurizer(tiny), users, tmp_path)
    assert first.computed == len(users) and again.computed == 0
    assert first.compute_seconds == first.seconds > 0
    # nothing embedded now, but the cost of the rows is what computing them took
    assert again.seconds < first.seconds and again.compute_seconds == pytest.approx(first.seconds, rel=1e-3)
