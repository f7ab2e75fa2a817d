"""Confound baselines: how far timing and exposure alone get on the same folds as the model.

On a crawl, "came back" can be predicted from *when* a user arrived (the crawler
collected more on some days than others, or a late first post lands closer to a
label window counted from sign-up) or from *how long* they were watched, without
anything about the user. Every run therefore fits, in each of the model's own
folds, a logistic regression on

* ``timing``: the user's day-0 date (days since the earliest) and the delay from
  day 0 to the first observed post (days; under ``day0: account_created`` the
  sign-up delay, under ``first_post`` the time of day of the first post);
* ``exposure``: days observed under the spec's observation window and
  log1p(posts in it);

and reports their ROC-AUC and PR-AUC with intervals, and the model's paired Δ
over each (same users, same folds; the interval is the corrected resampled t over
the per-fold Δs of :mod:`toolkit.evaluation.metrics`). When the Δ over ``timing``
has an interval that includes 0, timing alone may explain the label. A baseline
whose ROC-AUC is below 0.5 is marked ``below_chance``: a Δ over it says how badly
the baseline ranks, not what the model adds, so the terminal reads it against chance. Results written
before the timing baseline call it ``first_seen`` (the first post's time alone);
readers accept both names.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from toolkit.evaluation.metrics import fold_ids, paired_delta, summarize

CONFOUNDS = ("timing", "exposure")
#: the timing baseline's name in results written before it replaced the first-seen baseline
OLD_NAMES = {"timing": "first_seen"}


def confound_features(users: pd.DataFrame) -> dict[str, np.ndarray]:
    """The columns each baseline sees, one row per user."""
    first = pd.to_datetime(users["first_seen"])
    day0 = pd.to_datetime(users["day0"]) if "day0" in users else first.dt.normalize()
    days = ((day0 - day0.min()).dt.total_seconds() / 86400.0).to_numpy(dtype=float)
    delay = ((first - day0).dt.total_seconds() / 86400.0).to_numpy(dtype=float)
    exposure = np.column_stack([users["exposure_days"].to_numpy(dtype=float),
                                np.log1p(users["exposure_posts"].to_numpy(dtype=float))])
    return {"timing": np.column_stack([days, delay]), "exposure": exposure}


#: quantile bins of each timing column (day-0 date, delay to the first post) that make the strata
TIMING_BINS = (4, 2)


def timing_strata(users: pd.DataFrame, bins: tuple[int, ...] = TIMING_BINS) -> np.ndarray:
    """Each user's timing stratum: quantile bin of the day-0 date x quantile bin of the delay.

    The "adds to timing" permutation test shuffles labels only inside a stratum, so whatever the
    label owes to timing (as coarsely as these bins see it) survives every shuffle. Ties share a bin.
    """
    from scipy.stats import rankdata

    x = confound_features(users)["timing"]
    codes = np.zeros(len(x), dtype=int)
    for column, b in zip(x.T, bins):
        q = np.floor((rankdata(column) - 0.5) / max(len(column), 1) * b).astype(int)
        codes = codes * b + np.clip(q, 0, b - 1)
    return codes


def shuffle_within(rng: np.random.Generator, y: np.ndarray, strata: np.ndarray) -> np.ndarray:
    """``y`` permuted among the users of each stratum (every stratum keeps its count of positives)."""
    out = np.array(y, copy=True)
    for s in np.unique(strata):
        idx = np.flatnonzero(strata == s)
        out[idx] = out[idx][rng.permutation(len(idx))]
    return out


def baseline_entry(result_baselines: dict, name: str) -> dict | None:
    """One baseline of a ``metrics.json`` ``baselines`` block, under its name or its older one."""
    found = result_baselines.get(name)
    return found if found is not None else result_baselines.get(OLD_NAMES.get(name, ""))


def out_of_fold_scores(x: np.ndarray, y: np.ndarray, folds, repeats: int, seed: int) -> np.ndarray:
    """Logistic-regression scores of the test users of every fold; nan where a user was not tested."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    scores = np.full((repeats, len(y)), np.nan)
    for fold in folds:
        # balanced weights: with rare positives an unweighted fit can score everyone alike
        model = make_pipeline(StandardScaler(), LogisticRegression(class_weight="balanced", random_state=seed))
        model.fit(x[fold.train], y[fold.train])
        scores[fold.repeat, fold.test] = model.predict_proba(x[fold.test])[:, 1]
    return scores


def _interval(summary: dict) -> dict:
    return {k: summary[k] for k in ("mean", "ci_low", "ci_high")}


def baselines(users: pd.DataFrame, y: np.ndarray, folds, model_scores: np.ndarray, scored: np.ndarray,
              evaluation, seed: int) -> dict:
    """``metrics.json`` ``baselines``: each confound's ROC-AUC, PR-AUC and the model's paired Δ over it.

    Args:
        model_scores: the model's out-of-fold scores, shape (repeats, users).
        scored: users with a score in every repeat (the test part under a split).
    """
    y_scored = y[scored]
    fold_of = fold_ids(folds, len(y), model_scores.shape[0], scored)
    out = {}
    for name, x in confound_features(users).items():
        s = out_of_fold_scores(x, y, folds, model_scores.shape[0], seed)[:, scored]
        summary = summarize(y_scored, s, (s >= 0.5).astype(int), n_boot=evaluation.bootstrap,
                            confidence=evaluation.confidence, seed=seed, fold_of=fold_of)
        entry = {"roc_auc": _interval(summary["roc_auc"]), "pr_auc": _interval(summary["pr_auc"])}
        # a Δ over a baseline that ranks worse than chance measures the baseline's failure, not the model
        entry["below_chance"] = bool(summary["roc_auc"]["mean"] < 0.5)
        for metric in ("roc_auc", "pr_auc"):
            d = paired_delta(y_scored, model_scores[:, scored], s, metric=metric, n_boot=evaluation.bootstrap,
                             confidence=evaluation.confidence, seed=seed, fold_of=fold_of)
            entry[f"delta_{metric}"] = {k: d[k] for k in ("mean", "ci_low", "ci_high", "excludes_zero", "p_value")
                                        if k in d}
        out[name] = entry
    return out


def calendar_warning(result_baselines: dict) -> str | None:
    """One line when the model's ROC-AUC is not clearly above the timing baseline's."""
    d = (baseline_entry(result_baselines, "timing") or {}).get("delta_roc_auc")
    if d is None or (d["ci_low"] > 0):
        return None
    return (f"warning: the model's ROC-AUC is not clearly above the timing baseline's (day-0 date and delay to "
            f"the first observed post; Δ {d['mean']:+.3f}, interval [{d['ci_low']:+.3f}, {d['ci_high']:+.3f}] "
            "includes 0): timing alone may explain the label, and the model may be learning the calendar.")
