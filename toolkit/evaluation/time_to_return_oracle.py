"""The oracle of a time-to-return run on synthetic data: the metrics of the true survival curves.

The generator (:mod:`toolkit.data.synth.process`) gives each user a constant daily hazard
``lam`` of a first return on days ``GEN_OBSERVE_DAYS..GEN_HORIZON_DAYS`` (7..28) after the first
post date, and none after, so the true survival through day ``d`` is
``S(d) = (1 - lam) ** clip(d - 6, 0, 22)``. The label's bin ``k`` holds days
``edges[k] .. edges[k+1] - 1`` after its own day 0, so the true survival at the end of bin ``k``
is ``S(edges[k+1] - 1)``; ``lam`` ranks users as ``1 - S`` does at every horizon, so it is the risk.

This holds only where the label's event is the generator's first return: day 0 the first post
date and ``after_days`` 7 (an earlier start would count first-week posts as returns, a later one
would miss returns before it). Elsewhere there is no oracle.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from toolkit.data.synth import GEN_HORIZON_DAYS, GEN_OBSERVE_DAYS, read_truth
from toolkit.data.time_to_return import TimeToReturn
from toolkit.evaluation.time_to_return_cv import TimeToReturnPredictions, survival_metrics


def true_survival(hazard: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """(n, K): each user's true chance of no return by the last day of each bin (days from day 0)."""
    last_day = np.asarray(edges)[1:] - 1
    days_at_risk = np.clip(last_day - (GEN_OBSERVE_DAYS - 1), 0, GEN_HORIZON_DAYS - GEN_OBSERVE_DAYS + 1)
    return (1.0 - np.asarray(hazard, dtype=float)[:, None]) ** days_at_risk[None, :]


def oracle_hazard(path: str | Path, user_ids, label: TimeToReturn, day0: str) -> np.ndarray | None:
    """The users' true daily hazards from the truth file beside ``path``, or None where they do not
    describe the label's event (see the module docstring) or the file has none."""
    if day0 != "first_post" or int(label.edges[0]) != GEN_OBSERVE_DAYS:
        return None
    return read_truth(path, user_ids, ("daily_hazard",))[0]


def oracle_metrics(label: TimeToReturn, hazard: np.ndarray, *, horizons_days, tau_days=None, n_boot: int = 1000,
                   confidence: float = 0.95, seed: int = 0) -> dict:
    """The model's metrics (:func:`toolkit.evaluation.time_to_return_cv.survival_metrics`, the same bootstrap
    draws for the same seed) with the true curves as the predictions."""
    truth = TimeToReturnPredictions(risk=np.asarray(hazard, dtype=float)[None, :],
                                surv=true_survival(hazard, label.edges)[None])
    return survival_metrics(label, truth, horizons_days=horizons_days, tau_days=tau_days, n_boot=n_boot,
                            confidence=confidence, seed=seed)
