"""Calibration over time: predicted versus observed chance of returning, by out-of-fold risk group.

A C-index says whether the model *ranks* users by how soon they return; it says nothing about
whether a predicted "30% return by day 14" means 30%. Here the users are split into ``groups``
groups of near-equal size by their out-of-fold risk alone (no label is used to form them;
tied risks share a group, so a group may be larger, or empty and dropped), and in each group,
at the end of every time bin:

* **predicted**: the group's mean out-of-fold ``1 - S_i(t)``, the chance of a return by ``t``;
* **observed**: ``1 - KM(t)``, the Kaplan-Meier estimate of returning by ``t`` among the group's
  users, with its log-minus-log Greenwood band. Given the label (a run passes it), the
  Kaplan-Meier is built on the risk sets the model was fitted on (:mod:`toolkit.evaluation.logrank`,
  :mod:`toolkit.heads.cox`, :mod:`toolkit.heads.hazard_loss`): a user is at risk in a bin they were
  seen through or returned in, so a bin with an uncovered day of the crawl is out of the user's
  risk set, and a return first seen after a gap counts in the bin it was seen in. Compared with
  one time per user (every bin up to it survived, gaps included), which the predictions were not
  fitted on, the masked risk sets are smaller where the crawl had gaps, and the observed shares
  returned higher: on a crawl with gap days the unmasked curve read the returns several times too
  low against predictions fitted with the gaps masked. Without the label (arrays only), one time
  per user: the ordinary Kaplan-Meier, the same where there are no gaps.

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
from toolkit.evaluation.kaplan_meier import check_survival_data, curve_from_counts

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


def _km_at(events: np.ndarray, at_risk: np.ndarray, confidence: float) -> tuple[np.ndarray, ...]:
    """1 - KM at each bin from one group's returns and users at risk per bin (K,), its band (flipped:
    1 - high, 1 - low), Greenwood's variance and the returns seen by then."""
    bins = np.arange(len(events))
    curve = curve_from_counts(bins, events, np.zeros_like(events), at_risk, confidence=confidence)
    d, n = curve.events, curve.at_risk
    log_var = np.cumsum(np.divide(d, n * (n - d), out=np.zeros_like(d), where=(d > 0) & (n > d)))
    surv = curve.survival
    return (1 - surv, 1 - curve.ci_high, 1 - curve.ci_low, surv**2 * log_var,
            np.cumsum(events).round().astype(int))


def _counts(t: np.ndarray, e: np.ndarray, which: np.ndarray, bins: int, label) -> tuple[np.ndarray, np.ndarray]:
    """Per group present (rows, in ``np.unique(which)`` order) and bin: the returns seen and the users at
    risk, from the label's masked risk sets, or from one time per user when there is no label."""
    if label is not None:
        from toolkit.evaluation.logrank import risk_sets

        if len(label.event_last) != len(t) or label.at_risk.shape[1] != bins:
            raise ToolkitError(f"the label must describe the {len(t)} users and {bins} bins of the predictions. "
                               f"Got {len(label.event_last)} users and {label.at_risk.shape[1]} bins.")
        sets = risk_sets(label, which)
        return sets.events, sets.at_risk
    k = np.arange(bins)[None, :]
    member = (np.unique(which)[:, None] == which[None, :]).astype(float)  # (G, n)
    return member @ (e[:, None] & (t[:, None] == k)), member @ (t[:, None] >= k)


def group_curves(time, event, risk, surv, *, groups: int = 3, confidence: float = 0.95, label=None) -> GroupCurves:
    """Predicted and observed chance of a return by the end of every bin, per risk group.

    Args:
        time, event: each user's bin (a seen return's, or the last seen through) and whether it returned.
        risk: out-of-fold risk, (n,) or (R, n).
        surv: out-of-fold survival at the end of each of the K bins, (n, K) or (R, n, K).
        groups: how many risk groups (3: tertiles).
        confidence: of the Kaplan-Meier band.
        label: the users' :class:`~toolkit.data.time_to_return.TimeToReturn`: the Kaplan-Meier then
            uses its masked risk sets (uncovered bins out), as the model's fit does; None: one time
            per user.
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
    events, at_risk = _counts(t, e, which, s.shape[1], label)
    rows = []
    for i, g in enumerate(np.unique(which)):  # empty groups (many tied risks) are left out
        mine = which == g
        rows.append((int(mine.sum()), (r[mine].min(), r[mine].max()), (1 - s[mine]).mean(axis=0),
                     *_km_at(events[i].astype(float), at_risk[i].astype(float), confidence)))
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
                          confidence: float = 0.95, label=None) -> dict:
    """``metrics.json``'s ``calibration_over_time`` (:func:`curves_record` of :func:`group_curves`).

    Args:
        horizons: ``{days: bin}``, each horizon's name in days and the bin it ends.
        The rest as :func:`group_curves`.
    """
    curves = group_curves(time, event, risk, surv, groups=groups, confidence=confidence, label=label)
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
