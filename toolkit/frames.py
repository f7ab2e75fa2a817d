"""A run's and a comparison's figures as pandas frames, for the Python API (:mod:`toolkit.api`).

Everything here reads what a run wrote (``metrics.json`` as a dict, a comparison's rows) and
its task class, passed in: the module imports no other layer, so the rows follow whatever a
task records rather than a list of names kept here. :func:`metric_rows` gives every figure the
terminal prints for a run; :func:`leaderboard` ranks runs or configurations, best first.
"""

from __future__ import annotations

import math

import pandas as pd

METRIC_COLUMNS = ["metric", "mean", "low", "high", "group", "note"]


def _number(x) -> float:
    return float(x) if isinstance(x, (int, float)) and not isinstance(x, bool) else math.nan


def _interval_rows(section: dict, group: str, prefix: str = "") -> list[tuple]:
    """A metrics-like section: ``{name: {mean, ci_low, ci_high}}``, or ``{name: {horizon: {...}}}`` (auc_at)."""
    rows = []
    for name, m in section.items():
        if not isinstance(m, dict):
            continue
        if "mean" not in m:  # one entry per horizon (days)
            rows += _interval_rows({f"{name}_{h}d": v for h, v in m.items()}, group, prefix)
            continue
        notes = []
        if m.get("fallback"):
            notes.append("every fold fell back to the prevalence threshold")
        if "base_rate" in m:
            notes.append(f"base rate {_number(m['base_rate']):.3f}")
        if "bins" in m:
            notes.append(f"{m['bins']} bins")
        if name.startswith("ibs"):
            notes.append("lower is better")
        rows.append((prefix + name, _number(m.get("mean")), _number(m.get("ci_low")), _number(m.get("ci_high")),
                     group, "; ".join(notes)))
    return rows


def metric_rows(result: dict) -> pd.DataFrame:
    """Every figure the terminal prints for a run, one row each: ``metric, mean, low, high, group, note``.

    ``group`` is ``model`` (the out-of-fold metrics, calibration included), ``folds`` (the mean of
    the folds' own values), ``reference`` (what a model without features scores), ``permutation``
    (``mean`` is the p-value; no interval), ``oracle`` / ``ceiling`` (synthetic data) or
    ``baseline`` (a confound baseline, ``<baseline> <metric>``). ``low`` and ``high`` are NaN
    where the figure has no interval.
    """
    rows = _interval_rows(result.get("metrics") or {}, "model")
    fold = result.get("fold_roc_auc")
    if isinstance(fold, dict) and fold.get("folds"):
        rows.append(("roc_auc_mean_of_folds", _number(fold.get("mean")), math.nan, math.nan, "folds",
                     f"sd {_number(fold.get('sd')):.3f} over {fold['folds']} folds"))
    reference = result.get("no_features")
    if isinstance(reference, dict):
        rows += _interval_rows({k: v for k, v in reference.items() if isinstance(v, dict)}, "reference",
                               "no_features_")
        if reference.get("ibs_skill") is not None:
            rows.append(("ibs_skill", _number(reference["ibs_skill"]), math.nan, math.nan, "reference",
                         "1 - model IBS / no-features IBS"))
    rows += _permutation_rows(result.get("permutation"))
    for key in ("oracle", "ceiling"):
        if isinstance(result.get(key), dict):
            rows += _interval_rows(result[key], key, f"{key}_")
    for name, entry in (result.get("baselines") or {}).items():
        if isinstance(entry, dict):
            rows += _interval_rows(entry, "baseline", f"{name}_")
    return pd.DataFrame(rows, columns=METRIC_COLUMNS)


def _permutation_rows(perm) -> list[tuple]:
    if not isinstance(perm, dict):
        return []
    rows = []
    for key, p in perm.items():
        if not isinstance(p, dict) or "p_value" not in p:
            continue
        null = p.get("null") or {}
        words = p.get("question") or (f"over {p['baseline']}" if p.get("baseline") else "")
        note = f"{words}; " if words else ""
        rows.append((f"{key}_permutation_p", _number(p["p_value"]), math.nan, math.nan, "permutation",
                     f"{note}null {_number(null.get('q05')):.3f} .. {_number(null.get('q95')):.3f} over "
                     f"{p.get('shuffles', perm.get('n'))} shuffles"))
    return rows


def cost_columns(cost: dict) -> dict:
    """``fit_time_s`` (featurize + train, per fold), ``predict_time_s`` (per 1,000 users), ``total_cost_s``."""
    fit = float(sum((cost.get("featurize_s") or {}).values())) + _number(cost.get("train_s"))
    predict = _number(cost.get("infer_ms_per_1k")) / 1000.0
    return {"fit_time_s": fit, "predict_time_s": predict, "total_cost_s": fit + predict}


def run_row(name: str, result: dict, task) -> dict:
    """A run's leaderboard row: its task's metrics, its Δ over a confound baseline (timing first), its cost."""
    metrics = result.get("metrics") or {}
    head = task.headline()
    row = {"model": name}
    for m in task.metrics:
        entry = metrics.get(m) or {}
        row[m] = _number(entry.get("mean"))
        if m == head:
            row[f"{m}_low"], row[f"{m}_high"] = _number(entry.get("ci_low")), _number(entry.get("ci_high"))
    baselines = result.get("baselines") or {}
    names = sorted(baselines, key=lambda n: (n != "timing", n))
    for m in task.delta_metrics:
        found = next((n for n in names if isinstance(baselines[n], dict) and f"delta_{m}" in baselines[n]), None)
        d = baselines[found][f"delta_{m}"] if found else {}
        row[f"delta_{m}"] = _number(d.get("mean"))
        if m == head:
            row[f"delta_{m}_low"], row[f"delta_{m}_high"] = _number(d.get("ci_low")), _number(d.get("ci_high"))
            row["baseline"] = f"{found} (confound)" if found else ""
    return {**row, **cost_columns(result.get("cost") or {})}


def comparison_row(row: dict, task, baseline: str) -> dict:
    """A comparison table row (:data:`toolkit.bench.table.ROW_KEYS`) in the leaderboard's columns."""
    head = task.headline()
    out = {"model": row.get("label")}
    for m in task.metrics:
        out[m] = _number(row.get(m))
        if m == head:
            out[f"{m}_low"], out[f"{m}_high"] = _number(row.get(f"{m}_ci_low")), _number(row.get(f"{m}_ci_high"))
    for m in task.delta_metrics:
        out[f"delta_{m}"] = _number(row.get(f"delta_{m}"))
        if m == head:
            out[f"delta_{m}_low"] = _number(row.get(f"delta_{m}_ci_low"))
            out[f"delta_{m}_high"] = _number(row.get(f"delta_{m}_ci_high"))
            out[f"delta_{m}_p_holm"] = _number(row.get(f"delta_{m}_p_holm"))
            out["baseline"] = "" if row.get("is_baseline") else baseline
    featurize = row.get("featurize_s")
    fit = _number(featurize) + _number(row.get("train_s"))
    out.update(fit_time_s=fit, predict_time_s=_number(row.get("infer_ms_per_1k")) / 1000.0,
               total_cost_s=_number(row.get("total_cost_s")))
    out.update(is_baseline=bool(row.get("is_baseline")), pareto=bool(row.get("pareto")), status=row.get("status"),
               config_id=row.get("config_id"))
    return out


def leaderboard(rows: list[dict], task) -> pd.DataFrame:
    """Rows best first by the task's headline metric (higher is better); rows without one go last, in order."""
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    head = task.headline()
    key = table[head].astype(float)
    order = sorted(range(len(table)), key=lambda i: (math.isnan(key.iloc[i]), -key.iloc[i]
                                                     if not math.isnan(key.iloc[i]) else 0.0, i))
    return table.iloc[order].reset_index(drop=True)


def task_columns(columns, present: list, installed: list) -> list[str]:
    """The columns of a comparison table that belong to the tasks ``present`` (classes) in it.

    A column naming a metric of an installed task that is not present (``c_index`` in a yes/no
    comparison, ``roc_auc`` in a time-to-return one) is left out; with no finished run, all stay.
    """
    if not present:
        return list(columns)
    mine = {m for t in present for m in (*t.metrics, *t.delta_metrics, *t.baseline_metrics)}
    others = {m for t in installed for m in (*t.metrics, *t.delta_metrics, *t.baseline_metrics)} - mine
    return [c for c in columns if not any(_names(c, m) for m in others)]


def _names(column: str, metric: str) -> bool:
    """Whether ``column`` is about ``metric`` (``roc_auc``, ``delta_roc_auc_p``, ``timing_roc_auc``)."""
    parts = column.split("_")
    words = metric.split("_")
    return any(parts[i:i + len(words)] == words for i in range(len(parts) - len(words) + 1))
