"""Rows of a comparison aggregated over the ``seed`` axis, and Holm-corrected stars.

A sweep's seed axis changes only the training seed (the folds stay fixed), so
one configuration at three seeds is three draws of the same model, not three
models. The default table shows one row per configuration:

* each metric's mean over the seeds, the mean of the per-seed intervals (which
  resample users only), and the across-seed standard deviation (``*_seed_sd``);
* a paired Δ against the baseline bootstrapped over users *and* seeds: every
  draw resamples the users (the same draws for every seed) and, independently,
  the seeds, and averages the per-seed differences of the drawn seeds.

Stars: one p-value per row and Δ column (the share of bootstrap draws on the
other side of 0, two-sided), Holm-corrected over the rows shown in the table; a
row is starred when its adjusted p-value is below ``1 - confidence``.
"""

from __future__ import annotations

import json
import math
import re

import numpy as np

from toolkit.evaluation.metrics import bootstrap_p_value, holm, paired_delta_draws
from toolkit.evaluation.survival_compare import paired_c_index_draws

DELTA_METRICS = ("roc_auc", "pr_auc", "c_index")  # c_index: time-to-return rows
_SEED_IN_LABEL = re.compile(r"\s*\|\s*seed \d+")


def group_key(result) -> str | None:
    """Configurations that differ only in ``seed`` share a key; None when there is no seed axis."""
    if "seed" not in result.axes:
        return None
    return json.dumps({k: v for k, v in result.axes.items() if k != "seed"}, sort_keys=True, default=str)


def seed_draws(members: list[tuple[str, str]], scores: dict, *, metric: str, n_boot: int, seed: int
               ) -> tuple[float, np.ndarray] | None:
    """Point Δ and draws over users x seeds for ``[(config_id, baseline_id), ...]`` (one pair per seed)."""
    points, draws = [], []
    for config_id, base_id in members:
        (ids, y, s), (base_ids, base_y, base_s) = scores[config_id], scores[base_id]
        if not (np.array_equal(ids, base_ids) and np.array_equal(y, base_y)) or s.shape != base_s.shape:
            return None
        if metric == "c_index":  # time to return: y holds each user's time bin and seen return
            point, d = paired_c_index_draws(y[:, 0], y[:, 1] > 0, s, base_s, n_boot=n_boot, seed=seed)
        else:
            point, d = paired_delta_draws(y, s, base_s, metric=metric, n_boot=n_boot, seed=seed)
        points.append(point)
        draws.append(d)
    return float(np.mean(points)), mix_seeds(draws, seed)


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


def holm_stars(rows: list[dict], confidence: float) -> None:
    """Set ``delta_*_significant`` from Holm-adjusted p-values over the rows given."""
    for metric in DELTA_METRICS:
        key = f"delta_{metric}"
        adjusted = holm([r.get(f"{key}_p") if r.get(f"{key}_p") is not None else math.nan for r in rows])
        for r, p in zip(rows, adjusted):
            r[f"{key}_p_holm"] = None if math.isnan(p) else float(p)
            if r.get(key) is not None:
                r[f"{key}_significant"] = bool(not math.isnan(p) and p < 1.0 - confidence)
