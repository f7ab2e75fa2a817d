"""Rows of a comparison aggregated over the ``seed`` axis.

A sweep's seed axis changes only the training seed (the folds stay fixed), so
one configuration at three seeds is three draws of the same model, not three
models. The default table shows one row per configuration:

* each metric's mean over the seeds, the mean of the per-seed intervals (which
  resample users only), and the across-seed standard deviation (``*_seed_sd``);
* a paired Δ against the baseline from the per-fold Δs averaged over the seeds
  (:mod:`toolkit.bench.table`); :func:`mix_seeds` mixes per-seed bootstrap draws
  made on the same user draws (``imbalance`` uses it).

Stars are set by :func:`toolkit.bench.table.holm_stars`.
"""

from __future__ import annotations

import json
import math
import re

import numpy as np

from toolkit.evaluation.metrics import bootstrap_p_value
_SEED_IN_LABEL = re.compile(r"\s*\|\s*seed \d+")


def group_key(result) -> str | None:
    """Configurations that differ only in ``seed`` share a key; None when there is no seed axis."""
    if "seed" not in result.axes:
        return None
    return json.dumps({k: v for k, v in result.axes.items() if k != "seed"}, sort_keys=True, default=str)


def mix_seeds(draws: list[np.ndarray], seed: int) -> np.ndarray:
    """Draws over users x seeds from per-seed draws ``(n_boot, ...)`` made with the same user draws.

    Each combined draw keeps its user resample and averages the seeds picked (with replacement) for it.
    """
    stacked = np.stack(draws)  # (seeds, n_boot, ...): the same user draws in every row
    n_seeds, n_boot = stacked.shape[:2]
    picks = np.random.default_rng(seed + 1).integers(0, n_seeds, size=(n_boot, n_seeds))
    return stacked[picks, np.arange(n_boot)[:, None]].mean(axis=1)


def fill_delta(row: dict, metric: str, point: float, draws: np.ndarray, confidence: float) -> None:
    """The Δ columns and the raw p-value of one row from its bootstrap draws."""
    tail = (1.0 - confidence) / 2.0
    low, high = (np.quantile(draws, [tail, 1 - tail]) if not np.isnan(draws).any() else (math.nan, math.nan))
    row.update({f"delta_{metric}": point, f"delta_{metric}_ci_low": float(low),
                f"delta_{metric}_ci_high": float(high), f"delta_{metric}_p": bootstrap_p_value(draws)})


def _mean(values) -> float | None:
    values = [v for v in values if isinstance(v, (int, float)) and v is not None]
    return float(np.mean(values)) if values else None


def aggregate_row(members: list[dict], keys_to_average: tuple[str, ...]) -> dict:
    """One row for the seeds of a configuration: means of the numbers, the seeds' spread of each metric."""
    row = dict(members[0])
    row["label"] = _SEED_IN_LABEL.sub("", row["label"]) + f" | {len(members)} seeds"
    row["seeds"] = len(members)  # config_id stays the first seed's, so plots can find its run
    for key in keys_to_average:
        row[key] = _mean([m.get(key) for m in members])
    for metric in ("roc_auc", "pr_auc", "recall", "precision", "c_index", "uno_c", "ibs"):
        values = [m[metric] for m in members if m.get(metric) is not None]
        row[f"{metric}_seed_sd"] = float(np.std(values, ddof=1)) if len(values) > 1 else None
    row["cache"] = None
    return row
