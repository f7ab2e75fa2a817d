"""What drives retention in a finished run: ``python -m toolkit explain RUN_DIR``.

Design, stated in the report too:

* Permutation importance needs users the model never saw, and the run's final
  model saw them all. So the spec's pipeline (featurizers and head, same
  parameters and seed) is refitted on a stratified training part (75% by
  default) and every importance is measured on the held-out rest.
* Terms come from a separate, readable linear model (:mod:`toolkit.analysis.terms`),
  fitted on the same training part, whatever the run's head is; topics are the
  ``eda`` NMF topics with the retention rate of their users.
* Calibration, ROC and PR use the run's own out-of-fold scores.

A time-to-return run gets the same design with Harrell's C in place of ROC-AUC
(:mod:`toolkit.analysis.explain_time_to_return`).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from toolkit.analysis.curves import calibration, curves_figures, operating_point, out_of_fold
from toolkit.analysis.figures import BELOW_ZERO, interval_bars
from toolkit.analysis.importance import block_permutation_importance, make_groups
from toolkit.analysis.report_html import write_pages
from toolkit.analysis.run_model import read_run_spec
from toolkit.analysis.terms import linear_terms, terms_lines
from toolkit.safe_io import atomic_write, make_folder
from toolkit.sanitize import for_markdown_cell as cell


def refit_on_part(spec, prepared, test_fraction: float):
    """Featurizers and head fitted on a stratified training part; returns what importance needs."""
    from sklearn.model_selection import train_test_split

    from toolkit.environment import make_deterministic
    from toolkit.experiment.featurize import FeatureStore, featurize
    from toolkit.experiment.fit import fit_head

    y = prepared.y
    train, test = train_test_split(np.arange(len(y)), test_size=test_fraction, stratify=y, random_state=spec.seed)
    make_deterministic(spec.seed)
    feats = featurize(spec, prepared.users, train, [test], FeatureStore(None))
    head = fit_head(spec, feats.train, y[train])[0]
    behavior = {n: list(f.columns_) for n, f in zip(spec.block_names(), feats.featurizers)
                if f.registry_name == "behavior"}
    return train, test, head, feats.others[0], behavior


def explain(run_dir: str | Path, out: str | Path | None = None, *, repeats: int = 5, test_fraction: float = 0.25,
            cache_dir: str | None = None) -> dict:
    """Write explain.json, explain.md, report.html and the PNGs into ``out`` (default ``RUN_DIR/explain``); return the JSON.

    What is explained, and how, is the run's task's (:meth:`toolkit.tasks.Task.explain`).
    """
    run_dir = Path(run_dir)
    spec = read_run_spec(run_dir)
    oof = out_of_fold(run_dir)  # fails early, before any training, when the folder lacks predictions
    folder = output_folder(run_dir, out)  # and so does a planted link, before any training
    return spec.build_task().explain(run_dir, spec, folder, oof=oof, repeats=repeats, test_fraction=test_fraction,
                                     cache_dir=cache_dir)


def explain_binary(run_dir: Path, spec, folder: Path, *, oof, repeats: int, test_fraction: float,
                   cache_dir: str | None) -> dict:
    """A yes/no run's explanation: block and behaviour importance on held-out users, terms, topics, curves."""
    from sklearn.metrics import roc_auc_score

    prepared = spec.build_task().prepare(spec, cache_dir=cache_dir)
    train, test, head, test_blocks, behavior = refit_on_part(spec, prepared, test_fraction)
    y_test = prepared.y[test]
    groups = make_groups(test_blocks, behavior)
    importance = block_permutation_importance(head, test_blocks, y_test, groups, n_repeats=repeats, seed=spec.seed)
    y, scores = oof["label"].to_numpy(), oof["score"].to_numpy()
    result = {
        "run": str(run_dir),
        "design": {"train_users": int(len(train)), "held_out_users": int(len(test)),
                   "held_out_positives": int(y_test.sum()), "repeats": repeats, "seed": spec.seed,
                   "held_out_roc_auc": float(roc_auc_score(y_test, head.predict(test_blocks)))},
        "importance": {"blocks": [r for r in importance if r["name"].startswith("block:")],
                       "behavior": [r for r in importance if r["name"].startswith("behavior:")]},
        "terms": linear_terms(prepared.users.iloc[train], prepared.y[train], seed=spec.seed),
        "topics": topics_by_retention(prepared.users, prepared.y, spec.seed),
        "calibration": calibration(y, scores),
        "operating_point": operating_point(y, oof["predicted"].to_numpy()),
    }
    return write_explain(folder, result, importance, y, scores, oof["predicted"].to_numpy())


def output_folder(run_dir: Path, out: str | Path | None) -> Path:
    """``out`` as named, or ``RUN_DIR/explain``, refused when a link there leads outside the run folder."""
    if out:
        return make_folder(out)
    return make_folder(Path(run_dir) / "explain", within=run_dir)


def write_explain(folder: Path, result: dict, importance: list[dict], y, scores, predicted) -> dict:
    """The PNGs, explain.json and explain.md, each written atomically into ``folder`` (links replaced, not followed)."""
    figures = curves_figures(y, scores, predicted, folder)
    figures["importance"] = interval_bars(importance, folder / "importance.png", xlabel="drop in held-out ROC-AUC",
                                          title="Permutation importance (held-out users)", note=BELOW_ZERO)
    result["figures"] = {k: p.name for k, p in figures.items()}
    atomic_write(folder / "explain.json", json.dumps(result, indent=2, ensure_ascii=False) + "\n", within=folder)
    write_pages(folder, explain_markdown(result), result["figures"].values(), "What drives retention")
    return result


def topics_by_retention(users, y, seed: int) -> dict:
    """NMF topics of all labelled users (as in ``eda``), ordered from most to least retained."""
    from toolkit.analysis.topics import nmf_topics, topic_retention

    topics = nmf_topics(users["text"].tolist(), seed=seed)
    rates = topic_retention(topics.pop("assignment"), y).set_index("topic")
    for topic in topics["topics"]:
        row = rates.loc[topic["id"]] if topic["id"] in rates.index else None
        topic.update({k: (float(row[k]) if row is not None else float("nan"))
                      for k in ("users", "rate", "ci_low", "ci_high")})
    topics["topics"].sort(key=lambda t: -t["rate"] if t["rate"] == t["rate"] else 0.0)
    return topics


def _topic_lines(topics: dict) -> list[str]:
    lines = [f"NMF topics of the users' text ({topics['n_topics']} topics, {topics['rule']}), most retained first; "
             "95% Wilson intervals.", "", "| topic | words | users | retention | 95% interval |", "|---:|---|---:|---:|---|"]
    for t in topics["topics"]:
        words = cell(", ".join(t["english"][:5] + t["chinese"][:5]))
        lines.append(f"| {cell(t['id'])} | {words} | {t['users']:.0f} | {t['rate']:.3f} | {t['ci_low']:.3f} .. {t['ci_high']:.3f} |")
    return lines


def _importance_table(rows: list[dict]) -> list[str]:
    lines = ["| feature | drop in ROC-AUC | interval over repeats |", "|---|---:|---|"]
    lines += [f"| {r['name'].split(':', 1)[1]} | {r['mean']:+.4f} | {r['ci_low']:+.4f} .. {r['ci_high']:+.4f} |"
              for r in rows]
    return lines


def explain_markdown(r: dict) -> str:
    d, cal, op = r["design"], r["calibration"], r["operating_point"]
    lines = [
        f"# What drives retention: {cell(r['run'])}", "",
        "## Permutation importance", "",
        f"The spec's pipeline was refitted on a stratified {d['train_users']}-user training part and scored on "
        f"{d['held_out_users']} held-out users ({d['held_out_positives']} retained; held-out ROC-AUC "
        f"{d['held_out_roc_auc']:.3f}). Each row is the drop in held-out ROC-AUC when that feature (or the whole "
        f"block) is shuffled across users; the interval is the 2.5th-97.5th percentile over {d['repeats']} "
        "shuffles (scikit-learn's permutation_importance).", "",
        "### Blocks", "", *_importance_table(r["importance"]["blocks"]), "",
        "### Behavior columns", "", *(_importance_table(r["importance"]["behavior"])
                                       if r["importance"]["behavior"] else ["(no behavior block in this spec)"]), "",
        "![importance](importance.png)", "",
        f"> Reading the chart: {BELOW_ZERO}; an interval that crosses zero: the feature is not shown to matter.", "",
        "## Terms associated with retention and churn", "", *terms_lines(r["terms"]), "",
        "## Topics and retention", "", *_topic_lines(r["topics"]), "",
        "## Calibration and the chosen threshold", "",
        f"From the run's out-of-fold scores. Brier score {cal['brier']:.4f} (a constant at the base rate scores "
        f"{cal['base_rate_brier']:.4f}). At the thresholds the folds chose: recall {op['recall']:.3f}, precision "
        f"{op['precision']:.3f}, false positive rate {op['fpr']:.3f}, {op['flagged']} users flagged.", "",
        "![reliability](reliability.png)", "", "![ROC and PR](roc_pr.png)", "",
    ]
    return "\n".join(lines)
