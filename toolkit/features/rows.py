"""Each text embedded once: the rows of a stateless featurizer, cached by content.

A frozen encoder's row for a user depends only on that user's text, the
weights and the featurizer's parameters, never on which users it was "fitted"
on. So a run computes every user's row once (every fold slices the result),
and the rows are kept under a key of the text's sha256 within a folder named
by the model's identity (:meth:`Featurizer.row_identity`, the featurizer's
name and its code version). A second experiment with another label, cohort,
head or seed embeds nothing it has embedded before; a changed text embeds
only that text.

Layout: ``<root>/rows/<identity>/identity.json`` (what the identity hashes, for
people) and shards ``<uuid>.npz`` (:mod:`toolkit.features.cache.shards`), each
holding ``digests`` (uint8, n x 32: the texts' sha256), ``rows`` (float32, n x
dim), ``seconds`` and ``hmac``. A shard is written to a temporary file and
renamed, so readers see whole shards only, and concurrent writers never share
a file name.

Trust: the same rule as the feature cache's. Every shard carries an
HMAC-SHA256 under the user's cache key (:mod:`toolkit.signing`) over the
identity folder's name, the shape and the exact bytes of its digests, rows and
seconds; a shard that is unsigned, signed with another key, altered, or copied
from another identity's folder is never used. Nor is one that is not a regular
file (a FIFO cannot hang the reader, a link is not followed) or whose array
headers declare more than the file holds (a decompression bomb is refused
before anything is allocated). Such shards are deleted (this is the toolkit's
own cache) and their rows recomputed, with one warning per read naming how
many and why. The folders ``rows`` and ``rows/<identity>`` must be folders the
cache made: a link there is neither read nor written through (a warning, and
the rows are computed without the cache; :mod:`toolkit.features.cache.folders`).
NumPy's npz holds plain arrays and is read with ``allow_pickle=False``, so a
cache file cannot run code.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
import uuid
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from toolkit.cleanup import Removal, remove_dir_if_empty, remove_file, remove_matching_files
from toolkit.features.cache import code_version
from toolkit.features.cache.folders import PlantedPath, own_folder
from toolkit.features.cache.key import load_or_create_key
from toolkit.features.cache.shards import BadShard, UnsignedShard, read_shard, rows_per_shard, write_shard
from toolkit.errors import ToolkitError
from toolkit.features.cache.key import sign_parts, verify_parts
from toolkit.safe_io import atomic_write, read_regular

# part of every identity: bump it when the layout changes, and old shards are never read
# (2: shards are signed; the unsigned shards of format 1 are left for `cache clear`)
FORMAT = 2
#: beside the shards: what the featurizer's fit set (``Featurizer.fitted_facts``), signed like a shard,
#: so that a run whose rows are all cached does not load the model to learn its width and size
FACTS = "facts.json"
MAX_FACTS_BYTES = 64 * 1024


@dataclass(frozen=True)
class RowStats:
    """What one :func:`embed_rows` call did."""

    # users whose row was not in the cache and was computed now
    computed: int
    # users whose row was read back from the cache
    from_cache: int
    # distinct texts run through the featurizer (users sharing a text share one computation)
    texts_embedded: int
    # seconds spent in the featurizer's transform now; reading and writing the cache not included
    seconds: float
    # what computing every row took: ``seconds`` plus, for rows read back, the seconds recorded when
    # they were computed (so cost columns hold on a cache hit, as for feature blocks)
    compute_seconds: float = 0.0
    # distinct texts among the users (what ``compute_seconds`` embedded)
    distinct_texts: int = 0

    @property
    def seconds_per_text(self) -> float:
        """What embedding one text takes: the serving cost of a frozen encoder, with no text embedded again."""
        return self.compute_seconds / self.distinct_texts if self.distinct_texts else 0.0

    def to_dict(self) -> dict:
        return {"computed": self.computed, "from_cache": self.from_cache, "texts_embedded": self.texts_embedded,
                "seconds": self.seconds, "compute_seconds": self.compute_seconds,
                "distinct_texts": self.distinct_texts}


def embed_rows(featurizer, users: pd.DataFrame, cache_root: str | Path | None = None,
               ) -> tuple[np.ndarray, RowStats]:
    """Every user's row of a stateless featurizer, each distinct text computed at most once.

    Args:
        featurizer: A featurizer with ``stateless = True``; it is fitted on ``users``
            here, which for a stateless featurizer only loads it.
        users: The users table; rows come back in its order.
        cache_root: The cache folder (rows go under ``<cache_root>/rows``), or None
            to compute without caching. Featurizers without :meth:`row_texts`
            (rows that depend on more than the text) are never cached.

    Returns:
        ``(rows, stats)``: a float32 array ``(len(users), dim)`` and :class:`RowStats`.
    """
    if not getattr(featurizer, "stateless", False):
        raise TypeError(f"embed_rows needs a stateless featurizer; {type(featurizer).__name__} learns from its "
                        "training users, so its rows depend on the fold.")
    texts = featurizer.row_texts(users)  # the texts alone: no model is needed to read them
    if texts is None:
        featurizer.fit(users)  # stateless: this only loads the model (once per process) and learns nothing
        start = time.perf_counter()
        rows = np.asarray(featurizer.transform(users), dtype=np.float32)
        seconds = time.perf_counter() - start
        return rows, RowStats(len(users), 0, len(users), seconds, seconds, len(users))
    digests = [hashlib.sha256(t.encode("utf-8")).digest() for t in texts]
    store = RowStore(Path(cache_root), featurizer) if cache_root is not None else None
    known, known_seconds = store.read() if store is not None else ({}, {})
    missing = list(dict.fromkeys(d for d in digests if d not in known))  # distinct, in first-seen order
    fitted = bool(missing) or not featurizer.restore_fitted(store.read_facts() if store is not None else None)
    if fitted:
        featurizer.fit(users)  # loads the model: only when a row must be computed, or its facts were not kept
    start = time.perf_counter()
    computed = _compute(featurizer, users, digests, missing)
    seconds = time.perf_counter() - start
    if store is not None and computed:
        store.write(computed, seconds / len(computed))
    if store is not None and fitted:
        store.write_facts(featurizer.fitted_facts())  # after the transform, which counts the tokens
    vectors = {**known, **computed}
    rows = np.stack([vectors[d] for d in digests]) if digests else _empty(featurizer)
    n_computed = sum(1 for d in digests if d in computed)
    distinct = dict.fromkeys(digests)
    earlier = sum(known_seconds.get(d, 0.0) for d in distinct if d not in computed)
    return rows.astype(np.float32, copy=False), RowStats(n_computed, len(digests) - n_computed, len(missing), seconds,
                                                         seconds + earlier, len(distinct))


def _compute(featurizer, users: pd.DataFrame, digests: list[bytes], missing: list[bytes]) -> dict[bytes, np.ndarray]:
    """Transform one user per missing text; ``{digest: row}``."""
    if not missing:
        return {}
    first = {}
    for i, d in enumerate(digests):
        first.setdefault(d, i)
    block = np.asarray(featurizer.transform(users.iloc[[first[d] for d in missing]]), dtype=np.float32)
    if block.ndim != 2 or block.shape[0] != len(missing):
        raise TypeError(f"embed_rows needs a dense 2-D block with one row per user; "
                        f"{type(featurizer).__name__} returned shape {block.shape}.")
    return dict(zip(missing, block))


def _empty(featurizer) -> np.ndarray:
    return np.zeros((0, int(getattr(featurizer, "dim_", 0))), dtype=np.float32)


def _identity(featurizer) -> dict:
    cls = type(featurizer)
    return {"format": FORMAT, "featurizer": getattr(cls, "registry_name", "") or cls.__qualname__,
            "code": code_version(cls), "row": featurizer.row_identity()}


class RowStore:
    """The shards of one featurizer identity under ``<root>/rows/``."""

    def __init__(self, root: Path, featurizer, *, secret: bytes | None = None):
        """``secret`` signs and verifies shards; default: the user's cache key file (made on first use)."""
        self.identity = _identity(featurizer)
        key = hashlib.sha256(json.dumps(self.identity, sort_keys=True, default=str).encode()).hexdigest()
        self.root = Path(root)
        self.name = key[:32]
        self.folder = self.root / "rows" / self.name
        self._secret = secret
        self._off = False  # set, with one warning, once the cache cannot be used: a later call stays silent

    def read(self) -> tuple[dict[bytes, np.ndarray], dict[bytes, float]]:
        """Every cached ``{text digest: row}`` of this identity and the seconds each took; bad shards deleted."""
        known: dict[bytes, np.ndarray] = {}
        seconds: dict[bytes, float] = {}
        key = self._key()
        folder = self._own_folder(create=False) if key is not None else None
        if folder is None:
            return known, seconds
        discarded = []
        for shard in _shards(folder):
            try:
                digests, rows, per_row = read_shard(shard, self.name, key)
            except BadShard as exc:
                if os.path.lexists(shard):  # else removed meanwhile by `cache clear`
                    discarded.append((shard.name, exc))
                    remove_file(shard, Removal())  # unlink: a link goes, never what it points to
                continue
            keys = [bytes(d) for d in digests]
            known.update(zip(keys, rows))
            seconds.update(zip(keys, per_row.tolist()))
        if discarded:
            warnings.warn(_discarded(folder, discarded), stacklevel=3)
        return known, seconds

    def write(self, computed: dict[bytes, np.ndarray], seconds_per_row: float = 0.0) -> None:
        """Add signed shards; a disk error is warned about and the run goes on without storing."""
        key = self._key()
        try:
            folder = self._own_folder(create=True) if key is not None else None
            if folder is None:
                return
            _write_once(folder / "identity.json", json.dumps(self.identity, indent=2, default=str).encode(),
                        self.root)
            digests = np.frombuffer(b"".join(computed), dtype=np.uint8).reshape(len(computed), 32)
            rows = np.stack(list(computed.values())).astype(np.float32)
            step = rows_per_shard(rows.shape[1])
            for i in range(0, len(rows), step):
                write_shard(folder / f"{uuid.uuid4().hex}.npz", self.name, digests[i:i + step], rows[i:i + step],
                            np.full(len(rows[i:i + step]), seconds_per_row), key, within=self.root)
        except OSError as exc:
            warnings.warn(f"could not store rows in {self.folder} ({exc}); going on without caching them",
                          stacklevel=3)

    def read_facts(self) -> dict | None:
        """What the featurizer's ``fit`` set when its rows were computed (sizes, counts), if signed by this key."""
        key = self._key()
        folder = self._own_folder(create=False) if key is not None else None
        if folder is None or not (folder / FACTS).is_file() or (folder / FACTS).is_symlink():
            return None
        try:
            stored = json.loads(read_regular(folder / FACTS, MAX_FACTS_BYTES, "a row cache's facts",
                                             follow_links=False))
            facts, mac = stored["facts"], stored["hmac"]
        except (ToolkitError, OSError, ValueError, KeyError, TypeError):
            return None  # unreadable: the model is loaded and the facts written again
        if not isinstance(facts, dict) or not verify_parts(key, [self._facts_payload(facts)], mac):
            return None
        return facts

    def write_facts(self, facts: dict) -> None:
        """Keep ``facts`` (JSON numbers) beside the shards, signed like them; a disk error only warns."""
        key = self._key()
        if not facts or key is None:
            return
        try:
            folder = self._own_folder(create=True)
            if folder is None or os.path.islink(folder / FACTS):
                return
            mac = sign_parts(key, [self._facts_payload(facts)])
            atomic_write(folder / FACTS, json.dumps({"facts": facts, "hmac": mac}, sort_keys=True), within=self.root)
        except (OSError, TypeError, ValueError) as exc:
            warnings.warn(f"could not store {FACTS} in {self.folder} ({exc}); going on without it", stacklevel=3)

    def _facts_payload(self, facts: dict) -> bytes:
        return (self.name + "\0" + json.dumps(facts, sort_keys=True)).encode()

    def _key(self) -> bytes | None:
        """The signing key, loaded once; if the key file cannot be made, the row cache is off (one warning)."""
        if self._secret is None and not self._off:
            try:
                self._secret = load_or_create_key()
            except OSError as exc:
                self._turn_off(f"row cache disabled: cannot read or create its key file ({exc})")
        return None if self._off else self._secret

    def _own_folder(self, *, create: bool) -> Path | None:
        try:
            return own_folder(self.root, "rows", self.name, create=create)
        except PlantedPath as exc:
            self._turn_off(f"row cache not used: {exc}; rows are computed and not stored")
            return None

    def _turn_off(self, message: str) -> None:
        if not self._off:
            warnings.warn(message, stacklevel=4)
        self._off = True


def _shards(folder: Path) -> list[Path]:
    """The files named as the cache names its shards (others are not read, and `cache clear` reports them)."""
    try:
        return sorted(p for p in folder.iterdir() if _SHARD.fullmatch(p.name))
    except OSError as exc:
        warnings.warn(f"row cache {folder} cannot be listed ({exc}); computing rows without it", stacklevel=4)
        return []


def _discarded(folder: Path, discarded: list[tuple[str, BadShard]]) -> str:
    """One line for every shard a read threw away."""
    unsigned = sum(isinstance(exc, UnsignedShard) for _, exc in discarded)
    first = "; ".join(f"{name}: {exc}" for name, exc in discarded[:3]) + (" ..." if len(discarded) > 3 else "")
    return (f"row cache {folder}: discarded {len(discarded)} shard(s) ({unsigned} not signed with your cache key, "
            f"{len(discarded) - unsigned} unreadable) and recomputing their rows: {first}")


def _write_once(path: Path, content: bytes, root: Path) -> None:
    if os.path.lexists(path):  # a link planted there is neither followed nor replaced
        return
    atomic_write(path, content, within=root)


_ROW_FOLDER = re.compile(r"[0-9a-f]{32}")
_SHARD = re.compile(r"[0-9a-f]{32}\.npz")
# the last two: what an interrupted atomic write leaves (older versions' temporary names, then today's)
_ROW_FILE = re.compile(r"[0-9a-f]{32}\.npz|identity\.json|facts\.json|\.[0-9a-f]{32}\.tmp"
                       r"|\.([0-9a-f]{32}\.npz|identity\.json|facts\.json)\.[0-9a-f]{12}\.tmp")


def clear_rows(root: str | Path) -> Removal:
    """Delete the row cache's own files under ``<root>/rows`` (by their exact names); report the rest.

    A link where the cache keeps a folder (``rows`` itself, ``rows/<identity>``) or a shard is
    removed as a link; what it points to is never entered.
    """
    folder = Path(root) / "rows"
    removal = Removal()
    if os.path.islink(folder):
        remove_file(folder, Removal())
        return removal
    if not folder.is_dir():
        return removal
    for entry in sorted(os.scandir(folder), key=lambda e: e.name):
        if not _ROW_FOLDER.fullmatch(entry.name):
            removal.kept.append(entry.path)
        elif entry.is_symlink():
            remove_file(Path(entry.path), Removal())
        elif entry.is_dir(follow_symlinks=False):
            removal.merge(remove_matching_files(Path(entry.path), _ROW_FILE))
            remove_dir_if_empty(Path(entry.path))
        else:
            removal.kept.append(entry.path)
    remove_dir_if_empty(folder)
    return removal
