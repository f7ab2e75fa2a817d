"""An on-disk cache of computed feature blocks, one entry per featurizer and fold.

A key covers everything a block depends on: the data, the featurizer's name,
parameters, code and output kind, and the rows it was fitted on and applied to.
It leaves out the head, its seed and the training settings, so sweeping those
never recomputes features.

Layout: ``<root>/features/<key[:2]>/<key>/`` holds ``train.npy`` (``.npz`` for a
sparse block), ``other-0.npy`` ... and ``manifest.json`` with each payload's
size and sha256, the entry's own key, and an HMAC over all of it under a
per-user secret kept outside the cache (:mod:`toolkit.features.cache.key`).
Nothing is parsed before that HMAC verifies and the recorded key is the one
asked for, so a forged entry, or a genuine one copied under another key, is
discarded and rebuilt, and the fitted featurizer's pickle is only ever handed
back from an entry this user's key signed. An entry is built in a temporary folder beside its final place
(manifest last) and renamed into place whole, so a reader sees a complete entry
or none. When two processes store one key, the first rename wins and the other
drops its copy: both hold the same blocks.

Below the cache root nothing is followed that the cache did not make: a link at
``features``, ``features/<xx>`` or an entry's folder makes that entry a miss (with
one warning per link, nothing stored through it; :mod:`~toolkit.features.cache.folders`),
an entry's files are opened only if they are regular files and not links (a FIFO
cannot hang the reader), and a block's ``.npy`` headers must declare exactly the
bytes read (:mod:`~toolkit.features.cache.arrays`) before NumPy allocates anything.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import io
import json
import os
import shutil
import sys
import uuid
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from toolkit.cleanup import Removal
from toolkit.errors import ToolkitError
from toolkit.features.cache.arrays import load_checked
from toolkit.features.cache.clear import clear_entries
from toolkit.features.cache.folders import PlantedPath, own_folder
from toolkit.features.cache.key import load_or_create_key, sign, verify
from toolkit.user_dirs import cache_root
from toolkit.safe_io import open_atomic, read_regular

FORMAT = 2  # part of every key: bump it when the layout changes and old entries simply miss
MANIFEST = "manifest.json"
MAX_MANIFEST_BYTES = 1 << 20  # a manifest is a few hundred bytes; read no more before it verifies


def default_cache_root(cache_dir: str | Path | None = None) -> Path:
    """``cache_dir`` if given, else ``$TOOLKIT_CACHE_DIR``, else ``~/.cache/toolkit``."""
    return cache_root(cache_dir)


@functools.lru_cache(maxsize=None)
def code_version(featurizer_cls: type) -> str:
    """A short hash of the source of the module defining ``featurizer_cls``.

    Only that module: an edit to a helper it imports (``tokenize.py`` for
    ``tfidf``) does not invalidate entries. Cached per class, since the code
    that runs is the code imported even if the file changes afterwards.
    """
    try:
        text = inspect.getsource(sys.modules[featurizer_cls.__module__])
    except (KeyError, TypeError, OSError):  # built in, or defined where no source file exists
        from toolkit._version import __version__

        text = f"{featurizer_cls.__module__}.{featurizer_cls.__qualname__} {__version__}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def users_fingerprint(users: pd.DataFrame) -> str:
    """sha256 over a users table: column names and dtypes, scalar values, and array cells' bytes."""
    digest = hashlib.sha256(json.dumps([len(users), [[str(c), str(t)] for c, t in users.dtypes.items()]]).encode())
    # hash_pandas_object cannot hash arrays, so those columns (``activity``) are hashed apart.
    arrays = [c for c in users.columns if users[c].dtype == object and any(isinstance(v, np.ndarray) for v in users[c])]
    scalars = users.drop(columns=arrays)
    if scalars.shape[1]:
        digest.update(pd.util.hash_pandas_object(scalars, index=False).to_numpy().tobytes())
    for column in arrays:
        cells = [np.asarray(v) for v in users[column]]
        if len({(c.shape, c.dtype) for c in cells}) == 1:
            cells = [np.stack(cells)]  # one pass in C when every cell has the same shape
        for cell in cells:
            digest.update(f"{cell.dtype}{cell.shape}".encode() + cell.tobytes())
    return digest.hexdigest()


def rows_fingerprint(rows: np.ndarray) -> str:
    """sha256 over row positions; int32 and int64 positions naming the same rows agree."""
    return hashlib.sha256(np.asarray(rows, dtype=np.int64).ravel().tobytes()).hexdigest()


@dataclass
class CachedBlocks:
    """The blocks of one featurizer on one fold, from the cache or just computed."""

    train_block: Any
    other_blocks: list
    seconds: float  # featurize time measured when the entry was computed, so cost columns hold on a hit
    meta: dict = field(default_factory=dict)
    hit: bool = False
    fitted: bytes | None = None  # the pickled fitted featurizer, when it was stored


@dataclass
class CacheStats:
    hits: int = 0
    misses: int = 0  # every lookup that returned None, corrupt entries included
    rebuilt_corrupt: int = 0  # entries discarded because a check failed


class _Corrupt(Exception):
    """An entry failed a check; the message says which."""


class FeatureCache:
    """Feature blocks on disk under ``<root>/features``; ``root=None`` disables the cache."""

    def __init__(self, root: Path | None, *, secret: bytes | None = None):
        """``secret`` signs and verifies entries; default: the user's key file (made on first use)."""
        self.root = None if root is None else Path(root) / "features"
        self.stats = CacheStats()
        self._secret = secret
        self._planted: set[str] = set()  # links already warned about: one line each, not one per lookup

    def _signing_key(self) -> bytes | None:
        """The key, loaded once; if the key file cannot be made, the cache is switched off with a warning."""
        if self._secret is None and self.root is not None:
            try:
                self._secret = load_or_create_key()
            except OSError as exc:
                warnings.warn(f"feature cache disabled: cannot read or create its key file ({exc})",
                              RuntimeWarning, stacklevel=3)
                self.root = None
        return self._secret

    def key(self, *, data: str, featurizer, train_rows: np.ndarray, other_rows: list[np.ndarray]) -> str:
        """The entry's key. ``data`` fingerprints the users table (see :func:`users_fingerprint`)."""
        cls = type(featurizer)
        doc = {"format": FORMAT, "data": data, "featurizer": featurizer.registry_name,
               "class": f"{cls.__module__}.{cls.__qualname__}", "config": featurizer.get_config(),
               "code": code_version(cls), "kind": featurizer.output_kind(),
               "train": rows_fingerprint(train_rows), "others": [rows_fingerprint(r) for r in other_rows]}
        # repr for values JSON lacks: at worst an equal config misses, never a wrong hit.
        return hashlib.sha256(json.dumps(doc, sort_keys=True, default=repr).encode()).hexdigest()

    def _folder(self, key: str) -> Path | None:
        return None if self.root is None else self.root / key[:2] / key

    def _own(self, *parts: str, create: bool) -> Path | None:
        """``features/<parts>`` if every folder on the way is the cache's own; a planted link: warned, None."""
        try:
            return own_folder(self.root.parent, self.root.name, *parts, create=create)
        except PlantedPath as exc:
            if str(exc) not in self._planted:
                self._planted.add(str(exc))
                warnings.warn(f"feature cache: {exc}; entries there are computed and not stored",
                              RuntimeWarning, stacklevel=3)
            return None

    def load(self, key: str) -> CachedBlocks | None:
        """The entry for ``key``, or None; a corrupt entry is warned about, deleted and missed."""
        secret = self._signing_key()
        folder = self._own(key[:2], key, create=False) if self.root is not None else None
        if folder is None:
            self.stats.misses += 1
            return None
        try:
            found = _read_entry(folder, key, secret)
        except (_Corrupt, OSError, ValueError, KeyError, TypeError) as exc:
            why = str(exc) if isinstance(exc, _Corrupt) else f"{type(exc).__name__}: {exc}"
            warnings.warn(f"feature cache entry {key[:12]} is corrupt ({why}); discarding and rebuilding",
                          RuntimeWarning, stacklevel=2)
            _remove(folder)
            self.stats.rebuilt_corrupt += 1
            self.stats.misses += 1
            return None
        self.stats.hits += 1
        return found

    def store(self, key: str, *, train_block, other_blocks: list, seconds: float, meta: dict,
              fitted: bytes | None = None) -> None:
        """Write an entry; a disk error is warned about and the run goes on without the cache.

        Args:
            key: From :meth:`key`.
            train_block, other_blocks: NumPy arrays or SciPy sparse matrices, in the order of the key's rows.
            seconds: What computing them took (fit and all transforms).
            meta: JSON-serializable facts to return with the blocks (flops per user, vocabulary size).
            fitted: the pickled fitted featurizer, when a caller needs it back (a final model to save).
        """
        secret = self._signing_key()
        if self.root is None:
            return
        folder = self._folder(key)
        tmp = folder.with_name(f".{key}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
        try:
            if self._own(key[:2], create=True) is None:
                return
            tmp.mkdir()  # in a folder just checked to be the cache's own; never through a link at its name
            named = [("train", train_block)] + [(f"other-{i}", b) for i, b in enumerate(other_blocks)]
            body = {"format": FORMAT, "key": key, "seconds": float(seconds), "meta": meta,
                    "blocks": [_write_block(tmp, name, block) for name, block in named]}
            if fitted is not None:
                body["fitted"] = {"file": "fitted.pkl", **_write_file(tmp / "fitted.pkl", lambda fh: fh.write(fitted))}
            body = json.loads(json.dumps(body))  # digest what a reader will parse (tuples become lists)
            manifest = {**body, "hmac": sign(secret, _canonical(body))}
            _write_file(tmp / MANIFEST, lambda fh: fh.write(json.dumps(manifest).encode()))
            try:
                # No fsync of the folder: a rename lost to a crash costs a recompute, never a wrong read.
                os.rename(tmp, folder)
            except OSError:
                if not folder.is_dir():
                    raise  # a real failure, not a race lost to another writer of the same blocks
        except OSError as exc:
            warnings.warn(f"could not store feature cache entry {key[:12]} ({exc}); going on without it",
                          RuntimeWarning, stacklevel=2)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def clear(self) -> Removal:
        """Delete every entry this cache wrote, and leftovers of interrupted writes; nothing else.

        Returns what was removed (``removed`` counts entries), left alone and could not be removed.
        """
        if self.root is None:
            return Removal()
        return clear_entries(self.root)


def _canonical(body: dict) -> bytes:
    return json.dumps(body, sort_keys=True).encode()


def _write_file(path: Path, write) -> dict:
    with open_atomic(path, within=path.parent, fsync=True) as fh:
        write(fh)
    with open(path, "rb") as fh:
        return {"bytes": path.stat().st_size, "sha256": hashlib.file_digest(fh, "sha256").hexdigest()}


def _write_block(folder: Path, name: str, block) -> dict:
    if sp.issparse(block):  # save_npz keeps the format (CSR stays CSR) and matrix versus array
        kind, file, write = "sparse", f"{name}.npz", lambda fh: sp.save_npz(fh, block, compressed=False)
    elif isinstance(block, np.ndarray):
        kind, file = ("sequence" if block.ndim == 3 else "dense"), f"{name}.npy"
        write = lambda fh: np.save(fh, block, allow_pickle=False)  # noqa: E731
    else:
        raise TypeError(f"A feature block must be a NumPy array or a SciPy sparse matrix. Got {type(block).__name__}.")
    return {"file": file, "kind": kind, "shape": list(block.shape), "dtype": str(block.dtype),
            **_write_file(folder / file, write)}


def _read_entry(folder: Path, key: str, secret: bytes) -> CachedBlocks:
    """The entry's blocks, after its manifest's HMAC and key, then every payload's size and sha256, check out."""
    data = _read_own(folder / MANIFEST, MAX_MANIFEST_BYTES, "manifest")
    try:
        manifest = json.loads(data)
    except ValueError as exc:
        raise _Corrupt(f"manifest unreadable: {exc}") from None
    if not isinstance(manifest, dict) or not verify(secret, _canonical({k: v for k, v in manifest.items() if k != "hmac"}),
                                                       manifest.get("hmac")):
        raise _Corrupt("manifest signature mismatch: altered, or signed with another cache key")
    if manifest["key"] != key:
        raise _Corrupt(f"entry belongs to key {str(manifest['key'])[:12]}, not this one")
    blocks = [_read_block(folder, entry) for entry in manifest["blocks"]]
    fitted = _read_payload(folder, manifest["fitted"]) if "fitted" in manifest else None
    return CachedBlocks(blocks[0], blocks[1:], manifest["seconds"], manifest["meta"], hit=True, fitted=fitted)


def _read_own(path: Path, limit: int, label: str) -> bytes:
    """A file of the entry (``label`` in messages), at most ``limit`` bytes: a regular file, never a link or FIFO."""
    if not os.path.lexists(path):
        raise _Corrupt(f"{label} missing")
    try:
        return read_regular(path, limit, f"a feature cache {label}", follow_links=False)
    except ToolkitError as exc:
        raise _Corrupt(str(exc)) from None


def _read_payload(folder: Path, entry: dict) -> bytes:
    # read once: checked, then parsed from memory
    payload = _read_own(folder / entry["file"], entry["bytes"], entry["file"])
    if len(payload) != entry["bytes"]:
        raise _Corrupt(f"{entry['file']} has {len(payload)} bytes, expected {entry['bytes']}")
    if hashlib.sha256(payload).hexdigest() != entry["sha256"]:
        raise _Corrupt(f"{entry['file']} checksum mismatch")
    return payload


def _read_block(folder: Path, entry: dict):
    payload = _read_payload(folder, entry)
    block = load_checked(io.BytesIO(payload), len(payload), sparse=entry["kind"] == "sparse")
    if list(block.shape) != entry["shape"]:
        raise _Corrupt(f"{entry['file']} has shape {list(block.shape)}, expected {entry['shape']}")
    return block


def _remove(folder: Path) -> None:
    """Rename out of sight first, so no reader meets a half-deleted entry."""
    trash = folder.with_name(f".{folder.name}.{uuid.uuid4().hex[:8]}.trash")
    try:
        os.rename(folder, trash)
    except OSError:
        return  # already gone: another process discarded it
    shutil.rmtree(trash, ignore_errors=True)

