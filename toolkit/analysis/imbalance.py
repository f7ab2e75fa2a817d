"""Which imbalance strategy raises recall at a useful precision: ``python -m toolkit imbalance SWEEP_DIR``.

For every finished configuration of a sweep and its baseline (same users, same
folds) this reads the out-of-fold scores and hard predictions and reports,
each as ``configuration - baseline`` with the corrected resampled t interval over the
test folds (:mod:`toolkit.evaluation.metrics`: the per-fold Δs, with Nadeau and Bengio's
correction, so the fitting's noise is in it):

* ``recall_at_precision``: the most recall any threshold reaches while the
  precision stays at or above ``P`` (a point of the out-of-fold PR curve: what
  the scores allow, whatever threshold the run picked);
* ``recall`` and ``precision`` of the hard predictions the run made with its own
  threshold rule (what a user of the model would get).

As in the bench table (:mod:`toolkit.bench.seeds`), the seeds of a configuration
make one row (``--per-seed`` for one row each): the statistics are the seeds'
means, and the per-fold Δs are averaged over the seeds (the folds are the same) before
the t. Each Δ gets the t's two-sided p-value, Holm-adjusted over every row and column of
the table together; a star means the adjusted p-value is below 0.05, so a strategy that
helps at one seed and not at another, or one of many strategies and statistics tried, is
not starred by chance. (A user bootstrap of fixed scores, used before, starred null
strategies about four times too often at small n; :func:`paired_deltas` keeps it for
callers that want a description of these users' scores.)
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from toolkit.errors import ToolkitError
from toolkit.safe_io import atomic_write
from toolkit.sanitize import for_markdown_cell


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


def read_predictions(result) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(user_ids, y, scores (R, n), predicted (R, n), test fold (R, n))`` of a configuration, users by id."""
    oof = result.record.out_of_fold
    return oof.user_ids, oof.y.astype(bool), oof.scores, oof.predicted.astype(bool), oof.folds


def fold_deltas(a, b, precision: float) -> tuple[np.ndarray, np.ndarray]:
    """``a - b`` of the three statistics (pooled, (3,)) and on each test fold of ``a`` ((J, 3)).

    ``a`` and ``b`` are ``(y, scores, predicted, folds)`` on the same users and folds.
    """
    from toolkit.evaluation.metrics import fold_masks

    (y, sa, pa, folds), (_, sb, pb, _) = a, b
    point = _statistics(y, sa, pa, precision) - _statistics(y, sb, pb, precision)
    per_fold = [_statistics(y[m], sa[r:r + 1, m], pa[r:r + 1, m], precision)
                - _statistics(y[m], sb[r:r + 1, m], pb[r:r + 1, m], precision) for r, m in fold_masks(folds)]
    return point, np.array(per_fold)


def corrected_deltas(point: np.ndarray, per_fold: np.ndarray, folds: np.ndarray, confidence: float = 0.95) -> dict:
    """Interval, ``excludes_zero`` and p-value of each statistic from the corrected t over its per-fold Δs."""
    from toolkit.evaluation.metrics import corrected_t, fold_test_share

    out = {}
    for i, n in enumerate(NAMES):
        t = corrected_t(float(point[i]), per_fold[:, i], fold_test_share(folds), confidence)
        out[n] = {"mean": float(point[i]), "ci_low": t["ci_low"], "ci_high": t["ci_high"],
                  "excludes_zero": bool(t["ci_low"] > 0 or t["ci_high"] < 0), "p": t["p_value"]}
    return out


NAMES = ("recall_at_precision", "recall", "precision")


def delta_draws(a, b, precision: float, *, n_boot: int = 1000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``a - b`` of the three statistics and ``n_boot`` stratified paired bootstrap draws of it, (n_boot, 3).

    The user draws depend only on the labels, ``n_boot`` and ``seed``, so two seeds of a configuration
    (same users) are resampled alike and their draws can be mixed (:func:`toolkit.bench.seeds.mix_seeds`).
    """
    (y, sa, pa), (_, sb, pb) = a[:3], b[:3]
    point = _statistics(y, sa, pa, precision) - _statistics(y, sb, pb, precision)
    rng = np.random.default_rng(seed)
    pos, neg = np.flatnonzero(y), np.flatnonzero(~y)
    draws = []
    for _ in range(n_boot):
        rows = np.r_[rng.choice(pos, len(pos)), rng.choice(neg, len(neg))]
        draws.append(_statistics(y[rows], sa[:, rows], pa[:, rows], precision)
                     - _statistics(y[rows], sb[:, rows], pb[:, rows], precision))
    return point, np.array(draws)


def summarize_draws(point: np.ndarray, draws: np.ndarray, confidence: float = 0.95) -> dict:
    """Interval, ``excludes_zero`` and the two-sided bootstrap p-value of each statistic."""
    from toolkit.evaluation.metrics import bootstrap_p_value

    tail = (1 - confidence) / 2
    low, high = np.quantile(draws, [tail, 1 - tail], axis=0)
    return {n: {"mean": float(point[i]), "ci_low": float(low[i]), "ci_high": float(high[i]),
                "excludes_zero": bool(low[i] > 0 or high[i] < 0), "p": bootstrap_p_value(draws[:, i])}
            for i, n in enumerate(NAMES)}


def paired_deltas(a, b, precision: float, *, n_boot: int = 1000, confidence: float = 0.95, seed: int = 0) -> dict:
    """``a - b`` of the three statistics, with a stratified paired percentile bootstrap over users."""
    return summarize_draws(*delta_draws(a, b, precision, n_boot=n_boot, seed=seed), confidence)


def _seed_groups(done: dict, per_seed: bool) -> list[list[str]]:
    """Config ids grouped by the bench table's rule (same axes but ``seed``); one group per id with ``per_seed``."""
    from toolkit.bench.seeds import group_key

    groups: dict[str, list[str]] = {}
    for cid, r in done.items():
        key = None if per_seed else group_key(r)
        groups.setdefault(cid if key is None else key, []).append(cid)
    return list(groups.values())


def _group_row(members: list[str], done: dict, loaded: dict, baselines: dict, precision: float, *,
               n_boot: int, seed: int) -> dict:
    """One row for the seeds of a configuration: mean statistics, Δ from the per-fold Δs averaged over seeds."""
    from toolkit.bench.seeds import _SEED_IN_LABEL

    first = done[members[0]]
    stats = np.mean([_statistics(*loaded[c][1:4], precision) for c in members], axis=0)
    label = first.label if len(members) == 1 else _SEED_IN_LABEL.sub("", first.label) + f" | {len(members)} seeds"
    ids, y = loaded[members[0]][:2]
    row = {"config_id": members[0], "label": label, "is_baseline": first.is_baseline, "seeds": len(members),
           "users": int(len(y)), "positives": int(y.sum()), **dict(zip(NAMES, map(float, stats)))}
    pairs = [(c, baselines.get(c)) for c in members]
    if all(b in loaded and b != c and np.array_equal(loaded[b][0], loaded[c][0])
           and np.array_equal(loaded[b][4], loaded[c][4]) for c, b in pairs):
        found = [fold_deltas(loaded[c][1:], loaded[b][1:], precision) for c, b in pairs]
        row["baseline"] = pairs[0][1]
        row["delta"] = corrected_deltas(np.mean([p for p, _ in found], axis=0),
                                        np.mean([d for _, d in found], axis=0), loaded[members[0]][4])
    return row


def holm_marks(rows: list[dict], confidence: float = 0.95) -> None:
    """Holm-adjust every Δ p-value of the table together (rows and columns) and mark the survivors."""
    from toolkit.evaluation.metrics import holm_over

    with_delta = [r for r in rows if r.get("delta")]
    cells = {(i, name): r["delta"][name]["p"] for i, r in enumerate(with_delta) for name in NAMES}
    for (i, name), p in holm_over(cells).items():
        d = with_delta[i]["delta"][name]
        d["p_holm"] = p
        d["significant"] = bool(p is not None and p < 1 - confidence)


def imbalance_table(sweep_dir: str | Path, *, precision: float = 0.1, n_boot: int = 1000, seed: int = 0,
                    per_seed: bool = False) -> list[dict]:
    """One row per finished configuration (its seeds aggregated unless ``per_seed``) with Δ against its baseline.

    Stars are Holm-corrected over the whole table (rows and statistics), like the bench table's.
    """
    from toolkit.bench.comparison import gather

    if not 0 < precision <= 1:
        raise ToolkitError(f"--precision must be in (0, 1]. Got {precision} instead.")
    results, baselines = gather([str(sweep_dir)])
    done = {r.config_id: r for r in results if r.status == "done"}
    loaded = {cid: read_predictions(r) for cid, r in done.items()}
    rows = [_group_row(members, done, loaded, baselines, precision, n_boot=n_boot, seed=seed)
            for members in _seed_groups(done, per_seed)]
    holm_marks(rows)
    return rows


def _cell(d: dict) -> str:
    mark = " *" if d.get("significant") else ""
    return f"{d['mean']:+.3f} ({d['ci_low']:+.3f} .. {d['ci_high']:+.3f}){mark}"


def imbalance_markdown(rows: list[dict], precision: float) -> str:
    lines = [f"| configuration | recall at precision >= {precision:g} | Δ vs baseline | recall (own threshold) | "
             "Δ recall | precision (own threshold) | Δ precision |", "|---|---:|---|---:|---|---:|---|"]
    for r in rows:
        d = r.get("delta")
        # a label from a received ledger may hold newlines: it must stay inside its cell
        lines.append(f"| {for_markdown_cell(r['label'])}{' (baseline)' if r['is_baseline'] else ''} | {r['recall_at_precision']:.3f} | "
                     f"{_cell(d['recall_at_precision']) if d else '-'} | {r['recall']:.3f} | "
                     f"{_cell(d['recall']) if d else '-'} | {r['precision']:.3f} | {_cell(d['precision']) if d else '-'} |")
    lines += ["", "Δ: configuration - baseline on the same users and folds, with a 95% interval from the per-fold "
              "Δs (corrected resampled t, Nadeau-Bengio: the fitting's noise included; for a configuration run at "
              "several seeds the per-fold Δs are averaged over its seeds, and its numbers are the seeds' means); "
              "* marks a Δ whose two-sided p-value stays below 0.05 after Holm's correction over every row and "
              "column of this table."]
    return "\n".join(lines) + "\n"


def write_imbalance(sweep_dir: str | Path, *, precision: float = 0.1, n_boot: int = 1000,
                    per_seed: bool = False) -> tuple[Path, list[dict]]:
    rows = imbalance_table(sweep_dir, precision=precision, n_boot=n_boot, per_seed=per_seed)
    folder = Path(sweep_dir)  # written atomically: a link planted at either name is replaced, not followed
    atomic_write(folder / "imbalance.json", json.dumps({"precision": precision, "rows": rows}, indent=2) + "\n",
                 within=folder)
    atomic_write(folder / "imbalance.md", imbalance_markdown(rows, precision), within=folder)
    return folder / "imbalance.md", rows
