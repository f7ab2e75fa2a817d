"""The comparison table of a sweep: one row per configuration, deltas against the baseline, cost, Pareto front.

Rows are flat dicts with the keys of :data:`ROW_KEYS` (``None`` where a value
does not apply), so the CSV, JSON, markdown and terminal views all read the same
thing. Deltas are ``configuration - baseline`` on the same users and folds; their
intervals and p-values are the corrected resampled t over the per-fold Δs
(:func:`toolkit.evaluation.metrics.corrected_t`, Nadeau-Bengio), which keeps the fitting's
noise that a bootstrap of fixed scores leaves out (that one starred null configurations
about four times too often at small n). Over a configuration's seeds the per-fold Δs are
averaged (the folds are the same). Stars: Holm over every row and Δ column of the table
together (ROC-AUC and PR-AUC, or C-index).
"""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

import numpy as np
from rich.text import Text

from toolkit.bench.records import ConfigResult
from toolkit.errors import ToolkitError
from toolkit.safe_io import atomic_write
from toolkit.sanitize import for_csv, for_markdown_cell, strip_controls
from toolkit.terminal import Table  # cells fold, never end in an ellipsis: names and intervals are pasted
from toolkit.experiment.record import RunRecord
from toolkit.bench.seeds import aggregate_row, fill_delta, group_key
from toolkit.evaluation.metrics import corrected_t, holm_over, fold_test_share
from toolkit.evaluation.baselines import baseline_entry

SHOWN_METRICS = ("roc_auc", "pr_auc", "recall", "precision")
#: a time-to-return run's metrics (its task's, :mod:`toolkit.tasks.time_to_return`), shown instead
SURVIVAL_METRICS = ("c_index", "uno_c", "ibs")
DELTA_METRICS = ("roc_auc", "pr_auc")
COST_KEYS = ("featurize_s", "train_s", "infer_ms_per_1k", "total_cost_s", "params", "frozen_params", "model_mb",
             "weights_mb", "peak_mb", "flops_per_user")
ROW_KEYS = (
    "config_id", "label", "kind", "status", "reason", "is_baseline",
    *(f"{m}{s}" for m in SHOWN_METRICS for s in ("", "_ci_low", "_ci_high")),
    *(f"delta_{m}{s}" for m in DELTA_METRICS for s in ("", "_ci_low", "_ci_high", "_significant", "_p", "_p_holm")),
    "delta_note", *COST_KEYS, "pareto", "cache",
    "seeds", *(f"{m}_seed_sd" for m in SHOWN_METRICS), "timing_roc_auc", "exposure_roc_auc",
    *(f"{m}{s}" for m in SURVIVAL_METRICS for s in ("", "_ci_low", "_ci_high")),
    *(f"delta_c_index{s}" for s in ("", "_ci_low", "_ci_high", "_significant", "_p", "_p_holm")),
    "timing_c_index", "exposure_c_index", *(f"{m}_seed_sd" for m in SURVIVAL_METRICS),
    "oracle_gap_roc_auc",
)
#: numbers averaged over the seeds of a configuration in the seed-aggregated rows
_AVERAGED = (*(f"{m}{s}" for m in SHOWN_METRICS for s in ("", "_ci_low", "_ci_high")), *COST_KEYS,
             "timing_roc_auc", "exposure_roc_auc",
             *(f"{m}{s}" for m in SURVIVAL_METRICS for s in ("", "_ci_low", "_ci_high")),
             "timing_c_index", "exposure_c_index")
ORACLE_LABEL = "oracle (true probabilities)"


def _record(run: ConfigResult | str | Path) -> RunRecord:
    return run.record if isinstance(run, ConfigResult) else RunRecord.open(run)


def load_scores(run: ConfigResult | str | Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A finished configuration's (or run folder's) out-of-fold scores, users sorted by id.

    A configuration's record reads its predictions once, however often it is asked.

    Returns:
        ``(user_ids (n,), y (n,), scores (R, n))``. A time-to-return run gives its risks as the scores
        and ``y`` as (n, 2): each user's time bin and whether the return was seen.
    """
    oof = _record(run).out_of_fold
    return oof.user_ids, oof.y, oof.scores


def load_folds(run: ConfigResult | str | Path) -> np.ndarray:
    """Each user's test fold per repeat, users sorted by id: shape (R, n)."""
    return _record(run).out_of_fold.folds


def _empty_row(result: ConfigResult) -> dict:
    row = dict.fromkeys(ROW_KEYS)
    row["seeds"] = 1
    row.update(config_id=result.config_id, label=result.label, kind="config", status=result.status,
               reason=result.reason, is_baseline=result.is_baseline, pareto=False)
    return row


def _cost(cost: dict) -> dict:
    featurize = float(sum(cost["featurize_s"].values()))
    return {"featurize_s": featurize, "train_s": cost["train_s"], "infer_ms_per_1k": cost["infer_ms_per_1k"],
            # predict time per 1,000 users, so a model that is slow to serve pays for it here
            "total_cost_s": featurize + cost["train_s"] + cost["infer_ms_per_1k"] / 1000.0,
            # trainable head parameters, and apart from them the frozen encoder's (runs before this had none)
            "params": cost["params"], "frozen_params": cost.get("frozen_params", 0),
            # what a pipeline needs on disk to predict: the saved model and the encoder's weights
            "model_mb": (cost["model_bytes"] + cost.get("weights_bytes", 0)) / 1e6,
            "weights_mb": cost.get("weights_bytes", 0) / 1e6,
            "peak_mb": cost["peak_rss_mb"], "flops_per_user": cost["flops_per_user"]}


def _baseline_of(config_id: str, by_id: dict[str, ConfigResult], baselines: dict | None,
                 default: ConfigResult | None) -> tuple[str | None, str]:
    """The id of the baseline a configuration is compared with, or None and why not."""
    if baselines is not None and config_id in baselines:
        base_id = baselines[config_id]
        if base_id is None:
            return None, "no baseline for this configuration"
    elif default is None:
        return None, "no baseline marked"
    else:
        base_id = default.config_id
    base = by_id.get(base_id)
    if base is None:
        return None, f"baseline {base_id} is not in the comparison"
    if base.status != "done":
        return None, f"baseline {base.label} {base.status}"
    return base_id, ""


def _delta(row: dict, task, scores, base, *, n_boot: int, confidence: float, seed: int) -> None:
    """Fill the delta columns from paired scores, or say in ``delta_note`` why they stay empty.

    ``n_boot`` and ``seed`` serve a single split only (the user bootstrap); the corrected t draws nothing.
    """
    (ids, y, s, folds), (base_ids, base_y, base_s, _) = scores, base
    if not np.array_equal(ids, base_ids):
        row["delta_note"] = "users differ from the baseline's: no paired Δ"
    elif not np.array_equal(y, base_y):
        row["delta_note"] = "labels differ from the baseline's: no paired Δ (the label or the data changed)"
    elif s.shape != base_s.shape:
        row["delta_note"] = f"{s.shape[0]} repeats, baseline has {base_s.shape[0]}"
    elif len(np.unique(folds[folds >= 0])) < 2:  # one split: no folds to spread, the user bootstrap stays
        for m in task.delta_metrics:
            point, draws = task.paired_draws(m, y, s, base_s, n_boot=n_boot, seed=seed)
            fill_delta(row, m, point, draws, confidence)
    else:
        for m in task.delta_metrics:
            fill_corrected(row, m, *_fold_deltas(task, scores, base, m), folds, confidence)


def _fold_deltas(task, scores, base, metric: str) -> tuple[float, np.ndarray]:
    (_, y, s, folds), (_, _, base_s, _) = scores, base
    return task.fold_deltas(metric, y, s, base_s, folds)


def fill_corrected(row: dict, metric: str, point: float, per_fold: np.ndarray, folds: np.ndarray,
                   confidence: float) -> None:
    """The Δ columns and the raw p-value of one row from its per-fold Δs (corrected resampled t)."""
    t = corrected_t(point, per_fold, fold_test_share(folds), confidence)
    row.update({f"delta_{metric}": point, f"delta_{metric}_ci_low": t["ci_low"],
                f"delta_{metric}_ci_high": t["ci_high"], f"delta_{metric}_p": t["p_value"]})


def holm_stars(rows: list[dict], confidence: float) -> None:
    """Set ``delta_*_significant`` from Holm-adjusted p-values over every row and Δ column together."""
    cells = {(i, m): rows[i].get(f"delta_{m}_p") for i in range(len(rows)) for m in (*DELTA_METRICS, "c_index")}
    for (i, m), p in holm_over(cells).items():
        r, key = rows[i], f"delta_{m}"
        r[f"{key}_p_holm"] = p
        if r.get(key) is not None:
            r[f"{key}_significant"] = bool(p is not None and p < 1.0 - confidence)


def _folds_differ(result: ConfigResult, base: ConfigResult) -> bool:
    """Same users and repeats, but assigned to other test folds (other users or repeats: ``_delta`` says so)."""
    a, b = load_folds(result), load_folds(base)
    return a.shape == b.shape and not np.array_equal(a, b)


def mark_pareto(rows: list[dict]) -> list[dict]:
    """Set ``pareto`` on done configuration rows: no other row has higher ROC-AUC at no higher cost.

    A row is dominated when another has ROC-AUC >= and total cost <=, strictly
    better in one; rows with a nan or missing value are never on the front.
    """
    points = [r for r in rows if r["status"] == "done" and r.get("kind", "config") == "config"
              and _finite(r.get("roc_auc")) and _finite(r.get("total_cost_s"))]
    for r in rows:
        r["pareto"] = False
    for r in points:
        a, c = r["roc_auc"], r["total_cost_s"]
        r["pareto"] = not any(o["roc_auc"] >= a and o["total_cost_s"] <= c
                              and (o["roc_auc"] > a or o["total_cost_s"] < c) for o in points)
    return rows


def _finite(x) -> bool:
    return isinstance(x, (int, float)) and math.isfinite(x)


def _oracle_row(ref: ConfigResult) -> dict | None:
    """The ROC-AUC and PR-AUC of the true probabilities, as the reference run recorded them (synthetic data)."""
    oracle = ref.record.oracle
    if not oracle or not ref.task_class.oracle_row:  # e.g. a time-to-return run's oracle: curves, in its report
        return None
    row = dict.fromkeys(ROW_KEYS)
    row.update(config_id="oracle", label=ORACLE_LABEL, kind="oracle", status="done", reason="", is_baseline=False,
               pareto=False)
    for k in ref.task_class.delta_metrics:  # recall and precision at p >= 0.5 would not match the threshold rule
        m = oracle[k]
        row.update({k: m["mean"], f"{k}_ci_low": m["ci_low"], f"{k}_ci_high": m["ci_high"]})
    return row


def _cache_cell(record: RunRecord | dict) -> str | None:
    """Feature blocks and embedded rows read back from the caches, out of all looked up.

    ``record``: a run's record, or a mapping with its ``cache`` and ``rows`` sections.
    """
    if isinstance(record, dict):
        cache, embedded = record.get("cache"), record.get("rows")
    else:
        cache, embedded = record.cache, record.embedded_rows
    parts = []
    if cache and cache.get("enabled", True):
        # feature blocks read from the cache out of all looked up (folds + final model, per featurizer)
        parts.append(f"hit {cache.get('hits', 0)}/{cache.get('lookups', 0)}")
    if embedded:  # stateless featurizers: users' rows read back from the row cache, out of all users' rows
        cached = sum(r["from_cache"] for r in embedded.values())
        parts.append(f"rows {cached}/{cached + sum(r['computed'] for r in embedded.values())}")
    return ", ".join(parts) or None


def build_rows(results: list[ConfigResult], *, baselines: dict[str, str | None] | None = None,
               n_boot: int = 1000, seed: int = 0, per_seed: bool = False) -> list[dict]:
    """One row per configuration (aggregated over seeds unless ``per_seed``), then an oracle row.

    Args:
        results: The configurations, in table order.
        baselines: Optional ``{config_id: baseline config_id or None}`` for sweeps
            with one baseline per group (e.g. per seed). Configurations it does
            not name use the first result with ``is_baseline``.
        n_boot: Bootstrap draws of the paired deltas.
        seed: Seed of those bootstraps.
        per_seed: One row per seed instead of one per configuration (:mod:`toolkit.bench.seeds`).

    Returns:
        Dicts with the keys of :data:`ROW_KEYS`; deltas are this row minus its
        baseline, on the same users and folds; stars are Holm-corrected over the rows.
    """
    done = [r for r in results if r.status == "done"]
    by_id = {r.config_id: r for r in results}
    scores = {r.config_id: (*load_scores(r), load_folds(r)) for r in done}
    default = next((r for r in results if r.is_baseline), None)
    rows = [_config_row(r, by_id, baselines, default, scores, n_boot=n_boot, seed=seed) for r in results]
    confidence = done[0].record.confidence if done else 0.95
    if not per_seed:
        rows = _aggregate(rows, results, scores, n_boot=n_boot, seed=seed, confidence=confidence)
    holm_stars([r for r in rows if r["status"] == "done"], confidence)
    rows = [{k: r.get(k) for k in ROW_KEYS} for r in rows]
    mark_pareto(rows)
    if done:
        ref = default if default is not None and default.status == "done" else done[0]
        oracle = _oracle_row(ref)
        if oracle is not None:
            set_oracle_gaps(rows, oracle)
            rows.append(oracle)
    return rows


def set_oracle_gaps(rows: list[dict], oracle: dict) -> None:
    """``oracle_gap_roc_auc``: how far each finished row's ROC-AUC is below the true probabilities'.

    The room left for a better model on this data (synthetic data only: a real crawl has no
    oracle); read beside the row's interval, since the oracle's own score is a sample too.
    """
    best = oracle.get("roc_auc")
    for row in rows:
        if best is not None and row["status"] == "done" and row.get("roc_auc") is not None:
            row["oracle_gap_roc_auc"] = best - row["roc_auc"]


def _config_row(result: ConfigResult, by_id: dict, baselines, default, scores: dict, *, n_boot: int,
                seed: int) -> dict:
    row = _empty_row(result)
    if result.status != "done":
        return row
    record, task = result.record, result.task_class
    for m, v in record.metrics.items():
        if m in task.metrics:
            row.update({m: v.mean, f"{m}_ci_low": v.low, f"{m}_ci_high": v.high})
    for name in ("timing", "exposure"):
        b = baseline_entry(record.baselines, name)  # older folders: first_seen
        key = task.headline()
        row[f"{name}_{key}"] = b[key].mean if b and key in b else None
    base_id, note = _baseline_of(result.config_id, by_id, baselines, default)
    if base_id is not None and _folds_differ(result, by_id[base_id]):
        base_id, note = None, ("folds differ from the baseline's: no paired Δ (a paired comparison needs the "
                               "same test folds; run both with the same seed, or in one sweep)")
    row["_base"] = base_id
    if base_id is None:
        row["delta_note"] = note
    else:
        _delta(row, task, scores[result.config_id], scores[base_id], n_boot=n_boot,
               confidence=record.confidence, seed=seed)
        if base_id == result.config_id:  # the baseline against itself is no test: keep it out of Holm's count
            row.update({f"delta_{m}_p": None for m in (*DELTA_METRICS, "c_index")})
    row.update(_cost(record.cost))
    row["cache"] = _cache_cell(record)
    return row


def _aggregate(rows: list[dict], results: list[ConfigResult], scores: dict, *, n_boot: int, seed: int,
               confidence: float) -> list[dict]:
    """Replace the done rows of each seed group by one row (in the place of its first seed)."""
    groups: dict[str, list[int]] = {}
    for i, result in enumerate(results):
        key = group_key(result)
        if key is not None and result.status == "done":
            groups.setdefault(key, []).append(i)
    out, placed = [], set()
    for i, row in enumerate(rows):
        key = group_key(results[i]) if results[i].status == "done" else None
        if key is None or len(groups.get(key, [])) < 2:
            out.append(row)
        elif key not in placed:
            placed.add(key)
            members = [rows[j] for j in groups[key]]
            agg = aggregate_row(members, _AVERAGED)
            _aggregate_delta(agg, results[groups[key][0]].task_class, members, scores, n_boot=n_boot, seed=seed,
                             confidence=confidence)
            out.append(agg)
    return out


def _aggregate_delta(agg: dict, task, members: list[dict], scores: dict, *, n_boot: int, seed: int,
                     confidence: float) -> None:
    pairs = [(m["config_id"], m.get("_base")) for m in members]
    for m in (*DELTA_METRICS, "c_index"):
        for k in ("", "_ci_low", "_ci_high", "_p", "_significant"):
            agg[f"delta_{m}{k}"] = None
    if any(base is None for _, base in pairs) or all(c == b for c, b in pairs):
        return  # the baseline itself, or a seed without a baseline (its note says why)
    for m in task.delta_metrics:
        found = _seed_fold_deltas(task, pairs, scores, m)
        if found is None:
            agg["delta_note"] = "users, labels, repeats or folds differ from the baseline's at some seed"
            return
        fill_corrected(agg, m, *found, scores[pairs[0][0]][3], confidence)


def _seed_fold_deltas(task, pairs: list[tuple[str, str]], scores: dict, metric: str) -> tuple[float, np.ndarray] | None:
    """The point Δ and the per-fold Δs, each averaged over the seeds (same users and folds at every seed)."""
    points, per_fold = [], []
    for config_id, base_id in pairs:
        (ids, y, s, folds), (base_ids, base_y, base_s, base_folds) = scores[config_id], scores[base_id]
        if not (np.array_equal(ids, base_ids) and np.array_equal(y, base_y) and s.shape == base_s.shape
                and np.array_equal(folds, base_folds)):
            return None
        point, values = _fold_deltas(task, scores[config_id], scores[base_id], metric)
        points.append(point)
        per_fold.append(values)
    if len({len(v) for v in per_fold}) != 1:
        return None
    return float(np.mean(points)), np.mean(per_fold, axis=0)


def _distinct(values: list[tuple[str, str]]) -> str:
    """One text when every configuration agrees, else each text with its configurations."""
    groups: dict[str, list[str]] = {}
    for config_id, text in values:
        groups.setdefault(text, []).append(config_id)
    if len(groups) == 1:
        return next(iter(groups))
    return "; ".join(f"{text} ({', '.join(ids)})" for text, ids in groups.items())


def header_lines(results: list[ConfigResult]) -> list[str]:
    """What a reader needs above the table: positive rate, threshold rule, evaluation, what Δ means."""
    done = [(r, r.record) for r in results if r.status == "done"]
    if not done:
        return ["No configuration finished."]
    rate = _distinct([(r.config_id, f"{m.data.positives / m.data.labelled:.2%} "
                       f"({m.data.positives} of {m.data.labelled} labelled users)") for r, m in done])
    rule = _distinct([(r.config_id, m.threshold.rule if m.threshold else f"none ({m.task.replace('_', ' ')})")
                      for r, m in done])
    evaluation = _distinct([(r.config_id, f"{m.evaluation}, {m.confidence:.0%} intervals") for r, m in done])
    baseline = "; ".join(r.label for r in results if r.is_baseline)
    threshold = (f"Threshold rule: {rule} (chosen on validation data inside each training fold); recall and "
                 "precision use it.")
    notes = {r.task_class.table_note for r, _ in done}
    if len(notes) == 1 and None not in notes:  # every run's task says what replaces the threshold line
        threshold = notes.pop()
    return [
        f"Positive rate: {rate}.",
        threshold,
        f"Evaluation: {evaluation}.",
        f"Δ = configuration - baseline ({baseline or 'none marked'}) on the same users and folds; interval and "
        "p-value from the per-fold Δs (corrected resampled t, Nadeau-Bengio: the fitting's noise included; "
        "per-fold Δs averaged over seeds in rows aggregated over seeds; ± = across-seed standard deviation); "
        "* = Holm-corrected over every row and Δ column of the table: adjusted p-value below "
        f"{1 - done[0][1].confidence:.2g}.",
        "Cost: featurize + train seconds per fold + predict seconds per 1,000 users; ◆ = Pareto front "
        "(ROC-AUC vs cost).",
        "Size: head params are trained; frozen params are a pretrained encoder's; model MB is all a pipeline "
        "needs to predict (saved model + encoder weights MB).",
    ]


# ---------------------------------------------------------------------------
# Views: markdown, CSV and JSON files, the terminal, and (via ``cells``) HTML.
# ---------------------------------------------------------------------------


def _num(x, fmt: str = ".3f") -> str:
    if x is None:
        return ""
    if isinstance(x, float) and math.isinf(x):
        return f"{x}!"  # no metric or cost is infinite: the run folder is damaged; finish() warns
    return "nan" if isinstance(x, float) and math.isnan(x) else format(x, fmt)


#: the metrics a run always measures: not a number there means the run folder is damaged
HEADLINE = ("roc_auc", "pr_auc", "recall", "precision")


def nonfinite(row: dict) -> list[str]:
    """The row's values that are infinite, or not a number where a number is always measured."""
    bad = [k for k, v in row.items() if isinstance(v, float) and math.isinf(v)]
    keys = [k + end for k in HEADLINE for end in ("", "_ci_low", "_ci_high")]
    return bad + [k for k in keys if isinstance(row.get(k), float) and math.isnan(row[k])]


def _whole(x):
    """A count averaged over seeds (the same in each) shows as the count it is."""
    return int(round(x)) if isinstance(x, float) and math.isfinite(x) else x


def _interval(row: dict, key: str) -> str:
    if row.get(key) is None:
        return ""
    spread = f" ±{_num(row[key + '_seed_sd'])}" if row.get(key + "_seed_sd") is not None else ""
    mark = "!" if isinstance(row[key], float) and math.isnan(row[key]) else ""  # see nonfinite()
    return f"{_num(row[key])}{mark} [{_num(row[key + '_ci_low'], '.2f')}, {_num(row[key + '_ci_high'], '.2f')}]{spread}"


def _delta_cell(row: dict, metric: str) -> str:
    key = f"delta_{metric}"
    if row.get(key) is None:
        return ""
    star = "*" if row[f"{key}_significant"] else ""
    low, high = _num(row[key + "_ci_low"], "+.3f"), _num(row[key + "_ci_high"], "+.3f")
    return f"{_num(row[key], '+.3f')} [{low}, {high}]{star}"


def row_note(row: dict) -> str:
    if row["status"] != "done":
        return f"{row['status']}: {row['reason']}" if row["reason"] else row["status"]
    return row.get("delta_note") or ""


COLUMNS = {
    "config": lambda r: r["label"] + (" (baseline)" if r["is_baseline"] else ""),
    "ROC-AUC": lambda r: _interval(r, "roc_auc"),
    "PR-AUC": lambda r: _interval(r, "pr_auc"),
    "recall": lambda r: _interval(r, "recall"),
    "precision": lambda r: _interval(r, "precision"),
    "Δ ROC-AUC": lambda r: _delta_cell(r, "roc_auc"),
    "Δ PR-AUC": lambda r: _delta_cell(r, "pr_auc"),
    "gap to oracle": lambda r: _num(r.get("oracle_gap_roc_auc")),
    "timing AUC": lambda r: _num(r.get("timing_roc_auc")),
    "exposure AUC": lambda r: _num(r.get("exposure_roc_auc")),
    "C-index": lambda r: _interval(r, "c_index"),
    "Uno's C": lambda r: _interval(r, "uno_c"),
    "IBS": lambda r: _interval(r, "ibs"),
    "Δ C-index": lambda r: _delta_cell(r, "c_index"),
    "timing C": lambda r: _num(r.get("timing_c_index")),
    "exposure C": lambda r: _num(r.get("exposure_c_index")),
    "cost s": lambda r: _num(r["total_cost_s"], ".2f"),
    "featurize s": lambda r: _num(r["featurize_s"], ".2f"),
    "train s": lambda r: _num(r["train_s"], ".2f"),
    "predict ms/1k": lambda r: _num(r["infer_ms_per_1k"], ".0f"),
    "head params": lambda r: _num(_whole(r["params"]), ","),
    "frozen params": lambda r: _num(_whole(r["frozen_params"]), ","),
    "model MB": lambda r: _num(r["model_mb"], ".2f"),
    "weights MB": lambda r: _num(r["weights_mb"], ".1f"),
    "peak MB": lambda r: _num(r["peak_mb"], ".0f"),
    "FLOPs/user": lambda r: _num(r["flops_per_user"], ".3g"),
    "front": lambda r: "◆" if r["pareto"] else "",
    "cache": lambda r: r["cache"] or "",
    "note": row_note,
    "status": lambda r: "" if r["status"] == "done" else r["status"],
}
COMPACT = ("config", "ROC-AUC", "PR-AUC", "recall", "precision", "Δ ROC-AUC", "Δ PR-AUC", "gap to oracle", "timing AUC",
           "exposure AUC", "cost s", "head params", "frozen params", "model MB", "front", "cache", "status")


#: columns that only one label kind fills; a table shows them when some row has that kind
BINARY_COLUMNS = ("ROC-AUC", "PR-AUC", "recall", "precision", "Δ ROC-AUC", "Δ PR-AUC", "gap to oracle", "timing AUC",
                  "exposure AUC")
SURVIVAL_COLUMNS = ("C-index", "Uno's C", "IBS", "Δ C-index", "timing C", "exposure C")


def shown_columns(rows: list[dict], columns) -> list[str]:
    """``columns`` without the metric columns of a label kind no finished row has.

    A table of yes/no runs only reads as before; the survival columns appear beside (or instead
    of) the binary ones when a time-to-return run is in it.
    """
    done = [r for r in rows if r["status"] == "done"]
    survival = any(r.get("c_index") is not None for r in done)
    binary = any(r.get("roc_auc") is not None for r in done) or not survival
    hidden = (() if binary else BINARY_COLUMNS) + (() if survival else SURVIVAL_COLUMNS)
    return [c for c in columns if c not in hidden]


def cells(row: dict, columns=tuple(COLUMNS)) -> list[str]:
    """The display text of one row, one string per column title."""
    return [COLUMNS[c](row) for c in columns]


def _plain(value):
    """JSON-safe: nan becomes null, numpy scalars become Python numbers."""
    if isinstance(value, np.generic):
        value = value.item()
    return None if isinstance(value, float) and math.isnan(value) else value


_FROM_DATA = ("config", "note", "cache")  # cells holding labels and reasons (the rest are numbers we format)


def write_tables(rows: list[dict], folder, header: list[str]) -> dict[str, Path]:
    """Write ``table.md``, ``table.csv`` and ``table.json`` into ``folder``.

    Each is written atomically (a link planted at the name in a received sweep folder is
    replaced, never followed); labels and reasons from the ledger are neutralised for
    Markdown and for spreadsheets.

    Returns:
        ``{"md": path, "csv": path, "json": path}``.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {"md": folder / "table.md", "csv": folder / "table.csv", "json": folder / "table.json"}

    columns = shown_columns(rows, [c for c in COLUMNS if c != "status"])  # the note says the status

    def md(column: str, text: str) -> str:  # text from the ledger never starts a Markdown construct
        return for_markdown_cell(text) if column in _FROM_DATA else text

    lines = [*(" ".join(strip_controls(h).split()) for h in header), ""] if header else []
    lines += ["| " + " | ".join(columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
    lines += ["| " + " | ".join(md(c, t) for c, t in zip(columns, cells(r, columns))) + " |" for r in rows]
    atomic_write(paths["md"], "\n".join(lines) + "\n", within=folder)

    text = io.StringIO(newline="")
    writer = csv.DictWriter(text, fieldnames=ROW_KEYS)
    writer.writeheader()
    writer.writerows({k: for_csv(_plain(r.get(k))) for k in ROW_KEYS} for r in rows)
    atomic_write(paths["csv"], text.getvalue(), within=folder)

    data = {"header": header, "rows": [{k: _plain(r.get(k)) for k in ROW_KEYS} for r in rows]}
    atomic_write(paths["json"], json.dumps(data, indent=2, ensure_ascii=False) + "\n", within=folder)
    return paths


def rich_table(rows: list[dict], header: list[str]) -> Table:
    """The compact terminal view; skipped and failed rows are dimmed and show their reason.

    In a narrow terminal the cells wrap (a long configuration name folds onto the next line)
    rather than being cut; piped, the console is wide enough that every row stays on one line.
    """
    table = Table(title=Text("\n".join(header)) if header else None, title_justify="left")
    compact = shown_columns(rows, [*COMPACT[:8], "C-index", "IBS", "Δ C-index", "timing C", *COMPACT[8:]])
    for title in compact:
        table.add_column(title, justify="left" if title in ("config", "note", "cache") else "right")
    for r in rows:
        style = "dim" if r["status"] != "done" else ("italic" if r["kind"] == "oracle" else None)
        # Text cells: "[0.68, 0.74]" must not be read as rich markup
        table.add_row(*(Text(c) for c in cells(r, compact)), style=style)
    return table
