"""Permutation importance of behavior columns and of whole feature blocks, on held-out users.

scikit-learn's :func:`~sklearn.inspection.permutation_importance` permutes one
column of ``X`` at a time. To let it permute a whole block (a sparse TF-IDF
matrix, a daily sequence) as one feature, ``X`` here is a matrix of row indices:
one column per *group*, each column ``0..n-1``. Permuting group ``g``'s column
reorders the rows of what that group stands for (one behavior column, or every
column of one block) and nothing else; the scorer rebuilds the blocks from the
indices and returns the held-out metric (ROC-AUC for yes/no runs, Harrell's C for
time-to-return runs). Permuting a standardized behavior
column equals permuting the raw column, because standardization acts on each
column alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from toolkit.features.blocks import Block


@dataclass(frozen=True)
class Group:
    """What one column of the index matrix stands for."""

    name: str  # "behavior:n_posts" or "block:tfidf"
    block: int  # index of the block it lives in
    column: int | None  # the column inside that block, or None for the whole block


def make_groups(blocks: list[Block], behavior_columns: dict[str, list[str]]) -> list[Group]:
    """One group per block, then one per column of each behavior block (``{block name: its columns}``)."""
    groups = [Group(f"block:{b.name}", i, None) for i, b in enumerate(blocks)]
    for i, b in enumerate(blocks):
        for j, column in enumerate(behavior_columns.get(b.name, [])):
            groups.append(Group(f"behavior:{column}", i, j))
    return groups


def permuted_blocks(blocks: list[Block], groups: list[Group], index: np.ndarray) -> list[Block]:
    """The held-out blocks with each group's rows taken in the order of its index column."""
    identity = np.arange(index.shape[0])
    out = []
    for i, block in enumerate(blocks):
        data = block.data
        whole = [g for g, grp in enumerate(groups) if grp.block == i and grp.column is None]
        if whole and not np.array_equal(index[:, whole[0]], identity):
            data = data[index[:, whole[0]]]
        columns = [(g, grp.column) for g, grp in enumerate(groups) if grp.block == i and grp.column is not None]
        changed = [(g, j) for g, j in columns if not np.array_equal(index[:, g], identity)]
        if changed:
            data = np.array(data, copy=True)
            for g, j in changed:
                data[:, j] = block.data[index[:, g], j]
        out.append(Block(block.name, block.kind, data))
    return out


def block_permutation_importance(head, blocks: list[Block], y: np.ndarray, groups: list[Group], *,
                                 n_repeats: int, seed: int) -> list[dict]:
    """Drop in held-out ROC-AUC when each group is permuted (see :func:`permutation_drops`)."""
    from sklearn.metrics import roc_auc_score

    return permutation_drops(lambda permuted: roc_auc_score(y, head.predict(permuted)), blocks, groups,
                             n_repeats=n_repeats, seed=seed)


def permutation_drops(score: Callable[[list[Block]], float], blocks: list[Block], groups: list[Group], *,
                      n_repeats: int, seed: int) -> list[dict]:
    """Drop in ``score(blocks)`` (held-out, higher is better) when each group is permuted, over ``n_repeats``.

    ``score`` closes over the held-out users' truth and the fitted model, so one machinery serves
    every metric (ROC-AUC for yes/no labels, the C-index for time to return). Returns one dict per
    group: ``name, mean, ci_low, ci_high, repeats``, where the interval is the 2.5th-97.5th
    percentile of the drop over the repeats (how much the drop depends on the permutation drawn),
    sorted by mean drop.
    """
    from sklearn.inspection import permutation_importance

    def scorer(_estimator, index, _y):
        return score(permuted_blocks(blocks, groups, np.asarray(index)))

    n = blocks[0].data.shape[0]
    index = np.tile(np.arange(n)[:, None], (1, len(groups)))
    # the truth lives in ``score``; scikit-learn only needs a y of the right length to pass along
    result = permutation_importance(_Identity(), index, np.zeros(n), scoring=scorer, n_repeats=n_repeats,
                                    random_state=seed)
    rows = []
    for g, drops in zip(groups, result.importances):
        low, high = np.percentile(drops, [2.5, 97.5])
        rows.append({"name": g.name, "mean": float(drops.mean()), "ci_low": float(low), "ci_high": float(high),
                     "repeats": int(len(drops))})
    return sorted(rows, key=lambda r: -r["mean"])


class _Identity:
    """permutation_importance needs an estimator object; the scorer above does the scoring."""

    def fit(self, X, y):  # pragma: no cover - never called
        return self
