"""Kaplan-Meier curves with Greenwood bands, the censoring distribution, and the log-rank test.

Times are numbers (days or day bins); ``event`` is True where the return was seen at that
time and False where the user was censored then. At a time shared by events and
censorings the events come first: a user censored at ``t`` was still at risk at ``t``.

* Survival: ``S(t) = prod_{u <= t} (1 - d_u / n_u)`` over the distinct times ``u``, with
  ``d_u`` events and ``n_u`` users still followed at ``u`` (Kaplan and Meier, 1958).
* Greenwood's variance of ``log S(t)`` is ``sum_{u <= t} d_u / (n_u (n_u - d_u))``; the
  band is the log-minus-log one, ``S(t) ** exp(+-z sigma / log S(t))``, which stays
  inside [0, 1] (Kalbfleisch and Prentice, 2002, section 1.3).
* Censoring: ``G(t)``, the Kaplan-Meier estimate of "still followed at t", with the roles
  of events and censorings swapped; users whose return is seen at ``u`` leave the risk
  set before the censorings at ``u`` count. The survival metrics weight by ``1 / G``.
* Log-rank (Mantel, 1966): at each event time, observed minus expected events per group
  under "same hazard in every group", with the hypergeometric covariance; the statistic
  is chi-squared with ``groups - 1`` degrees of freedom.

Every estimator takes optional per-user frequency weights (the bootstrap's counts); the
censoring distribution takes a whole block of weight vectors at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from toolkit.errors import ToolkitError


@dataclass
class Curve:
    """A Kaplan-Meier curve: one row per distinct time in the data."""

    time: np.ndarray
    survival: np.ndarray
    at_risk: np.ndarray
    events: np.ndarray
    censored: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray

    def at(self, t) -> np.ndarray:
        """``S(t)`` at arbitrary times (a step function: 1 before the first time)."""
        return _step(self.time, self.survival, np.asarray(t, dtype=float))


def check_survival_data(time, event) -> tuple[np.ndarray, np.ndarray]:
    """``(time, event)`` as float and bool arrays of one length, or a clear error."""
    t = np.asarray(time, dtype=float)
    e = np.asarray(event)
    if t.ndim != 1 or e.shape != t.shape:
        raise ToolkitError(f"time and event must be 1-D arrays of one length. Got shapes {t.shape} and {e.shape}.")
    if not np.isfinite(t).all():
        raise ToolkitError("time must be finite.")
    if e.dtype != bool and not np.isin(np.unique(e), (0, 1)).all():
        raise ToolkitError("event must hold only 0/1 or True/False.")
    return t, e.astype(bool)


def counts(time: np.ndarray, event: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, ...]:
    """Weighted events, censorings and users at risk at each distinct time.

    Args:
        time, event: as in :func:`check_survival_data`.
        weights: frequency weights, shape (B, n).

    Returns:
        ``(unique_times (K,), events (B, K), censored (B, K), at_risk (B, K))``.
    """
    order = np.argsort(time, kind="stable")
    t_sorted = time[order]
    unique, starts = np.unique(t_sorted, return_index=True)
    w = weights[:, order]
    e = event[order]
    events = np.add.reduceat(w * e, starts, axis=1) if len(t_sorted) else np.zeros((len(w), 0))
    total = np.add.reduceat(w, starts, axis=1) if len(t_sorted) else np.zeros((len(w), 0))
    # At risk at u_k: everyone whose time is >= u_k, i.e. the total minus those before.
    before = np.cumsum(total, axis=1) - total
    at_risk = total.sum(axis=1, keepdims=True) - before
    return unique, events, total - events, at_risk


def _product_limit(losses: np.ndarray, at_risk: np.ndarray) -> np.ndarray:
    """``cumprod(1 - losses / at_risk)`` with 0/0 read as "nothing lost"."""
    ratio = np.divide(losses, at_risk, out=np.zeros_like(losses), where=losses > 0)
    return np.cumprod(1.0 - ratio, axis=-1)


def _step(knots: np.ndarray, values: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Right-continuous step function through ``(knots, values)``, 1 before the first knot."""
    idx = np.searchsorted(knots, t, side="right") - 1
    padded = np.concatenate([np.ones(values.shape[:-1] + (1,)), values], axis=-1)
    return np.take(padded, idx + 1, axis=-1)


def kaplan_meier(time, event, *, weights=None, confidence: float = 0.95) -> Curve:
    """The Kaplan-Meier survival curve with its Greenwood log-minus-log band."""
    t, e = check_survival_data(time, event)
    if not 0.0 < confidence < 1.0:
        raise ToolkitError(f"confidence must be in the open interval (0, 1). Got {confidence!r} instead.")
    w = np.ones((1, len(t))) if weights is None else np.asarray(weights, dtype=float).reshape(1, -1)
    unique, d, c, n = (a[0] if a.ndim == 2 else a for a in counts(t, e, w))
    return curve_from_counts(unique, d, c, n, confidence=confidence)


def curve_from_counts(time, events, censored, at_risk, *, confidence: float = 0.95) -> Curve:
    """The curve from events, censorings and users at risk per time, however the risk sets were formed.

    Risk sets other than "time >= u" (users out of view for a while) come in here as counts.
    """
    d, n = np.asarray(events, dtype=float), np.asarray(at_risk, dtype=float)
    surv = _product_limit(d, n)
    terms = np.divide(d, n * (n - d), out=np.zeros_like(d), where=(d > 0) & (n > d))
    sigma = np.sqrt(np.cumsum(terms))
    low, high = _log_log_band(surv, sigma, confidence)
    return Curve(np.asarray(time), surv, n, d, np.asarray(censored, dtype=float), low, high)


def _log_log_band(surv: np.ndarray, sigma: np.ndarray, confidence: float) -> tuple[np.ndarray, np.ndarray]:
    eps = np.finfo(float).eps
    alive = surv > eps
    log_s = np.log(surv, where=alive, out=np.zeros_like(surv))
    # Where S is 1 (log S = 0) the band collapses onto S.
    theta = np.divide(sigma, log_s, out=np.zeros_like(surv), where=log_s < -eps)
    z = stats.norm.isf((1.0 - confidence) / 2.0)
    low = np.where(alive, np.exp(np.exp(-z * theta) * log_s), 0.0)
    high = np.where(alive, np.exp(np.exp(z * theta) * log_s), 0.0)
    return low, high


def censoring_survival(time: np.ndarray, event: np.ndarray, weights: np.ndarray):
    """``G`` for each weight vector: the Kaplan-Meier estimate of still being followed.

    Args:
        time, event: the data, checked.
        weights: frequency weights, shape (B, n).

    Returns:
        A function ``G(t)`` mapping times of shape (m,) to an array of shape (B, m).
    """
    unique, d, c, n = counts(time, event, weights)
    g = _product_limit(c, n - d)
    return lambda t: _step(unique, g, np.asarray(t, dtype=float))


def logrank(time, event, group) -> dict:
    """The log-rank test of equal hazards across the groups in ``group``.

    Returns:
        ``{"statistic", "df", "p_value", "observed", "expected", "groups"}``.
    """
    t, e = check_survival_data(time, event)
    g = np.asarray(group)
    if g.shape != t.shape:
        raise ToolkitError(f"group must have one entry per user. Got shape {g.shape} for {len(t)} users.")
    groups, index = np.unique(g, return_inverse=True)
    if len(groups) < 2:
        raise ToolkitError(f"the log-rank test needs at least two groups. Got {len(groups)}.")
    onehot = np.eye(len(groups))[index].T  # (G, n): each group's membership as a weight vector
    _, d, _, n = counts(t, e, onehot)
    return {**logrank_test(d, n), "groups": groups}


def logrank_test(events, at_risk) -> dict:
    """The log-rank test from per-group, per-bin returns and users at risk, both shape (G, K).

    Returns:
        ``{"statistic", "df", "p_value", "observed", "expected"}`` (the last two per group).
    """
    d, n = np.asarray(events, dtype=float), np.asarray(at_risk, dtype=float)
    if d.ndim != 2 or d.shape != n.shape or d.shape[0] < 2:
        raise ToolkitError(f"the log-rank test needs (groups >= 2, bins) arrays of one shape. Got {d.shape} and {n.shape}.")
    d_all, n_all = d.sum(axis=0), n.sum(axis=0)
    share = np.divide(n, n_all, out=np.zeros_like(n), where=n_all > 0)
    expected = (share * d_all).sum(axis=1)
    spread = np.divide(d_all * (n_all - d_all), n_all - 1, out=np.zeros_like(d_all), where=n_all > 1)
    cov = np.diag(share @ spread) - np.einsum("k,gk,hk->gh", spread, share, share)
    diff = d.sum(axis=1) - expected
    df = d.shape[0] - 1
    stat = float(diff[:df] @ np.linalg.lstsq(cov[:df, :df], diff[:df], rcond=None)[0])
    return {"statistic": stat, "df": df, "p_value": float(stats.chi2.sf(stat, df)),
            "observed": d.sum(axis=1), "expected": expected}


def curves_by_group(time, event, group, *, confidence: float = 0.95) -> tuple[dict, dict | None]:
    """One Kaplan-Meier curve per group (e.g. first-seen week, topic) and the log-rank test across them.

    Returns:
        ``({group: Curve}, logrank result or None when there is a single group)``.
    """
    t, e = check_survival_data(time, event)
    g = np.asarray(group)
    if g.shape != t.shape:
        raise ToolkitError(f"group must have one entry per user. Got shape {g.shape} for {len(t)} users.")
    curves = {value: kaplan_meier(t[g == value], e[g == value], confidence=confidence) for value in np.unique(g)}
    return curves, (logrank(t, e, g) if len(curves) > 1 else None)
