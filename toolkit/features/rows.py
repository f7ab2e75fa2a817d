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
people) and shards ``<uuid>.npz``, each holding ``digests`` (uint8, n x 32: the
texts' sha256) and ``rows`` (float32, n x dim). NumPy's npz holds plain arrays
and is read with ``allow_pickle=False``, so a cache file cannot run code. A
shard is written to a temporary file and renamed, so readers see whole shards
only, and concurrent writers never share a file name. A shard that cannot be
read is warned about, deleted and its rows recomputed.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
import uuid
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from toolkit.cleanup import Removal, remove_dir_if_empty, remove_matching_files
from toolkit.features.cache import code_version
from toolkit.safe_io import atomic_write, open_atomic

FORMAT = 1  # part of every identity: bump it when the layout changes, and old shards are never read


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
    featurizer.fit(users)  # stateless: this only loads the model (once per process) and learns nothing
    texts = featurizer.row_texts(users)
    if texts is None:
        start = time.perf_counter()
        rows = np.asarray(featurizer.transform(users), dtype=np.float32)
        seconds = time.perf_counter() - start
        return rows, RowStats(len(users), 0, len(users), seconds, seconds, len(users))
    digests = [hashlib.sha256(t.encode("utf-8")).digest() for t in texts]
    store = RowStore(Path(cache_root), featurizer) if cache_root is not None else None
    known, known_seconds = store.read() if store is not None else ({}, {})
    missing = list(dict.fromkeys(d for d in digests if d not in known))  # distinct, in first-seen order
    start = time.perf_counter()
    computed = _compute(featurizer, users, digests, missing)
    seconds = time.perf_counter() - start
    if store is not None and computed:
        store.write(computed, seconds / len(computed))
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

    def __init__(self, root: Path, featurizer):
        self.identity = _identity(featurizer)
        key = hashlib.sha256(json.dumps(self.identity, sort_keys=True, default=str).encode()).hexdigest()
        self.folder = Path(root) / "rows" / key[:32]

    def read(self) -> tuple[dict[bytes, np.ndarray], dict[bytes, float]]:
        """Every cached ``{text digest: row}`` of this identity and the seconds each took; unreadable shards dropped."""
        known: dict[bytes, np.ndarray] = {}
        seconds: dict[bytes, float] = {}
        if not self.folder.is_dir():
            return known, seconds
        for shard in sorted(self.folder.glob("*.npz")):
            try:
                digests, rows, per_row = _read_shard(shard)
            except FileNotFoundError:  # removed meanwhile by `cache clear`
                continue
            except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
                warnings.warn(f"row cache shard {shard.name} is unreadable ({exc}); discarding it", stacklevel=3)
                shard.unlink(missing_ok=True)
                continue
            keys = [bytes(d) for d in digests]
            known.update(zip(keys, rows))
            seconds.update(zip(keys, per_row.tolist()))
        return known, seconds

    def write(self, computed: dict[bytes, np.ndarray], seconds_per_row: float = 0.0) -> None:
        """Add one shard; a disk error is warned about and the run goes on without storing."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            _write_once(self.folder / "identity.json", json.dumps(self.identity, indent=2, default=str).encode())
            digests = np.frombuffer(b"".join(computed), dtype=np.uint8).reshape(len(computed), 32)
            rows = np.stack(list(computed.values())).astype(np.float32)
            with open_atomic(self.folder / f"{uuid.uuid4().hex}.npz", within=self.folder) as fh:
                np.savez(fh, digests=digests, rows=rows, seconds=np.full(len(rows), seconds_per_row))
        except OSError as exc:
            warnings.warn(f"could not store rows in {self.folder} ({exc}); going on without caching them",
                          stacklevel=3)


def _read_shard(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    with np.load(path, allow_pickle=False) as data:
        digests, rows = data["digests"], data["rows"]
        seconds = data["seconds"] if "seconds" in data.files else np.zeros(len(rows))
    if digests.ndim != 2 or digests.shape[1] != 32 or rows.ndim != 2 or rows.shape[0] != digests.shape[0] \
            or seconds.shape != (rows.shape[0],):
        raise ValueError(f"shapes {digests.shape}, {rows.shape} and {seconds.shape} do not match")
    return digests, rows, seconds


def _write_once(path: Path, content: bytes) -> None:
    if path.exists():
        return
    atomic_write(path, content, within=path.parent)


_ROW_FOLDER = re.compile(r"[0-9a-f]{32}")
# the last two: what an interrupted atomic write leaves (older versions' temporary names, then today's)
_ROW_FILE = re.compile(r"[0-9a-f]{32}\.npz|identity\.json|\.[0-9a-f]{32}\.tmp"
                       r"|\.([0-9a-f]{32}\.npz|identity\.json)\.[0-9a-f]{12}\.tmp")


def clear_rows(root: str | Path) -> Removal:
    """Delete the row cache's own files under ``<root>/rows`` (by their exact names); report the rest."""
    folder = Path(root) / "rows"
    removal = Removal()
    if not folder.is_dir():
        return removal
    for entry in sorted(folder.iterdir()):
        if entry.is_dir() and not entry.is_symlink() and _ROW_FOLDER.fullmatch(entry.name):
            removal.merge(remove_matching_files(entry, _ROW_FILE))
            remove_dir_if_empty(entry)
        else:
            removal.kept.append(str(entry))
    remove_dir_if_empty(folder)
    return removal
