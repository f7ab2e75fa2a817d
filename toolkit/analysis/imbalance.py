"""Which imbalance strategy raises recall at a useful precision: ``python -m toolkit imbalance SWEEP_DIR``.

For every finished configuration of a sweep and its baseline (same users, same
folds) this reads the out-of-fold scores and hard predictions and reports,
each as ``configuration - baseline`` with a paired stratified bootstrap interval
(the same resampled users for both in every draw):

* ``recall_at_precision``: the most recall any threshold reaches while the
  precision stays at or above ``P`` (a point of the out-of-fold PR curve: what
  the scores allow, whatever threshold the run picked);
* ``recall`` and ``precision`` of the hard predictions the run made with its own
  threshold rule (what a user of the model would get).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from toolkit.errors import ToolkitError


def recall_at_precision(y: np.ndarray, scores: np.ndarray, precision: float) -> float:
    """Highest recall over thresholds ``scores >= t`` whose precision is at least ``precision`` (0 if none)."""
    order = np.argsort(-scores, kind="stable")
    s, hits = scores[order], y[order]
    last = np.flatnonzero(np.r_[s[1:] != s[:-1], True])  # ties form one threshold
    tp = np.cumsum(hits)[last]
    ok = tp / (last + 1) >= precision
    return float(tp[ok].max() / y.sum()) if ok.any() and y.sum() else 0.0


def _hard(y: np.ndarray, predicted: np.ndarray) -> tuple[float, float]:
    tp = float(np.sum(y & predicted))
    return tp / max(y.sum(), 1), (tp / predicted.sum() if predicted.sum() else 0.0)


def _statistics(y, scores, predicted, precision: float) -> np.ndarray:
    """(recall_at_precision, recall, precision), averaged over repeats."""
    rows = [(recall_at_precision(y, s, precision), *_hard(y, p)) for s, p in zip(scores, predicted)]
    return np.mean(rows, axis=0)


def read_predictions(result) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(user_ids, y, scores (R, n), predicted (R, n))`` of a finished configuration, users sorted by id."""
    oof = result.record.out_of_fold
    return oof.user_ids, oof.y.astype(bool), oof.scores, oof.predicted.astype(bool)


def paired_deltas(a, b, precision: float, *, n_boot: int = 1000, confidence: float = 0.95, seed: int = 0) -> dict:
    """``a - b`` of the three statistics, with a stratified paired percentile bootstrap over users."""
    (y, sa, pa), (_, sb, pb) = a, b
    point = _statistics(y, sa, pa, precision) - _statistics(y, sb, pb, precision)
    rng = np.random.default_rng(seed)
    pos, neg = np.flatnonzero(y), np.flatnonzero(~y)
    draws = []
    for _ in range(n_boot):
        rows = np.r_[rng.choice(pos, len(pos)), rng.choice(neg, len(neg))]
        draws.append(_statistics(y[rows], sa[:, rows], pa[:, rows], precision)
                     - _statistics(y[rows], sb[:, rows], pb[:, rows], precision))
    tail = (1 - confidence) / 2
    low, high = np.quantile(np.array(draws), [tail, 1 - tail], axis=0)
    names = ("recall_at_precision", "recall", "precision")
    return {n: {"mean": float(point[i]), "ci_low": float(low[i]), "ci_high": float(high[i]),
                "excludes_zero": bool(low[i] > 0 or high[i] < 0)} for i, n in enumerate(names)}


def imbalance_table(sweep_dir: str | Path, *, precision: float = 0.1, n_boot: int = 1000, seed: int = 0) -> list[dict]:
    """One row per finished configuration: its statistics and paired deltas against its baseline."""
    from toolkit.bench.comparison import gather

    if not 0 < precision <= 1:
        raise ToolkitError(f"--precision must be in (0, 1]. Got {precision} instead.")
    results, baselines = gather([str(sweep_dir)])
    done = {r.config_id: r for r in results if r.status == "done"}
    loaded = {cid: read_predictions(r) for cid, r in done.items()}
    rows = []
    for cid, r in done.items():
        ids, y, s, p = loaded[cid]
        recall_p, recall, prec = _statistics(y, s, p, precision)
        row = {"config_id": cid, "label": r.label, "is_baseline": r.is_baseline, "users": int(len(y)),
               "positives": int(y.sum()), "recall_at_precision": recall_p, "recall": recall, "precision": prec}
        base = baselines.get(cid)
        if base in loaded and base != cid and np.array_equal(loaded[base][0], ids):
            row["baseline"] = base
            row["delta"] = paired_deltas((y, s, p), loaded[base][1:], precision, n_boot=n_boot, seed=seed)
        rows.append(row)
    return rows


def _cell(d: dict) -> str:
    mark = " *" if d["excludes_zero"] else ""
    return f"{d['mean']:+.3f} ({d['ci_low']:+.3f} .. {d['ci_high']:+.3f}){mark}"


def imbalance_markdown(rows: list[dict], precision: float) -> str:
    lines = [f"| configuration | recall at precision >= {precision:g} | Δ vs baseline | recall (own threshold) | "
             "Δ recall | precision (own threshold) | Δ precision |", "|---|---:|---|---:|---|---:|---|"]
    for r in rows:
        d = r.get("delta")
        lines.append(f"| {r['label'].replace(' | ', ', ')}{' (baseline)' if r['is_baseline'] else ''} | {r['recall_at_precision']:.3f} | "
                     f"{_cell(d['recall_at_precision']) if d else '-'} | {r['recall']:.3f} | "
                     f"{_cell(d['recall']) if d else '-'} | {r['precision']:.3f} | {_cell(d['precision']) if d else '-'} |")
    lines += ["", "Δ: configuration - baseline on the same users and folds, with a 95% paired stratified bootstrap "
              "interval; * marks an interval that excludes 0."]
    return "\n".join(lines) + "\n"


def write_imbalance(sweep_dir: str | Path, *, precision: float = 0.1, n_boot: int = 1000) -> tuple[Path, list[dict]]:
    rows = imbalance_table(sweep_dir, precision=precision, n_boot=n_boot)
    folder = Path(sweep_dir)
    (folder / "imbalance.json").write_text(json.dumps({"precision": precision, "rows": rows}, indent=2) + "\n")
    (folder / "imbalance.md").write_text(imbalance_markdown(rows, precision), encoding="utf-8")
    return folder / "imbalance.md", rows
