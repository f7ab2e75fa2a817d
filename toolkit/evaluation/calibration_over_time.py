"""Calibration over time: predicted versus observed chance of returning, by out-of-fold risk group.

A C-index says whether the model *ranks* users by how soon they return; it says nothing about
whether a predicted "30% return by day 14" means 30%. Here the users are split into ``groups``
groups of near-equal size by their out-of-fold risk alone (no label is used to form them;
tied risks share a group, so a group may be larger, or empty and dropped), and in each group,
at the end of every time bin:

* **predicted**: the group's mean out-of-fold ``1 - S_i(t)``, the chance of a return by ``t``;
* **observed**: ``1 - KM(t)``, the Kaplan-Meier estimate of returning by ``t`` among the group's
  users (:mod:`toolkit.evaluation.kaplan_meier`), with its log-minus-log Greenwood band. The
  users' times are the metrics' (:mod:`toolkit.data.time_to_return`): a return at the bin it was
  seen in (an interval-censored one too, so where the crawl had gaps the observed curve can lag
  the predicted one by the gap), a censored user at the last bin seen through (masked bins
  before it are kept in the risk set, as the metrics keep them).

With repeats, a user's risk and predicted curve are their means over repeats.

One summary per horizon, two numbers:

* ``mean_abs_gap``: the users-weighted mean of ``|observed - predicted|`` over groups (the
  binary run's expected calibration error, with groups for bins); in probability units.
* ``chi2``: the Greenwood-Nam-D'Agostino test (Demler, Paynter and Cook, 2015), ``sum_g
  (observed_g - predicted_g)^2 / Var_Greenwood(KM_g)`` over the groups with at least
  :data:`MIN_RETURNS` returns seen by the horizon (the variance is unreliable below that); its
  ``df`` is the number of groups tested, not one less: out-of-fold predictions were not fitted
  to these users, as in an external validation. A small ``p_value`` says the predicted and
  observed shares differ by more than the Kaplan-Meier estimates' own noise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from toolkit.errors import ToolkitError
from toolkit.evaluation.kaplan_meier import check_survival_data, kaplan_meier

#: a group needs this many returns seen by a horizon to enter that horizon's chi-square
MIN_RETURNS = 5


@dataclass
class GroupCurves:
    """Per risk group (rows, lowest risk first) and time bin (columns)."""

    users: np.ndarray  # (G,)
    risk_range: np.ndarray  # (G, 2) lowest and highest risk in the group
    predicted: np.ndarray  # (G, K) mean predicted chance of a return by the end of the bin
    observed: np.ndarray  # (G, K) 1 - Kaplan-Meier
    observed_low: np.ndarray  # (G, K)
    observed_high: np.ndarray  # (G, K)
    variance: np.ndarray  # (G, K) Greenwood variance of the Kaplan-Meier estimate
    returns: np.ndarray  # (G, K) returns seen by the end of the bin


def risk_groups(risk, groups: int = 3) -> np.ndarray:
    """Each user's group, 0 (lowest risk) to ``groups - 1``, from risk quantiles; tied risks share one."""
    r = np.asarray(risk, dtype=float)
    if r.ndim != 1 or not np.isfinite(r).all():
        raise ToolkitError(f"risk must be a finite 1-D array. Got shape {r.shape}.")
    if isinstance(groups, bool) or not isinstance(groups, (int, np.integer)) or groups < 2:
        raise ToolkitError(f"groups must be a whole number >= 2. Got {groups!r} instead.")
    if len(r) < groups:
        raise ToolkitError(f"{len(r)} users cannot fill {groups} risk groups.")
    rank = stats.rankdata(r, method="min") - 1  # ties take their lowest rank: one group for all of them
    return (rank * groups // len(r)).astype(int)


def _mean_over_repeats(values, n: int, tail: tuple[int, ...], name: str) -> np.ndarray:
    v = np.asarray(values, dtype=float)
    if v.shape == (n, *tail):
        return v
    if v.ndim != 2 + len(tail) or v.shape[1:] != (n, *tail) or not len(v):
        raise ToolkitError(f"{name} must have shape {(n, *tail)} or (repeats, {n}, ...). Got shape {v.shape}.")
    return v.mean(axis=0)


def _km_at(time, event, bins: np.ndarray, confidence: float) -> tuple[np.ndarray, ...]:
    """1 - KM at each bin, its band (flipped: 1 - high, 1 - low), Greenwood's variance and returns by then."""
    curve = kaplan_meier(time, event, confidence=confidence)
    d, n = curve.events, curve.at_risk
    log_var = np.cumsum(np.divide(d, n * (n - d), out=np.zeros_like(d), where=(d > 0) & (n > d)))
    idx = np.searchsorted(curve.time, bins, side="right") - 1  # -1: before the first time, S = 1

    def at(values, before):
        return np.where(idx >= 0, values[np.maximum(idx, 0)], before)

    surv = at(curve.survival, 1.0)
    returns = np.array([int(np.sum(event & (time <= b))) for b in bins])
    return 1 - surv, 1 - at(curve.ci_high, 1.0), 1 - at(curve.ci_low, 1.0), surv**2 * at(log_var, 0.0), returns


def group_curves(time, event, risk, surv, *, groups: int = 3, confidence: float = 0.95) -> GroupCurves:
    """Predicted and observed chance of a return by the end of every bin, per risk group.

    Args:
        time, event: each user's bin (a seen return's, or the last seen through) and whether it returned.
        risk: out-of-fold risk, (n,) or (R, n).
        surv: out-of-fold survival at the end of each of the K bins, (n, K) or (R, n, K).
        groups: how many risk groups (3: tertiles).
        confidence: of the Kaplan-Meier band.
    """
    t, e = check_survival_data(time, event)
    s = np.asarray(surv, dtype=float)
    if s.ndim not in (2, 3):
        raise ToolkitError(f"surv must have shape (n, bins) or (repeats, n, bins). Got shape {s.shape}.")
    s = _mean_over_repeats(s, len(t), (s.shape[-1],), "surv")
    r = _mean_over_repeats(risk, len(t), (), "risk")
    if not (np.isfinite(s).all() and np.isfinite(r).all()):
        raise ToolkitError("risk and surv must be finite.")
    which = risk_groups(r, groups)
    bins = np.arange(s.shape[1], dtype=float)
    rows = []
    for g in np.unique(which):  # empty groups (many tied risks) are left out
        mine = which == g
        rows.append((int(mine.sum()), (r[mine].min(), r[mine].max()), (1 - s[mine]).mean(axis=0),
                     *_km_at(t[mine], e[mine], bins, confidence)))
    users, ranges, pred, obs, low, high, var, ret = (np.array(col) for col in zip(*rows))
    return GroupCurves(users, ranges, pred, obs, low, high, var, ret)


def horizon_summary(curves: GroupCurves, k: int) -> dict:
    """``{"mean_abs_gap", "chi2", "df", "p_value"}`` at bin ``k`` (chi2 and p None when no group qualifies)."""
    gap = np.abs(curves.observed[:, k] - curves.predicted[:, k])
    tested = (curves.returns[:, k] >= MIN_RETURNS) & (curves.variance[:, k] > 0)
    out = {"mean_abs_gap": float(np.average(gap, weights=curves.users)), "chi2": None, "df": int(tested.sum()),
           "p_value": None, "min_returns": MIN_RETURNS}
    if tested.any():
        chi2 = float(np.sum(gap[tested] ** 2 / curves.variance[tested, k]))
        out.update(chi2=chi2, p_value=float(stats.chi2.sf(chi2, int(tested.sum()))))
    return out


def calibration_over_time(time, event, risk, surv, horizons: dict, *, groups: int = 3,
                          confidence: float = 0.95) -> dict:
    """``metrics.json``'s ``calibration_over_time`` (:func:`curves_record` of :func:`group_curves`).

    Args:
        horizons: ``{days: bin}``, each horizon's name in days and the bin it ends.
        The rest as :func:`group_curves`.
    """
    curves = group_curves(time, event, risk, surv, groups=groups, confidence=confidence)
    return curves_record(curves, horizons, confidence=confidence)


def curves_record(c: GroupCurves, horizons: dict, *, confidence: float) -> dict:
    """The curves at each horizon as JSON.

    Returns:
        ``{"groups", "grouped_by", "confidence", "horizons_days", "by_group": [{"group", "users",
        "risk_low", "risk_high", "at": {"<days>": {"predicted", "observed", "observed_low",
        "observed_high", "users", "returns"}}}], "summary": {"<days>": horizon_summary}}``.
    """
    by_group = []
    for g in range(len(c.users)):
        cells = {f"{days:g}": {"predicted": float(c.predicted[g, k]), "observed": float(c.observed[g, k]),
                               "observed_low": float(c.observed_low[g, k]),
                               "observed_high": float(c.observed_high[g, k]), "users": int(c.users[g]),
                               "returns": int(c.returns[g, k])}
                 for days, k in horizons.items()}
        by_group.append({"group": g + 1, "users": int(c.users[g]), "risk_low": float(c.risk_range[g, 0]),
                         "risk_high": float(c.risk_range[g, 1]), "at": cells})
    return {"groups": len(c.users), "grouped_by": "out-of-fold risk (mean over repeats), lowest first",
            "confidence": confidence, "horizons_days": [int(d) if float(d).is_integer() else float(d) for d in horizons],
            "by_group": by_group, "summary": {f"{days:g}": horizon_summary(c, k) for days, k in horizons.items()}}
