"""A hostile feature cache: forged, swapped or foreign-signed entries, a leaky key file, and
``cache clear`` pointed at a folder holding other people's files."""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import re
import shutil
import stat
import warnings
from pathlib import Path

import numpy as np
import pytest

from hostile import assert_refused, toolkit, tree, write_yaml
from specs import spec_dict
from toolkit.errors import ToolkitError
from toolkit.features.cache import MANIFEST, FeatureCache, users_fingerprint
from toolkit.features.cache.key import load_or_create_key
from toolkit.featurizers.behavior import BehaviorFeaturizer
from factories import make_users

TRAIN, TEST = np.arange(0, 30), np.arange(30, 40)


class _Payload:
    """Unpickling this creates ``path``: proof that code from the cache ran."""

    def __init__(self, path: str):
        self.path = path

    def __reduce__(self):
        return (Path.touch, (Path(self.path),))


@pytest.fixture(scope="module")
def users():
    return make_users(40, seed=3, steps=7)


def _store(cache: FeatureCache, users, rows=TRAIN) -> str:
    feat = BehaviorFeaturizer().fit(users.iloc[rows])
    key = cache.key(data=users_fingerprint(users), featurizer=feat, train_rows=rows, other_rows=[TEST])
    cache.store(key, train_block=feat.transform(users.iloc[rows]), other_blocks=[feat.transform(users.iloc[TEST])],
                seconds=1.0, meta={}, fitted=pickle.dumps(feat))
    return key


def _forge(folder: Path, sentinel: Path) -> None:
    """What an attacker with write access can do: new pickle, recomputed sizes and checksums, any manifest."""
    evil = pickle.dumps(_Payload(str(sentinel)))
    (folder / "fitted.pkl").write_bytes(evil)
    manifest = json.loads((folder / MANIFEST).read_text())
    manifest["fitted"].update(bytes=len(evil), sha256=hashlib.sha256(evil).hexdigest())
    body = {k: v for k, v in manifest.items() if k != "hmac"}
    manifest["hmac"] = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()  # unkeyed guess
    (folder / MANIFEST).write_text(json.dumps(manifest))


def test_a_forged_entry_is_never_unpickled_and_is_rebuilt(tmp_path, users):
    cache = FeatureCache(tmp_path / "cache")
    key = _store(cache, users)
    folder = cache.root / key[:2] / key
    sentinel = tmp_path / "pwned"
    _forge(folder, sentinel)
    with pytest.warns(RuntimeWarning, match=rf"entry {key[:12]} is corrupt \(manifest signature mismatch"):
        assert cache.load(key) is None
    assert not folder.exists() and not sentinel.exists()
    _store(cache, users)  # rebuilt: the next lookup hits and hands back a real featurizer
    found = cache.load(key)
    assert isinstance(pickle.loads(found.fitted), BehaviorFeaturizer) and not sentinel.exists()


def test_an_entry_copied_under_another_key_is_refused(tmp_path, users):
    cache = FeatureCache(tmp_path / "cache")
    real = _store(cache, users)
    other_rows = np.arange(5, 35)
    wanted = cache.key(data=users_fingerprint(users), featurizer=BehaviorFeaturizer(), train_rows=other_rows,
                       other_rows=[TEST])
    target = cache.root / wanted[:2] / wanted
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(cache.root / real[:2] / real, target)
    with pytest.warns(RuntimeWarning, match=rf"entry belongs to key {real[:12]}, not this one"):
        assert cache.load(wanted) is None
    assert not target.exists() and cache.load(real) is not None


def test_an_entry_signed_with_another_users_key_is_refused(tmp_path, users):
    theirs = FeatureCache(tmp_path / "shared", secret=b"t" * 32)
    key = _store(theirs, users)
    mine = FeatureCache(tmp_path / "shared", secret=b"m" * 32)
    with pytest.warns(RuntimeWarning, match="signed with another cache key"):
        assert mine.load(key) is None


def test_a_manifest_linked_to_an_endless_file_is_bounded(tmp_path, users):
    cache = FeatureCache(tmp_path / "cache")
    key = _store(cache, users)
    manifest = cache.root / key[:2] / key / MANIFEST
    manifest.unlink()
    manifest.symlink_to("/dev/zero")
    # refused before it is opened: the cache never follows a link it did not make
    with pytest.warns(RuntimeWarning, match="manifest.json is a symbolic link to /dev/zero"):
        assert cache.load(key) is None


def test_the_key_file_is_private_and_created_once(tmp_path):
    path = tmp_path / "config" / "toolkit" / "cache.key"
    key = load_or_create_key(path)
    assert len(key) == 32 and load_or_create_key(path) == key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert [p.name for p in path.parent.iterdir()] == ["cache.key"]  # no temporary file left


@pytest.mark.parametrize("damage, message", [
    ("chmod", "is open to others (mode 0644); expected 0600"),
    ("empty", "does not hold a key"),
])
def test_a_leaky_or_empty_key_file_stops_a_run_before_any_result(tmp_path, damage, message):
    key_file = tmp_path / "cache.key"
    load_or_create_key(key_file)
    if damage == "chmod":
        key_file.chmod(0o644)
    else:
        key_file.write_text("\n")
    write_yaml(tmp_path / "spec.yaml", spec_dict(data={"synthetic": {"users": 100, "seed": 1, "positive_rate": 0.3}}))
    result = toolkit("run", "spec.yaml", "--quiet", "--cache-dir", "cache", cwd=tmp_path,
                     env={"TOOLKIT_CACHE_KEY_FILE": str(key_file)}, timeout=300)
    assert_refused(result, 2, str(key_file), message)
    assert not (tmp_path / "results").exists() or tree(tmp_path / "results") == []
    assert not list((tmp_path / "cache").rglob("manifest.json"))
    with pytest.raises(ToolkitError, match=re.escape(message)):
        load_or_create_key(key_file)


def test_cache_clear_removes_only_its_own_entries_and_says_what_it_left(tmp_path, users):
    root = tmp_path / "cache"
    cache = FeatureCache(root)
    key = _store(cache, users)
    outside = tmp_path / "precious"
    outside.mkdir()
    (outside / "thesis.tex").write_text("years of work")
    foreign = {
        "features/notes.txt": "mine",
        "features/ab/my-folder/data.csv": "mine",
        f"features/ff/{'f' * 64}/manifest.json": "{}",  # named like an entry, but holding a file no entry has:
        f"features/ff/{'f' * 64}/extra.txt": "not a cache file",  # left whole
    }
    for rel, text in foreign.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    link = root / "features" / "cd" / ("cd" + "0" * 62)
    link.parent.mkdir()
    link.symlink_to(outside, target_is_directory=True)
    (root / "synthetic").mkdir()
    (root / "synthetic" / "synthetic-v1-u100-s1-r0.3.csv").write_text("generated")
    (root / "synthetic" / "synthetic-v1-u100-s1-r0.3.truth.csv").write_text("generated")
    (root / "synthetic" / ".synthetic-v1-u9-s1-r0.3.csv.ab12_x9z.tmp").write_text("half written")
    (root / "synthetic" / "my-data.csv").write_text("mine")

    result = toolkit("cache", "clear", "--all", "--cache-dir", str(root), cwd=tmp_path, timeout=60)
    assert result.rc == 0 and "Traceback" not in result.text, result.text
    assert "removed 1 cached feature entries" in result.out
    assert "removed 3 synthetic data files" in result.out
    assert "left alone" in result.out and "my-data.csv" in result.out and "notes.txt" in result.out
    assert (outside / "thesis.tex").read_text() == "years of work" and not link.exists()
    assert tree(root) == sorted([
        "features", "features/notes.txt", "features/ab", "features/ab/my-folder", "features/ab/my-folder/data.csv",
        f"features/{'f' * 2}", f"features/ff/{'f' * 64}", f"features/ff/{'f' * 64}/extra.txt", f"features/ff/{'f' * 64}/manifest.json",
        "synthetic", "synthetic/my-data.csv"])


def test_cache_clear_goes_on_past_what_it_cannot_remove(tmp_path, users, monkeypatch, capsys):
    from toolkit import cleanup
    from toolkit.cli import main

    root = tmp_path / "cache"
    cache = FeatureCache(root)
    keys = [_store(cache, users), _store(cache, users, rows=np.arange(1, 31))]
    locked = cache.root / keys[0][:2] / keys[0]
    real_unlink = os.unlink

    def unlink(path, *args, **kwargs):  # a file the user may not delete (root ignores chmod, so simulate it)
        if Path(path).parent == locked:
            raise PermissionError(13, "Permission denied", str(path))
        return real_unlink(path, *args, **kwargs)

    monkeypatch.setattr(cleanup.os, "unlink", unlink)
    assert main(["cache", "clear", "--cache-dir", str(root)]) == 1
    out = capsys.readouterr().out
    assert "removed 1 cached feature entries" in out and "could not be removed" in out and "Permission denied" in out
    assert (locked / MANIFEST).exists()
    assert not (cache.root / keys[1][:2] / keys[1]).exists()
