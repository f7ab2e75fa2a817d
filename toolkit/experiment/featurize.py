"""Feature blocks for one fold: build the spec's featurizers, fit on the training rows, transform the rest.

The feature cache (:mod:`toolkit.features.cache`) sits underneath: a block computed
before for the same users, featurizer, parameters, code and rows is read back with
the seconds it took to compute, so cost columns hold on a hit.
"""

from __future__ import annotations

import pickle
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from toolkit.features.blocks import Block
from toolkit.features.cache import CachedBlocks, FeatureCache, default_cache_root, users_fingerprint
from toolkit.progress import Progress


@dataclass
class FeatureStore:
    """The feature cache of one run (or none) and the fingerprint of its users table."""

    cache: FeatureCache | None
    data_key: str = ""

    @classmethod
    def open(cls, users: pd.DataFrame, cache_dir: str | None, *, enabled: bool = True) -> "FeatureStore":
        if not enabled:
            return cls(None)
        return cls(FeatureCache(default_cache_root(cache_dir)), users_fingerprint(users))


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
