"""The numbers of the EDA report, each a small function of the posts, the users table and the label.

Intervals: retention rates use the Wilson score interval (scipy's
``binomtest(...).proportion_ci(method="wilson")``), which stays inside [0, 1]
for small groups; correlations use the Fisher z interval of Pearson's r
(scipy's ``pearsonr(...).confidence_interval``); with a 0/1 label Pearson's r is
the point-biserial correlation. The Fisher interval assumes a roughly normal
pair of variables, which a label with a handful of positives is not, so each
correlation also carries a label-permutation p-value (``p_perm``: the share of
``PERMUTATIONS`` label shuffles whose |r| reaches the observed one, counting
the observed labels as one shuffle), exact at any size.

**Too few positives to read.** Below ``MIN_POSITIVES`` labelled users in the
smaller class (positives, or negatives when they are rarer), every comparison of
retention across users rests on those few: a group's 0/318 or a correlation of
+0.23 says where the handful fell, not what drives retention. Such rows carry
``readable: False``, and the report prints "too few positives to read" in place
of their intervals (the counts stay).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from toolkit.data.schema import BEHAVIOR_COLUMNS, COUNT_COLUMNS, LOWER_BOUND_COLUMNS


#: fewer labelled users than this in the smaller class: correlations and retention by group are not read
MIN_POSITIVES = 10
#: label shuffles behind each correlation's permutation p-value
PERMUTATIONS = 999
TOO_FEW = "too few positives to read"


def readable(y: np.ndarray) -> bool:
    """True when both classes hold at least ``MIN_POSITIVES`` labelled users."""
    y = np.asarray(y).astype(int)
    return int(min(y.sum(), len(y) - y.sum())) >= MIN_POSITIVES


def wilson(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    from scipy.stats import binomtest

    if n == 0:
        return float("nan"), float("nan")
    ci = binomtest(int(k), int(n)).proportion_ci(confidence_level=confidence, method="wilson")
    return float(ci.low), float(ci.high)


def rate_table(groups: pd.Series, y: np.ndarray) -> pd.DataFrame:
    """Per group: ``users, retained, rate, ci_low, ci_high`` (groups sorted)."""
    frame = pd.DataFrame({"group": groups.to_numpy(), "y": np.asarray(y).astype(int)})
    out = frame.groupby("group")["y"].agg(users="size", retained="sum").sort_index()
    out["rate"] = out["retained"] / out["users"]
    cis = [wilson(k, n) for k, n in zip(out["retained"], out["users"])]
    out["ci_low"], out["ci_high"] = [c[0] for c in cis], [c[1] for c in cis]
    out["readable"] = readable(y)
    return out.rename_axis(groups.name or "group").reset_index()


def correlations(users: pd.DataFrame, y: np.ndarray, seed: int = 0) -> pd.DataFrame:
    """Pearson (point-biserial) r of each behavior column with retention: 95% Fisher interval, permutation p."""
    from scipy.stats import pearsonr

    y = np.asarray(y).astype(float)
    ok = readable(y)
    rows = []
    for column in BEHAVIOR_COLUMNS:
        x = users[column].to_numpy(dtype=float)
        if np.nanstd(x) == 0 or len(np.unique(y)) < 2 or not np.isfinite(x).all():
            rows.append({"column": column, "r": float("nan"), "ci_low": float("nan"), "ci_high": float("nan"),
                         "p_perm": float("nan"), "readable": ok})
            continue
        result = pearsonr(x, y)
        ci = result.confidence_interval(0.95)
        rows.append({"column": column, "r": float(result.statistic), "ci_low": float(ci.low),
                     "ci_high": float(ci.high), "p_perm": permutation_p(x, y, seed), "readable": ok})
    return pd.DataFrame(rows).sort_values("r", key=lambda s: -s.abs(), na_position="last").reset_index(drop=True)


def permutation_p(x: np.ndarray, y: np.ndarray, seed: int = 0, n: int = PERMUTATIONS) -> float:
    """Two-sided p of Pearson's r against ``n`` shuffles of ``y``: (1 + shuffles with |r| >= observed) / (1 + n)."""
    rng = np.random.default_rng(seed)
    xs = (x - x.mean()) / x.std()
    yc = y - y.mean()
    observed = abs(float(xs @ yc))
    hits, done = 0, 0
    while done < n:  # in batches, so a large table never holds n shuffled copies of the label at once
        batch = min(200, n - done)
        shuffled = np.stack([rng.permutation(yc) for _ in range(batch)], axis=1)
        hits += int((np.abs(xs @ shuffled) >= observed - 1e-12).sum())
        done += batch
    return (1 + hits) / (1 + n)


def first_seen_auc(users: pd.DataFrame, y: np.ndarray, seed: int = 0) -> dict:
    """ROC-AUC of the first-seen time alone as a score (later = higher), with a bootstrap interval.

    ``predicts`` is True when the interval excludes 0.5: the label then depends on
    when a user arrived, which a model can learn instead of behavior.
    """
    from toolkit.evaluation.metrics import summarize

    score = pd.to_datetime(users["first_seen"]).astype("int64").to_numpy(dtype=float)
    score = (score - score.min()) / max(score.max() - score.min(), 1.0)
    if len(np.unique(y)) < 2:
        return {"auc": float("nan"), "ci_low": float("nan"), "ci_high": float("nan"), "predicts": False,
                "readable": False}
    m = summarize(y, score[None, :], (score >= 0.5)[None, :].astype(int), n_boot=200, seed=seed)["roc_auc"]
    return {"auc": m["mean"], "ci_low": m["ci_low"], "ci_high": m["ci_high"],
            "predicts": bool(m["ci_low"] > 0.5 or m["ci_high"] < 0.5), "readable": readable(y)}


def lower_bound_shares(posts: pd.DataFrame) -> dict[str, float]:
    """Share of posts whose displayed count was a lower bound (``1千+``), per count column."""
    return {col: float(posts[flag].mean()) if len(posts) else 0.0 for col, flag in LOWER_BOUND_COLUMNS.items()}


def post_mix(posts: pd.DataFrame) -> dict:
    """Posting hour counts (0-23) and post type shares over all posts."""
    hours = posts["create_time"].dt.hour.value_counts().reindex(range(24), fill_value=0)
    types = posts["post_type"].fillna("").replace("", "unknown").value_counts(normalize=True)
    return {"hours": [int(v) for v in hours], "types": {str(k): float(v) for k, v in types.items()}}


def count_summary(posts: pd.DataFrame) -> dict[str, dict]:
    """Median and 90th percentile of each engagement count per post."""
    return {c: {"median": float(posts[c].median()), "p90": float(posts[c].quantile(0.9)), "max": float(posts[c].max())}
            for c in COUNT_COLUMNS}
