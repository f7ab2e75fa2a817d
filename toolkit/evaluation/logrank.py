"""Kaplan-Meier curves and the log-rank test on the time-to-return label's bins, crawl gaps included.

The label (:mod:`toolkit.data.time_to_return`) says, per user and bin, whether the user was seen
through the bin without a return (``at_risk``) and in which bin a seen return lies. The risk sets
are read from it bin by bin, not from one time per user:

* **At risk in bin k**: seen through it (``at_risk[k]``), or seen to return in it. A masked bin
  (an uncovered day of the crawl in it, or past the end of follow-up) is not at risk: the user
  leaves the risk set for the gap and comes back into it with the next covered bin, so a gap
  counts neither as a return nor as a bin survived.
* **An interval-censored return** (first seen right after uncovered days, so it lies somewhere
  in bins ``event_first .. event_last``) is counted at ``event_last``, the bin it was seen in,
  which is also the metrics' time. The gap's bins before it are masked for that user, so the
  return is not spread over them: the bin after a gap carries the returns hidden in the gap (its
  hazard reads high), ``S`` stays flat through the gap and drops in that bin. Across the gap and
  the bin after it, that is one step ``1 - d / n`` over the users seen before and after it, the
  "returned somewhere in here" the data can tell. Spreading the returns over the gap (Turnbull's
  estimator) would need an iterative fit and a test of its own.
* **No seen return**: censored after ``censor_bin``, the last bin the user was seen through.

With no gap this is the ordinary Kaplan-Meier estimate on ``(time, event)`` with the label's
``time`` (events before censorings at a shared bin), and the ordinary log-rank test.

* Kaplan-Meier: ``S(k) = prod_{j <= k} (1 - d_j / n_j)``, with Greenwood's pointwise 95% band
  on the log-minus-log scale (:func:`toolkit.evaluation.kaplan_meier.curve_from_counts`).
* Log-rank (Mantel, 1966): per bin, each group's observed returns against ``n_gk d_k / n_k``
  expected under one hazard for all, with the hypergeometric covariance
  ``d_k (n_k - d_k) / (n_k - 1) * p_gk (delta_gh - p_hk)``, ``p_gk = n_gk / n_k``; the
  statistic ``(O - E)' V^- (O - E)`` over the first ``G - 1`` groups is chi-squared with
  ``G - 1`` degrees of freedom.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from toolkit.data.time_to_return import TimeToReturn
from toolkit.errors import ToolkitError
from toolkit.evaluation.kaplan_meier import Curve, curve_from_counts, logrank_test  # noqa: F401 (re-exported)


@dataclass
class RiskSets:
    """Per group (rows) and bin (columns): returns seen, users at risk, users censored after the bin."""

    groups: np.ndarray  # (G,) the group values, sorted
    events: np.ndarray  # (G, K)
    at_risk: np.ndarray  # (G, K)
    censored: np.ndarray  # (G, K)


def risk_sets(label: TimeToReturn, group=None) -> RiskSets:
    """Count returns, users at risk and censorings per bin, per group (one group when ``group`` is None)."""
    n, k = label.at_risk.shape
    g = np.zeros(n, dtype=int) if group is None else np.asarray(group)
    if g.shape != (n,):
        raise ToolkitError(f"group must have one entry per user. Got shape {g.shape} for {n} users.")
    groups, index = np.unique(g, return_inverse=True)
    member = np.eye(len(groups), dtype=float)[index.reshape(-1)]  # (n, G)
    bins = np.arange(k)[None, :]
    returned = label.event[:, None] & (label.event_last[:, None] == bins)
    censored = ~label.event[:, None] & (label.censor_bin[:, None] == bins)
    exposed = label.at_risk | returned
    return RiskSets(groups, member.T @ returned, member.T @ exposed, member.T @ censored)


def curves(sets: RiskSets, *, confidence: float = 0.95) -> dict:
    """One Kaplan-Meier curve per group; ``Curve.time`` holds bin indices."""
    bins = np.arange(sets.events.shape[1])
    return {value: curve_from_counts(bins, sets.events[i], sets.censored[i], sets.at_risk[i], confidence=confidence)
            for i, value in enumerate(sets.groups)}


def kaplan_meier_bins(label: TimeToReturn, *, confidence: float = 0.95) -> Curve:
    """The Kaplan-Meier curve of "not yet returned" over the label's bins, all users together."""
    return next(iter(curves(risk_sets(label), confidence=confidence).values()))


