"""``cox``: a linear proportional-hazards baseline for the time-to-return label.

The hazard of returning in bin ``k`` is ``h_0(k) exp(x . beta)``. ``beta`` maximises the
penalised partial likelihood (Cox, 1972; Breslow's handling of tied times)::

    pl(beta) = sum_k [ sum_{i returns in k} x_i . beta - d_k log sum_{j in R_k} exp(x_j . beta) ]
    objective = -pl(beta) / n + penalizer / 2 * |beta|^2

The risk set ``R_k`` is the users seen through bin ``k`` plus those whose return was seen in
it: a bin the crawl did not cover is outside every risk set, as in the discrete-time
likelihood (:mod:`toolkit.heads.hazard_loss`). A return first seen after a gap is counted in
the bin it was seen in. Dense columns are standardised on the training users first (as
lifelines does), so ``penalizer`` treats every column alike; sparse blocks stay sparse and
unscaled. The baseline cumulative hazard is Breslow's, so :meth:`CoxHead.predict_survival`
gives each user's chance of no return by the end of each bin.

Targets are :func:`toolkit.heads.hazard_loss.pack_targets`' array (the at-risk mask, then the
event bins).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from toolkit.errors import ToolkitError
from toolkit.features.blocks import kinds_text
from toolkit.heads.time_to_return import TimeToReturnHead
from toolkit.heads.logreg import stack
from toolkit.params import Interval
from toolkit.registry import register_head


def unpack_targets(targets) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(risk_set (n, K) bool, returned (n,) bool, return_bin (n,) int)`` from packed targets."""
    t = np.asarray(targets)
    if t.ndim != 2 or t.shape[1] % 2 or not t.shape[1]:
        raise ToolkitError(f"time-to-return targets must have shape (n, 2 x bins). Got shape {t.shape} instead.")
    k = t.shape[1] // 2
    at_risk, events = t[:, :k] > 0, t[:, k:] > 0
    returned = events.any(axis=1)
    last = np.where(returned, k - 1 - np.argmax(events[:, ::-1], axis=1), -1)
    risk_set = at_risk.copy()
    risk_set[np.flatnonzero(returned), last[returned]] = True
    return risk_set, returned, last


@register_head("cox")
class CoxHead(TimeToReturnHead):
    """Penalised Cox proportional hazards on the concatenated dense and sparse blocks.

    Example spec block:
        head: {type: cox, penalizer: 0.1}

    Args:
        penalizer: strength of the L2 penalty on the coefficients (0: none).
        max_iter: iteration limit of the L-BFGS solver.
    """

    param_constraints = {"penalizer": Interval(0, None), "max_iter": Interval(1, None)}

    def __init__(self, *, penalizer: float = 0.1, max_iter: int = 500):
        self.penalizer = penalizer
        self.max_iter = max_iter

    def check_blocks(self, kinds: Sequence[tuple[str, str]]) -> str | None:
        if not kinds or any(kind == "sequence" for _, kind in kinds):
            return f"cox takes dense and sparse blocks; got {kinds_text(kinds)}."
        return None

    def _design(self, blocks):
        x = stack(blocks)
        if hasattr(x, "toarray"):
            return x.tocsr()
        return (np.asarray(x, dtype=np.float64) - self.mean_) / self.scale_

    def fit(self, blocks, y, *, validation=None, training=None, seed: int = 0, on_epoch=None):
        from scipy.optimize import minimize

        risk_set, returned, last = unpack_targets(y)
        raw = stack(blocks)
        dense = not hasattr(raw, "toarray")
        self.mean_ = np.asarray(raw, dtype=np.float64).mean(axis=0) if dense else 0.0
        spread = np.asarray(raw, dtype=np.float64).std(axis=0) if dense else 1.0
        self.scale_ = np.where(spread > 0, spread, 1.0) if dense else 1.0
        x = self._design(blocks)
        n = x.shape[0]
        onehot = np.zeros(risk_set.shape)
        onehot[np.flatnonzero(returned), last[returned]] = 1.0
        deaths = onehot.sum(axis=0)

        def objective(beta):
            eta = x @ beta
            shift = eta.max() if n else 0.0
            w = np.exp(eta - shift)
            sums = w @ risk_set  # (K,) sum of exp(eta) over each risk set
            used = deaths > 0
            pl = eta[returned].sum() - (deaths[used] * (np.log(sums[used]) + shift)).sum()
            per_user = w * (risk_set[:, used] @ (deaths[used] / sums[used]))
            grad = x.T @ (returned.astype(float) - per_user)
            return (-pl / n + 0.5 * self.penalizer * beta @ beta,
                    -np.asarray(grad).ravel() / n + self.penalizer * beta)

        result = minimize(objective, np.zeros(x.shape[1]), jac=True, method="L-BFGS-B",
                          options={"maxiter": self.max_iter})
        self.coef_ = result.x
        self.baseline_hazard_ = self._breslow(x @ self.coef_, risk_set, deaths)
        if on_epoch is not None:
            on_epoch(1, 1, {"loss": float(result.fun)})
        return self

    @staticmethod
    def _breslow(eta: np.ndarray, risk_set: np.ndarray, deaths: np.ndarray) -> np.ndarray:
        """The baseline hazard per bin: returns over the risk set's summed relative hazard."""
        sums = np.exp(eta) @ risk_set
        return np.divide(deaths, sums, out=np.zeros_like(deaths), where=sums > 0)

    def predict_risk(self, blocks) -> np.ndarray:
        """``x . beta``: higher returns sooner."""
        return np.asarray(self._design(blocks) @ self.coef_).ravel()

    def predict_survival(self, blocks) -> np.ndarray:
        """Each user's chance of no return by the end of each bin, (n, K)."""
        relative = np.exp(self.predict_risk(blocks))
        return np.exp(-np.outer(relative, np.cumsum(self.baseline_hazard_)))

    def predict(self, blocks) -> np.ndarray:
        """The chance of a return by the end of follow-up, in [0, 1]."""
        return 1.0 - self.predict_survival(blocks)[:, -1]

    def count_params(self) -> int:
        return int(self.coef_.size + self.baseline_hazard_.size)

    def flops_per_user(self) -> float:
        return 2.0 * self.coef_.size
