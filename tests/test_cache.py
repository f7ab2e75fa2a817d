"""The feature cache: lossless round trips, keys that change exactly when features would, corrupt entries rebuilt."""

import json
import multiprocessing
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

import toolkit.features.cache.store as cache_module
from factories import make_users
from toolkit.features.cache import (
    MANIFEST, CachedBlocks, FeatureCache, code_version, default_cache_root, rows_fingerprint, users_fingerprint,
)
from toolkit.featurizers.behavior import BehaviorFeaturizer
from toolkit.featurizers.tfidf import TfidfFeaturizer

TESTS = Path(__file__).parent
TRAIN, TEST = np.arange(0, 30), np.arange(30, 40)


@pytest.fixture(scope="module")
def users():
    return make_users(40, seed=3, steps=7)


@pytest.fixture(scope="module")
def tfidf_blocks(users):
    feat = TfidfFeaturizer(max_features=100, min_df=1)
    return feat.fit(users.iloc[TRAIN]).transform(users.iloc[TRAIN]), feat.transform(users.iloc[TEST])


@pytest.fixture
def cache(tmp_path):
    return FeatureCache(tmp_path)


def _key(cache, users, featurizer, train=TRAIN, test=TEST):
    return cache.key(data=users_fingerprint(users), featurizer=featurizer, train_rows=train, other_rows=[test])


def _entry(cache, key) -> Path:
    return cache.root / key[:2] / key


def _assert_same_block(got, want):
    assert type(got) is type(want)
    if sp.issparse(want):
        assert got.format == want.format and got.dtype == want.dtype and got.shape == want.shape
        assert (got != want).nnz == 0
    else:
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)


def test_sparse_blocks_round_trip_exactly_keeping_their_type(cache, users, tfidf_blocks):
    train, test = tfidf_blocks
    assert isinstance(train, sp.csr_matrix) and train.nnz > 0
    others = [test, sp.csr_array(test), test.tocsc()]
    key = _key(cache, users, TfidfFeaturizer(max_features=100, min_df=1))
    cache.store(key, train_block=train, other_blocks=others, seconds=1.5, meta={"vocabulary": 100})
    found = cache.load(key)
    _assert_same_block(found.train_block, train)
    assert len(found.other_blocks) == 3
    for got, want in zip(found.other_blocks, others):
        _assert_same_block(got, want)


def test_dense_and_sequence_blocks_round_trip_and_a_hit_keeps_the_measured_seconds(cache, users):
    feat = BehaviorFeaturizer()
    dense = feat.fit(users.iloc[TRAIN]).transform(users.iloc[TRAIN])
    sequence = np.stack(users["activity"].iloc[TEST].to_list())
    assert dense.dtype == np.float32 and sequence.ndim == 3
    key = _key(cache, users, feat)
    assert cache.load(key) is None
    cache.store(key, train_block=dense, other_blocks=[sequence, dense.astype(np.float64)], seconds=2.25,
                meta={"flops_per_user": 44.0, "names": ["a", "b"]})
    found = cache.load(key)
    assert isinstance(found, CachedBlocks) and found.hit is True
    assert found.seconds == 2.25 and found.meta == {"flops_per_user": 44.0, "names": ["a", "b"]}
    _assert_same_block(found.train_block, dense)
    _assert_same_block(found.other_blocks[0], sequence)
    _assert_same_block(found.other_blocks[1], dense.astype(np.float64))
    assert (cache.stats.hits, cache.stats.misses, cache.stats.rebuilt_corrupt) == (1, 1, 0)


def test_keys_change_with_params_code_rows_and_data_and_nothing_else(cache, users, monkeypatch):
    base = _key(cache, users, TfidfFeaturizer(max_features=100, min_df=1))
    assert base == _key(cache, users, TfidfFeaturizer(max_features=100, min_df=1))
    # int32 positions name the same rows as int64 ones
    assert base == _key(cache, users, TfidfFeaturizer(max_features=100, min_df=1), TRAIN.astype(np.int32))
    others = {
        "params": _key(cache, users, TfidfFeaturizer(max_features=50, min_df=1)),
        "featurizer": _key(cache, users, BehaviorFeaturizer()),
        "train rows": _key(cache, users, TfidfFeaturizer(max_features=100, min_df=1), TRAIN[1:]),
        "other rows": _key(cache, users, TfidfFeaturizer(max_features=100, min_df=1), TRAIN, TEST[::-1]),
        "data": _key(cache, make_users(40, seed=4, steps=7), TfidfFeaturizer(max_features=100, min_df=1)),
    }
    monkeypatch.setattr(cache_module, "code_version", lambda cls: "edited")
    others["code"] = _key(cache, users, TfidfFeaturizer(max_features=100, min_df=1))
    assert len(set(others.values()) | {base}) == len(others) + 1, others


def test_the_same_inputs_give_the_same_key_in_another_process(cache, users):
    here = _key(cache, users, TfidfFeaturizer(max_features=100, min_df=1))
    script = (
        "import numpy as np; from factories import make_users; "
        "from toolkit.features.cache import FeatureCache, users_fingerprint; "
        "from toolkit.featurizers.tfidf import TfidfFeaturizer; "
        "u = make_users(40, seed=3, steps=7); "
        "print(FeatureCache(None).key(data=users_fingerprint(u), featurizer=TfidfFeaturizer(max_features=100, "
        "min_df=1), train_rows=np.arange(0, 30), other_rows=[np.arange(30, 40)]))"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), str(TESTS.parent)]), "PYTHONHASHSEED": "12345"}
    there = subprocess.run([sys.executable, "-c", script], env=env, cwd=TESTS.parent, capture_output=True,
                           text=True, check=True).stdout.strip()
    assert there == here


def test_users_fingerprint_sees_every_column_including_activity(users):
    base = users_fingerprint(users)
    assert users_fingerprint(users.copy()) == base
    edited = users.copy()
    edited.at[5, "activity"] = edited.at[5, "activity"] + np.float32(1e-3)
    assert users_fingerprint(edited) != base
    edited = users.copy()
    edited.at[7, "text"] = edited.at[7, "text"] + "!"
    assert users_fingerprint(edited) != base
    assert users_fingerprint(users.iloc[::-1]) != base
    assert rows_fingerprint(np.array([1, 2])) != rows_fingerprint(np.array([2, 1]))


def test_code_version_follows_the_module_source(tmp_path, monkeypatch):
    import importlib

    monkeypatch.syspath_prepend(str(tmp_path))
    versions = []
    for i, body in enumerate(["x = 1\n", "x = 2\n"]):
        name = f"cache_probe_{i}"
        (tmp_path / f"{name}.py").write_text(f"{body}class Probe:\n    pass\n")
        versions.append(code_version(importlib.import_module(name).Probe))
    assert versions[0] != versions[1]
    assert code_version(TfidfFeaturizer) == code_version(TfidfFeaturizer) != code_version(BehaviorFeaturizer)
    # no source to read: fall back to the qualified name and the toolkit version
    sourceless = type("Sourceless", (), {"__module__": "no_such_module_anywhere"})
    assert len(code_version(sourceless)) == 16


def _stored(cache, users, tfidf_blocks):
    key = _key(cache, users, TfidfFeaturizer(max_features=100, min_df=1))
    cache.store(key, train_block=tfidf_blocks[0], other_blocks=[tfidf_blocks[1]], seconds=1.0, meta={})
    return key


@pytest.mark.parametrize("damage, why", [
    ("truncate", "train.npz has .* bytes, expected"), ("flip", "train.npz checksum mismatch"),
    ("delete payload", "train.npz missing"), ("delete manifest", "manifest missing"),
    ("garble manifest", "manifest unreadable"), ("edit manifest", "manifest signature mismatch"),
])
def test_a_damaged_entry_is_warned_about_discarded_and_then_missed(cache, users, tfidf_blocks, damage, why):
    key = _stored(cache, users, tfidf_blocks)
    folder = _entry(cache, key)
    payload, manifest = folder / "train.npz", folder / MANIFEST
    if damage == "truncate":
        payload.write_bytes(payload.read_bytes()[:-10])
    elif damage == "flip":
        data = bytearray(payload.read_bytes())
        data[len(data) // 2] ^= 0x01
        payload.write_bytes(bytes(data))
    elif damage == "delete payload":
        payload.unlink()
    elif damage == "delete manifest":
        manifest.unlink()
    elif damage == "garble manifest":
        manifest.write_bytes(manifest.read_bytes()[:20])
    else:  # valid JSON that says something the writer never wrote
        doc = json.loads(manifest.read_text())
        doc["seconds"] = 0.001
        manifest.write_text(json.dumps(doc))
    message = rf"feature cache entry {key[:12]} is corrupt \({why}.*\); discarding and rebuilding"
    with pytest.warns(RuntimeWarning, match=message):
        assert cache.load(key) is None
    assert not folder.exists()
    assert cache.stats.rebuilt_corrupt == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert cache.load(key) is None
    assert cache.stats.misses == 2 and cache.stats.hits == 0


def test_a_disabled_cache_stores_nothing_and_never_hits(tmp_path, users, tfidf_blocks):
    cache = FeatureCache(None)
    key = _stored(cache, users, tfidf_blocks)
    assert cache.load(key) is None and cache.stats.misses == 1
    assert cache.clear().removed == 0
    assert list(tmp_path.iterdir()) == []


def test_clear_removes_every_entry_and_reports_what_it_freed(tmp_path, cache, users, tfidf_blocks):
    (tmp_path / "synthetic").mkdir()
    (tmp_path / "synthetic" / "data.csv").write_text("kept")
    key = _stored(cache, users, tfidf_blocks)
    other = _key(cache, users, BehaviorFeaturizer())
    cache.store(other, train_block=np.ones((3, 2), np.float32), other_blocks=[], seconds=0.1, meta={})
    size = sum(p.stat().st_size for p in cache.root.rglob("*") if p.is_file())
    removal = cache.clear()
    assert (removal.removed, removal.bytes, removal.kept, removal.failed) == (2, size, [], []) and size > 0
    assert cache.load(key) is None and cache.load(other) is None
    assert (tmp_path / "synthetic" / "data.csv").read_text() == "kept"
    assert cache.clear().removed == 0 and not cache.root.exists()


def _store_in_another_process(root, key, train, test, barrier):
    warnings.simplefilter("error")  # losing the race must be silent, not "could not store"
    cache = FeatureCache(Path(root))
    barrier.wait()
    for _ in range(5):
        cache.store(key, train_block=train, other_blocks=[test], seconds=3.0, meta={"pid": "any"})


def test_two_processes_storing_one_key_leave_one_valid_entry(tmp_path, users, tfidf_blocks):
    cache = FeatureCache(tmp_path)
    key = _key(cache, users, TfidfFeaturizer(max_features=100, min_df=1))
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(2)
    procs = [ctx.Process(target=_store_in_another_process, args=(str(tmp_path), key, *tfidf_blocks, barrier))
             for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        found = cache.load(key)
    assert found is not None and found.seconds == 3.0
    _assert_same_block(found.train_block, tfidf_blocks[0])
    _assert_same_block(found.other_blocks[0], tfidf_blocks[1])
    assert [p.name for p in _entry(cache, key).parent.iterdir()] == [key]  # no temporary folders left


def test_default_cache_root_honours_the_argument_then_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("TOOLKIT_CACHE_DIR", str(tmp_path / "env"))
    assert default_cache_root() == tmp_path / "env"
    assert default_cache_root(tmp_path / "given") == tmp_path / "given"
    assert default_cache_root(str(tmp_path)) == tmp_path
    monkeypatch.delenv("TOOLKIT_CACHE_DIR")
    assert default_cache_root() == Path.home() / ".cache" / "toolkit"
