"""``explain`` for a time-to-return run: the binary explain's design with Harrell's C in place of ROC-AUC.

* Permutation importance: the spec's pipeline (featurizers and head, same parameters and seed)
  is refitted on a training part stratified by "return seen" (75% by default); each behavior
  column and each block is shuffled across the held-out rest, and its importance is the drop in
  their C-index (:func:`toolkit.evaluation.survival.c_index` on the head's ``predict_risk``).
* Direction: for each behavior column, the mean change in the held-out users' log cumulative
  hazard of a return by the end of follow-up when that column alone is raised by one of its
  standard deviations (for ``cox`` exactly the coefficient times that SD, in the head's scale;
  for ``hazard`` the network's answer, averaged over users).
* Terms come from a penalised Cox model on TF-IDF unigrams fitted on the same training part;
  topics are the ``eda`` NMF topics with the Kaplan-Meier chance of a return by the last horizon.
* Calibration over time is the run's own (``metrics.json`` → ``calibration_over_time``, from its
  out-of-fold predictions, :mod:`toolkit.evaluation.calibration_over_time`), repeated in the report
  rather than computed again; runs written before it existed show none.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from toolkit.analysis.figures import BELOW_ZERO, interval_bars
from toolkit.analysis.importance import make_groups, permutation_drops
from toolkit.evaluation.kaplan_meier import kaplan_meier
from toolkit.errors import ToolkitError
from toolkit.evaluation.survival import c_index
from toolkit.features.blocks import Block
from toolkit.safe_io import atomic_write

METRIC = "C-index drop"


def refit_time_to_return_on_part(spec, prepared, test_fraction: float):
    """Featurizers and head fitted on a training part stratified by "return seen"; what importance needs."""
    from sklearn.model_selection import train_test_split

    from toolkit.environment import make_deterministic
    from toolkit.evaluation.folds import carve_validation
    from toolkit.experiment.featurize import FeatureStore, featurize
    from toolkit.heads.hazard_loss import pack_targets

    event = prepared.label.event
    train, test = train_test_split(np.arange(len(event)), test_size=test_fraction, stratify=event,
                                   random_state=spec.seed)
    make_deterministic(spec.seed)
    feats = featurize(spec, prepared.users, train, [test], FeatureStore(None))
    targets = pack_targets(prepared.label.rows(train))
    fit, val = carve_validation(event[train].astype(int), spec.training.validation_fraction, spec.seed)
    head = spec.build_head().fit([b.rows(fit) for b in feats.train], targets[fit],
                                 validation=([b.rows(val) for b in feats.train], targets[val]),
                                 training=spec.training, seed=spec.seed)
    behavior = {n: list(f.columns_) for n, f in zip(spec.block_names(), feats.featurizers)
                if f.registry_name == "behavior"}
    return train, test, head, feats.others[0], behavior


def log_cumulative_hazard(head, blocks) -> np.ndarray:
    """``log(-log S)`` at the end of follow-up, a scale that does not flatten near a chance of 0 or 1.

    For ``cox`` it is ``x . beta`` plus a constant, taken from ``predict_risk`` itself: ``S`` rounds
    to 0 or 1 for users far from the middle, and the difference would be lost there.
    """
    from toolkit.heads.cox import CoxHead

    if isinstance(head, CoxHead):
        return np.asarray(head.predict_risk(blocks), dtype=float)
    last = np.asarray(head.predict_survival(blocks), dtype=float)[:, -1]
    tiny = np.finfo(float).tiny
    return np.log(-np.log(np.clip(last, tiny, 1 - np.finfo(float).eps)))


def risk_directions(head, blocks, behavior: dict[str, list[str]]) -> dict[str, float]:
    """Per behavior column: the mean change in :func:`log_cumulative_hazard` when it alone rises by one SD."""
    base = log_cumulative_hazard(head, blocks)
    out = {}
    for i, block in enumerate(blocks):
        for j, column in enumerate(behavior.get(block.name, [])):
            data = np.array(block.data, dtype=float, copy=True)
            data[:, j] += data[:, j].std()
            moved = [Block(block.name, block.kind, data) if k == i else b for k, b in enumerate(blocks)]
            out[column] = float(np.mean(log_cumulative_hazard(head, moved) - base))
    return out


def held_out_c_index(head, blocks, held, run_dir) -> float:
    """The refitted head's C-index on the held-out users; an error when they hold no comparable pair."""
    c = float(c_index(held.time, held.event, head.predict_risk(blocks)))
    if c != c:  # no comparable pair: nothing a shuffle could lower
        raise ToolkitError(f"{run_dir}: the {len(held.time)} held-out users hold no pair a C-index can compare "
                           f"({int(held.event.sum())} returns seen); explain needs more users or returns in the "
                           "run's data.")
    return c


def explain_time_to_return(run_dir: Path, spec, folder: Path, *, repeats: int, test_fraction: float,
                           cache_dir: str | None) -> dict:
    """Write explain.json, explain.md and the PNGs into ``folder`` for a time-to-return run; return the JSON."""
    from toolkit.analysis.terms import cox_terms
    from toolkit.experiment.record import RunRecord
    from toolkit.heads.hazard_loss import pack_targets

    prepared = spec.build_task().prepare(spec, cache_dir=cache_dir)
    train, test, head, test_blocks, behavior = refit_time_to_return_on_part(spec, prepared, test_fraction)
    held = prepared.label.rows(test)
    t, e = held.time, held.event
    held_c = held_out_c_index(head, test_blocks, held, run_dir)
    importance = permutation_drops(lambda blocks: c_index(t, e, head.predict_risk(blocks)), test_blocks,
                                   make_groups(test_blocks, behavior), n_repeats=repeats, seed=spec.seed)
    directions = risk_directions(head, test_blocks, behavior)
    for row in importance:
        if row["name"].startswith("behavior:"):
            row["log_hazard_change_per_sd"] = directions[row["name"].split(":", 1)[1]]
    horizons = spec.label.time_to_return.horizon_days()
    result = {
        "run": str(run_dir), "task": spec.build_task().registry_name, "metric": METRIC, "head": spec.head[0],
        "design": {"train_users": int(len(train)), "held_out_users": int(len(test)),
                   "held_out_returns": int(e.sum()), "repeats": repeats, "seed": spec.seed,
                   "held_out_c_index": held_c},
        "importance": {"blocks": [r for r in importance if r["name"].startswith("block:")],
                       "behavior": [r for r in importance if r["name"].startswith("behavior:")]},
        "terms": cox_terms(prepared.users.iloc[train], pack_targets(prepared.label.rows(train))),
        "topics": topics_by_return(prepared.users, prepared.label, horizons[-1], spec.seed),
        "calibration": RunRecord.open(run_dir).calibration_over_time,
    }
    return write_time_to_return_explain(folder, result, importance)


def topics_by_return(users, label, horizon: int, seed: int) -> dict:
    """NMF topics (as in ``eda``), each with the Kaplan-Meier chance of a return by ``horizon`` days."""
    from toolkit.analysis.topics import nmf_topics

    topics = nmf_topics(users["text"].tolist(), seed=seed)
    assignment = topics.pop("assignment")
    last = label.horizon_bin(horizon)
    for topic in topics["topics"]:
        mine = assignment == topic["id"]
        topic.update({"users": int(mine.sum()), "returns": int(label.event[mine].sum()),
                      **returned_by(label.time[mine], label.event[mine], last)})
    topics["horizon_days"] = horizon
    topics["topics"].sort(key=lambda t: -t["rate"] if t["rate"] == t["rate"] else 0.0)
    return topics


def returned_by(time, event, last_bin: int) -> dict:
    """``1 - S(last_bin)`` from Kaplan-Meier, with its Greenwood (log-minus-log) 95% band; nan without users."""
    if not len(time):
        return {"rate": float("nan"), "ci_low": float("nan"), "ci_high": float("nan")}
    curve = kaplan_meier(time, event)
    k = int(np.searchsorted(curve.time, last_bin, side="right")) - 1
    if k < 0:
        return {"rate": 0.0, "ci_low": 0.0, "ci_high": 0.0}
    return {"rate": float(1 - curve.survival[k]), "ci_low": float(1 - curve.ci_high[k]),
            "ci_high": float(1 - curve.ci_low[k])}


def write_time_to_return_explain(folder: Path, result: dict, importance: list[dict]) -> dict:
    """The PNGs, explain.json and explain.md, each written atomically into ``folder``."""
    from toolkit.analysis.explain_time_to_return_report import time_to_return_markdown

    from toolkit.analysis.report_html import write_pages

    figures = {"importance": interval_bars(importance, folder / "importance.png", xlabel="drop in held-out C-index",
                                           title="Permutation importance (held-out users)", note=BELOW_ZERO)}
    result["figures"] = {k: p.name for k, p in figures.items()}
    atomic_write(folder / "explain.json", json.dumps(result, indent=2, ensure_ascii=False) + "\n", within=folder)
    write_pages(folder, time_to_return_markdown(result), result["figures"].values(), "What drives returning")
    return result
