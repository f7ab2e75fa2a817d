"""Feature blocks for one fold: build the spec's featurizers, fit on the training rows, transform the rest.

The feature cache (:mod:`toolkit.features.cache`) sits underneath: a block computed
before for the same users, featurizer, parameters, code and rows is read back with
the seconds it took to compute, so cost columns hold on a hit.

A stateless featurizer (a frozen encoder: ``fit`` learns nothing) is different: its
rows are computed once per run for every user (:func:`toolkit.features.rows.embed_rows`,
which also keeps them by content across runs) and each fold slices them. Its
featurize seconds are what embedding every user once took (measured now, or recorded
when cached rows were computed), spread over the folds; ``metrics.json`` says how
many rows were computed and how many came from the cache.
"""

from __future__ import annotations

import pickle
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from toolkit.features.blocks import Block
from toolkit.features.cache import CachedBlocks, FeatureCache, default_cache_root, users_fingerprint
from toolkit.features.rows import RowStats, embed_rows
from toolkit.progress import Progress


@dataclass
class FeatureStore:
    """The feature caches of one run (or none), and the rows its stateless featurizers embedded."""

    cache: FeatureCache | None
    data_key: str = ""
    root: Path | None = None  # the cache folder; the row cache lives in <root>/rows
    rows: dict[str, np.ndarray] = field(default_factory=dict)  # repr(featurizer) -> every user's rows
    row_stats: dict[str, RowStats] = field(default_factory=dict)  # block name -> what embedding them did
    folds: int = 1  # the embeddings' seconds are spread over this many folds
    facts: dict[str, dict] = field(default_factory=dict)  # repr(featurizer) -> what its fit set

    @classmethod
    def open(cls, users: pd.DataFrame, cache_dir: str | None, *, enabled: bool = True) -> "FeatureStore":
        if not enabled:
            return cls(None)
        root = default_cache_root(cache_dir)
        return cls(FeatureCache(root), users_fingerprint(users), root)

    def all_rows(self, name: str, feat, users: pd.DataFrame) -> np.ndarray:
        """Every user's rows of a stateless featurizer, embedded once per run."""
        key = repr(feat)
        if key not in self.rows:
            self.rows[key], self.row_stats[name] = embed_rows(feat, users, self.root)
            self.facts[key] = feat.fitted_facts()  # later folds' featurizers take these instead of loading
        return self.rows[key]


@dataclass
class Featurized:
    """The blocks of one fold: training rows, then each other row set, in featurizer order."""

    train: list[Block]
    others: list[list[Block]]
    featurizers: list  # fitted (read back from the cache when ``need_fitted`` and it held them)
    seconds: dict[str, float] = field(default_factory=dict)  # fit + transform time per block name
    cache_hits: int = 0


def featurize(spec, users: pd.DataFrame, train: np.ndarray, others: list[np.ndarray], store: FeatureStore,
              *, need_fitted: bool = False, progress: Progress | None = None) -> Featurized:
    """Build the spec's featurizers, fit each on ``users.iloc[train]`` and transform every row set.

    With ``need_fitted`` (the final model, which is saved) the fitted featurizers
    are cached too and a hit returns them.
    """
    featurizers = spec.build_featurizers()
    out = Featurized([], [[] for _ in others], featurizers)
    for i, (name, feat) in enumerate(zip(spec.block_names(), featurizers)):
        if getattr(feat, "stateless", False):
            entry, fitted = _sliced(name, feat, users, train, others, store), None
        else:
            entry, fitted = _blocks(feat, users, train, others, store, need_fitted)
        if fitted is not None:
            featurizers[i] = feat = fitted
        out.cache_hits += entry.hit
        kind = feat.output_kind()
        out.train.append(Block(name, kind, entry.train_block))
        for blocks, block in zip(out.others, entry.other_blocks):
            blocks.append(Block(name, kind, block))
        out.seconds[name] = entry.seconds
        if progress is not None:
            progress.advance("featurize")
    return out


def _sliced(name: str, feat, users: pd.DataFrame, train: np.ndarray, others: list[np.ndarray],
            store: FeatureStore) -> CachedBlocks:
    """A stateless featurizer's blocks: slices of its rows for every user, embedded once per run."""
    rows = store.all_rows(name, feat, users)
    if not feat.restore_fitted(store.facts.get(repr(feat))):
        feat.fit(users.iloc[train])  # learns nothing; a final model saves it fitted
    return CachedBlocks(rows[train], [rows[r] for r in others], store.row_stats[name].compute_seconds / store.folds)


def _blocks(feat, users: pd.DataFrame, train: np.ndarray, others: list[np.ndarray], store: FeatureStore,
            need_fitted: bool) -> tuple[CachedBlocks, object | None]:
    """One featurizer's blocks from the cache, or computed (and stored); plus the cached fitted featurizer."""
    cache = store.cache
    key = cache.key(data=store.data_key, featurizer=feat, train_rows=train, other_rows=others) if cache else None
    entry = cache.load(key) if key else None
    if entry is not None and (entry.fitted is not None or not need_fitted):
        return entry, (pickle.loads(entry.fitted) if need_fitted else None)
    feat.warm_up()  # model loading is not featurizing
    start = time.perf_counter()
    train_block = feat.fit_transform(users.iloc[train])
    rest = [feat.transform(users.iloc[rows]) for rows in others]
    entry = CachedBlocks(train_block, rest, time.perf_counter() - start)
    if key:
        cache.store(key, train_block=train_block, other_blocks=rest, seconds=entry.seconds,
                    meta={"flops_per_user": feat.flops_per_user()},
                    fitted=pickle.dumps(feat) if need_fitted else None)
    return entry, None
