"""A hostile row cache (``<cache>/rows``) and feature-cache folders: planted, foreign-signed or tampered
shards, planted links, a FIFO named like a shard, a decompression bomb, and ``cache clear`` around links."""

from __future__ import annotations

import hashlib
import io
import json
import os
import pickle
import threading
import uuid
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest

from factories import make_users
from hostile import toolkit
from toolkit.features.cache import MANIFEST, FeatureCache, users_fingerprint
from toolkit.features.rows import RowStore, embed_rows
from toolkit.featurizers.base import Featurizer
from toolkit.featurizers.behavior import BehaviorFeaturizer

DIM = 4


class HashFeaturizer(Featurizer):
    """A stateless stand-in for a frozen encoder: each row is a hash of the user's text."""

    stateless = True
    registry_name = "hash-rows-test"

    def row_texts(self, users):
        return users["text"].fillna("").tolist()

    def transform(self, users):
        rows = [np.frombuffer(hashlib.sha256(t.encode()).digest()[:4 * DIM], dtype=np.uint32)
                for t in self.row_texts(users)]
        return (np.asarray(rows, dtype=np.float64) / 2.0 ** 32).astype(np.float32)


@pytest.fixture(scope="module")
def users():
    return make_users(24, seed=11)


def _fresh(users) -> np.ndarray:
    return embed_rows(HashFeaturizer(), users, None)[0]


def _labels_rows(users) -> tuple[np.ndarray, np.ndarray]:
    """What an attacker plants: for every user's text, a row that is the user's label."""
    texts = HashFeaturizer().row_texts(users)
    labels = np.random.default_rng(0).integers(0, 2, len(users)).astype(np.float32)
    digests = {hashlib.sha256(t.encode()).digest(): label for t, label in zip(texts, labels)}
    return (np.frombuffer(b"".join(digests), dtype=np.uint8).reshape(-1, 32),
            np.repeat(np.asarray(list(digests.values()), dtype=np.float32)[:, None], DIM, axis=1))


def _embed_warned(users, root) -> tuple[np.ndarray, object, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rows, stats = embed_rows(HashFeaturizer(), users, root)
    return rows, stats, [str(w.message) for w in caught if "row cache" in str(w.message)]


def _folder(root: Path) -> Path:
    return RowStore(root, HashFeaturizer()).folder


def test_a_planted_unsigned_shard_carrying_labels_is_ignored(tmp_path, users):
    folder = _folder(tmp_path / "cache")
    folder.mkdir(parents=True)
    digests, rows = _labels_rows(users)
    for half in (slice(0, 8), slice(8, None)):  # two shards: still one warning line
        np.savez(folder / f"{uuid.uuid4().hex}.npz", digests=digests[half], rows=rows[half],
                 seconds=np.zeros(len(rows[half])))
    got, stats, lines = _embed_warned(users, tmp_path / "cache")
    np.testing.assert_array_equal(got, _fresh(users))
    assert stats.from_cache == 0
    assert len(lines) == 1 and "discarded 2 shard(s) (2 not signed with your cache key" in lines[0], lines
    assert len(list(folder.glob("*.npz"))) == 1  # the planted ones are gone; the rows computed now are stored


def test_a_shard_signed_with_another_users_key_is_ignored(tmp_path, users):
    digests, rows = _labels_rows(users)
    theirs = RowStore(tmp_path / "cache", HashFeaturizer(), secret=b"t" * 32)
    theirs.write(dict(zip([bytes(d) for d in digests], rows)))
    got, stats, lines = _embed_warned(users, tmp_path / "cache")
    np.testing.assert_array_equal(got, _fresh(users))
    assert stats.from_cache == 0 and len(lines) == 1 and "not signed with your cache key" in lines[0]


def test_a_tampered_shard_is_ignored(tmp_path, users):
    embed_rows(HashFeaturizer(), users, tmp_path / "cache")
    shard = next(_folder(tmp_path / "cache").glob("*.npz"))
    with np.load(shard) as data:
        arrays = {name: data[name] for name in data.files}
    arrays["rows"] = np.ones_like(arrays["rows"])  # the genuine signature kept, the rows replaced
    with open(shard, "wb") as fh:
        np.savez(fh, **arrays)
    got, stats, lines = _embed_warned(users, tmp_path / "cache")
    np.testing.assert_array_equal(got, _fresh(users))
    assert stats.from_cache == 0 and len(lines) == 1 and "altered, or signed with another key" in lines[0]


@pytest.mark.parametrize("where", ["rows", "rows/<identity>"])
def test_a_link_in_the_row_cache_is_not_written_through(tmp_path, users, where):
    root, outside = tmp_path / "cache", tmp_path / "outside"
    outside.mkdir()
    link = root / "rows" if where == "rows" else _folder(root)
    link.parent.mkdir(parents=True)
    link.symlink_to(outside, target_is_directory=True)
    for _ in range(2):  # a second run neither reads nor writes through it either
        got, stats, lines = _embed_warned(users, root)
        np.testing.assert_array_equal(got, _fresh(users))
        assert stats.from_cache == 0 and len(lines) == 1 and "is a symbolic link to" in lines[0], lines
    assert list(outside.rglob("*")) == [] and link.is_symlink()


def test_a_link_at_a_feature_cache_prefix_is_not_written_through(tmp_path):
    users = make_users(40, seed=3)
    root, outside = tmp_path / "cache", tmp_path / "outside"
    outside.mkdir()
    cache = FeatureCache(root)
    rows, test = np.arange(30), np.arange(30, 40)
    feat = BehaviorFeaturizer().fit(users.iloc[rows])
    key = cache.key(data=users_fingerprint(users), featurizer=feat, train_rows=rows, other_rows=[test])
    (root / "features").mkdir(parents=True)
    (root / "features" / key[:2]).symlink_to(outside, target_is_directory=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert cache.load(key) is None
        cache.store(key, train_block=feat.transform(users.iloc[rows]), other_blocks=[feat.transform(users.iloc[test])],
                    seconds=1.0, meta={}, fitted=pickle.dumps(feat))
        assert cache.load(key) is None
    planted = [str(w.message) for w in caught if "symbolic link" in str(w.message)]
    assert len(planted) == 1 and f"features/{key[:2]}" in planted[0], planted
    assert list(outside.rglob("*")) == []


def test_cache_clear_removes_planted_links_and_nothing_they_point_to(tmp_path, users):
    root = tmp_path / "cache"
    embed_rows(HashFeaturizer(), users, tmp_path / "other-cache")  # real shards, to be pointed at
    outside = tmp_path / "other-cache"
    before = sorted(p.relative_to(outside) for p in outside.rglob("*"))
    feature_target = tmp_path / "victim-features"
    (feature_target / ("ab" + "0" * 62)).mkdir(parents=True)
    (feature_target / ("ab" + "0" * 62) / "manifest.json").write_text("{}")  # named like an entry's files
    root.mkdir()
    (root / "rows").symlink_to(outside / "rows", target_is_directory=True)
    (root / "features").mkdir()
    (root / "features" / "ab").symlink_to(feature_target, target_is_directory=True)
    result = toolkit("cache", "clear", "--cache-dir", str(root), cwd=tmp_path, timeout=120)
    assert result.rc == 0 and "Traceback" not in result.text, result.text
    assert not os.path.lexists(root / "rows") and not os.path.lexists(root / "features" / "ab")
    assert sorted(p.relative_to(outside) for p in outside.rglob("*")) == before
    assert (feature_target / ("ab" + "0" * 62) / "manifest.json").read_text() == "{}"


def test_cache_clear_removes_a_link_at_an_identity_folder_not_its_target(tmp_path, users):
    root, outside = tmp_path / "cache", tmp_path / "outside"
    embed_rows(HashFeaturizer(), users, root)
    real = _folder(root)
    for path in real.iterdir():  # the same names in a folder that is not the cache's
        outside.mkdir(exist_ok=True)
        (outside / path.name).write_bytes(path.read_bytes())
    before = sorted(p.name for p in outside.iterdir())
    link = real.with_name("f" * 32)
    link.symlink_to(outside, target_is_directory=True)
    result = toolkit("cache", "clear", "--cache-dir", str(root), cwd=tmp_path, timeout=120)
    assert result.rc == 0, result.text
    assert not os.path.lexists(link) and not real.exists()  # the link and the cache's own shards: gone
    assert sorted(p.name for p in outside.iterdir()) == before and len(before) == 2  # a shard and identity.json


def _finishes(call, fifo: Path, seconds: float = 30.0):
    """``call()``'s result, or a failure if it is still blocked after ``seconds`` (then the FIFO is unblocked)."""
    box = {}
    thread = threading.Thread(target=lambda: box.update(result=call()), daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))  # let the blocked reader go
        thread.join(seconds)
        pytest.fail(f"reading {fifo.name} blocked for {seconds} s")
    return box["result"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_a_fifo_named_like_a_shard_does_not_hang(tmp_path, users):
    embed_rows(HashFeaturizer(), users, tmp_path / "cache")
    fifo = _folder(tmp_path / "cache") / f"{uuid.uuid4().hex}.npz"
    os.mkfifo(fifo)
    got, stats, lines = _finishes(lambda: _embed_warned(users, tmp_path / "cache"), fifo)
    np.testing.assert_array_equal(got, _fresh(users))
    assert stats.from_cache == len(users)  # the genuine shard is still used
    assert len(lines) == 1 and "named pipe (FIFO)" in lines[0] and not os.path.lexists(fifo)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_a_fifo_manifest_in_the_feature_cache_does_not_hang(tmp_path):
    users = make_users(40, seed=3)
    cache = FeatureCache(tmp_path / "cache")
    feat = BehaviorFeaturizer().fit(users)
    key = cache.key(data=users_fingerprint(users), featurizer=feat, train_rows=np.arange(40), other_rows=[])
    cache.store(key, train_block=feat.transform(users), other_blocks=[], seconds=1.0, meta={})
    manifest = cache.root / key[:2] / key / MANIFEST
    manifest.unlink()
    os.mkfifo(manifest)
    with pytest.warns(RuntimeWarning, match=r"named pipe \(FIFO\)"):
        assert _finishes(lambda: cache.load(key), manifest) is None


def _bomb_npy(shape: tuple) -> bytes:
    """An .npy header declaring ``shape`` float32, followed by a little data."""
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": "<f4", "fortran_order": False, "shape": shape})
    return buffer.getvalue() + bytes(1024)


def test_a_bomb_shard_is_removed_and_recomputed(tmp_path, users):
    embed_rows(HashFeaturizer(), users, tmp_path / "cache")
    folder = _folder(tmp_path / "cache")
    bomb = folder / f"{uuid.uuid4().hex}.npz"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:  # a small file declaring 4 TiB of rows
        archive.writestr("digests.npy", _bomb_npy((1 << 30, 32)))
        archive.writestr("rows.npy", _bomb_npy((1 << 30, 1024)))
        archive.writestr("seconds.npy", _bomb_npy((1 << 30,)))
    assert bomb.stat().st_size < 1 << 20
    got, stats, lines = _embed_warned(users, tmp_path / "cache")
    np.testing.assert_array_equal(got, _fresh(users))
    assert stats.from_cache == len(users) and not bomb.exists()
    assert len(lines) == 1 and "compressed" in lines[0] and "1 unreadable" in lines[0], lines


def test_a_stored_shard_declaring_more_than_it_holds_is_refused_before_allocation(tmp_path, users):
    embed_rows(HashFeaturizer(), users, tmp_path / "cache")
    bomb = _folder(tmp_path / "cache") / f"{uuid.uuid4().hex}.npz"
    buffer = io.BytesIO()
    np.save(buffer, np.zeros((1, 32), dtype=np.uint8))
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_STORED) as archive:  # stored: the zip sizes are honest
        archive.writestr("digests.npy", buffer.getvalue())
        archive.writestr("rows.npy", _bomb_npy((1 << 40, 1024)))
        archive.writestr("seconds.npy", _bomb_npy((1,))[:-1020])
    got, stats, lines = _embed_warned(users, tmp_path / "cache")
    np.testing.assert_array_equal(got, _fresh(users))
    assert not bomb.exists() and len(lines) == 1 and "header declares" in lines[0], lines


def test_a_signed_feature_block_declaring_more_than_it_holds_is_rebuilt(tmp_path):
    """Even an entry signed with the user's key: a block header is checked against its bytes."""
    users = make_users(40, seed=3)
    secret = b"s" * 32
    cache = FeatureCache(tmp_path / "cache", secret=secret)
    feat = BehaviorFeaturizer().fit(users)
    key = cache.key(data=users_fingerprint(users), featurizer=feat, train_rows=np.arange(40), other_rows=[])
    cache.store(key, train_block=feat.transform(users), other_blocks=[], seconds=1.0, meta={})
    folder = cache.root / key[:2] / key
    payload = _bomb_npy((1 << 40, 1024))
    (folder / "train.npy").write_bytes(payload)
    manifest = json.loads((folder / MANIFEST).read_text())
    manifest["blocks"][0].update(bytes=len(payload), sha256=hashlib.sha256(payload).hexdigest())
    body = {k: v for k, v in manifest.items() if k != "hmac"}
    from toolkit.signing import sign

    manifest["hmac"] = sign(secret, json.dumps(body, sort_keys=True).encode())
    (folder / MANIFEST).write_text(json.dumps(manifest))
    with pytest.warns(RuntimeWarning, match="header declares .* bytes"):
        assert cache.load(key) is None
    assert not folder.exists()

