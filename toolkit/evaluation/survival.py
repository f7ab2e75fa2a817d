"""Survival metrics from out-of-fold predictions, with intervals over the test folds.

Each user has a ``time`` (the bin of the first observed return, or of the last bin in
which a return could still have been seen) and ``event`` (True when the return was
seen). Models give a ``risk`` per user (higher: returns sooner) and, for the Brier
score and the AUC, ``surv[:, k]``, the predicted probability of *not* having returned
by ``times[k]``. ``G`` is the Kaplan-Meier estimate of the censoring distribution
(:mod:`toolkit.evaluation.kaplan_meier`), fitted on the same users.

* ``c_index`` (Harrell et al., 1982): among comparable pairs, the share where the user
  who returned first has the higher risk (ties in risk count half). A pair (i, j) is
  comparable when i's return was seen and j was followed longer (``T_j > T_i``, or
  ``T_j = T_i`` with j censored).
* ``uno_c`` (Uno et al., 2011): the same pairs weighted by ``G(T_i) ** -2`` and only
  for ``T_i < tau``; consistent under censoring that does not depend on the covariates.
* ``auc_at`` (cumulative/dynamic AUC, Uno et al., 2007; Hung and Chiang, 2010): at a
  horizon ``h``, cases are users whose return was seen by ``h`` (weight ``1 / G(T_i)``)
  and controls those still followed after ``h``; the weighted share of (case, control)
  pairs ranked right. Scored with ``1 - surv`` at ``h``.
* ``ibs`` (Graf et al., 1999): the Brier score ``BS(t) = mean_i [S_i(t)^2 1{T_i <= t,
  seen} / G(T_i) + (1 - S_i(t))^2 1{T_i > t} / G(t)]``, integrated over ``times`` by the
  trapezoid rule and divided by ``times[-1] - times[0]``. Lower is better.

These reproduce scikit-survival's ``concordance_index_censored``, ``concordance_index_ipcw``,
``cumulative_dynamic_auc`` and ``integrated_brier_score`` (tests check them to 1e-6) with one
difference: where ``G(T_i)`` is 0 the user's weight is 0 (scikit-survival raises), so a
bootstrap draw never fails on it. All assume censoring independent of the return time
given the covariates; the IPCW ones further assume it independent of the covariates.

Intervals follow :mod:`toolkit.evaluation.metrics`. Under cross-validation (``fold_of``), the
corrected resampled t over the test folds (:func:`toolkit.evaluation.metrics.corrected_t`,
Nadeau-Bengio), the yes/no task's: each metric is computed on each test fold's users alone (a
fold is a 0/1 weight vector, so ``G`` is that fold's own), and the interval is the pooled
out-of-fold value ± t times the corrected spread of those values; the C-index and Uno's C also
get ``p_vs_chance`` (the t test against 0.5). It holds the fitting's noise, which a bootstrap of
fixed predictions leaves out. Without folds (the oracle's true curves, which nothing fitted):
a percentile bootstrap over users, stratified by ``event`` (seen returns and censored users
resampled separately), each draw a vector of per-user counts; ``G`` is refitted in every draw,
and a draw's statistic is the mean over repeats.
"""

from __future__ import annotations

import numpy as np

from toolkit.errors import ToolkitError
from toolkit.evaluation.kaplan_meier import censoring_survival, check_survival_data
from toolkit.evaluation.metrics import (_bootstrap_blocks, _check_confidence, _percentile_ci, corrected_t, fold_masks,
                                        fold_test_share)

TIED_TOL = 1e-8


def _weights(weights, n: int) -> tuple[np.ndarray, bool]:
    if weights is None:
        return np.ones((1, n)), True
    w = np.asarray(weights, dtype=float)
    if w.ndim not in (1, 2) or w.shape[-1] != n:
        raise ToolkitError(f"weights must have shape (n,) or (B, n) with n={n}. Got shape {w.shape} instead.")
    if (w < 0).any() or not np.isfinite(w).all():
        raise ToolkitError("weights must be finite and non-negative.")
    return np.atleast_2d(w), w.ndim == 1


def _out(values: np.ndarray, single: bool):
    return float(values[0]) if single else values


def _inverse(g: np.ndarray) -> np.ndarray:
    """``1 / G``, 0 where ``G`` is 0 (nobody left to stand in for the user)."""
    return np.divide(1.0, g, out=np.zeros_like(g), where=g > 0)


def _tie_groups(risk: np.ndarray) -> np.ndarray:
    """Each user's rank among the distinct risks; risks within :data:`TIED_TOL` of the next share one."""
    order = np.argsort(risk, kind="stable")
    new = np.concatenate([[True], np.diff(risk[order]) > TIED_TOL]) if len(risk) else np.zeros(0, bool)
    groups = np.empty(len(risk), dtype=np.int64)
    groups[order] = np.cumsum(new) - 1
    return groups


def _pool(w: np.ndarray, members: np.ndarray, groups: np.ndarray, n_groups: int) -> np.ndarray:
    """The weight of ``members`` (user positions) in each risk group, per weight vector: (B, G)."""
    import scipy.sparse as sp

    if len(w) <= 16:  # a few weight vectors (one fit, the test folds): a bincount each beats building a matrix
        index = groups[members]
        return np.stack([np.bincount(index, weights=row[members], minlength=n_groups) for row in w])
    onehot = sp.csr_matrix((np.ones(len(members)), (np.arange(len(members)), groups[members])),
                           shape=(len(members), n_groups))
    return np.asarray((onehot.T @ w[:, members].T).T)


def _wins(pool: np.ndarray, row_groups: np.ndarray) -> np.ndarray:
    """Per row user: the pool's weight at a strictly lower risk, plus half of that at a tied one."""
    below = np.cumsum(pool, axis=1) - pool
    return below[:, row_groups] + 0.5 * pool[:, row_groups]


def _concordance(t, e, risk, w, row_weight) -> np.ndarray:
    """Weighted concordance over comparable pairs; ``row_weight`` (B, n) multiplies user i's pairs.

    Rather than compare every pair, the times are walked from the latest down, keeping the weight
    per risk group of everyone followed longer: O(B (n + T G)) for T return times and G distinct risks.
    """
    groups = _tie_groups(risk)
    n_groups = int(groups.max()) + 1 if len(groups) else 0
    order = np.argsort(-t, kind="stable")
    desc = -t[order]
    pool = np.zeros((len(w), n_groups))
    num, den, added = np.zeros(len(w)), np.zeros(len(w)), 0
    for k in np.unique(t[e & (row_weight > 0).any(axis=0)])[::-1]:
        later = int(np.searchsorted(desc, -k, side="left"))  # users with T > k sit before it
        pool += _pool(w, order[added:later], groups, n_groups)
        added = later
        at_k = order[later:int(np.searchsorted(desc, -k, side="right"))]
        # Comparable with a return at k: everyone followed longer, and those censored at k.
        here = pool + _pool(w, at_k[~e[at_k]], groups, n_groups)
        rows = at_k[e[at_k]]
        a = w[:, rows] * row_weight[:, rows]
        num += (a * _wins(here, groups[rows])).sum(axis=1)
        den += a.sum(axis=1) * here.sum(axis=1)
    return np.divide(num, den, out=np.full(len(num), np.nan), where=den > 0)


def _check_risk(risk, n: int, name: str = "risk") -> np.ndarray:
    r = np.asarray(risk, dtype=float)
    if r.shape != (n,):
        raise ToolkitError(f"{name} must have shape ({n},). Got shape {r.shape} instead.")
    if not np.isfinite(r).all():
        raise ToolkitError(f"{name} must be finite.")
    return r


def c_index(time, event, risk, *, weights=None):
    """Harrell's C; a float for no or 1-D weights, an array (B,) for weights (B, n); nan without pairs."""
    t, e = check_survival_data(time, event)
    r = _check_risk(risk, len(t))
    w, single = _weights(weights, len(t))
    return _out(_concordance(t, e, r, w, np.ones_like(w)), single)


def uno_c(time, event, risk, *, tau: float | None = None, weights=None):
    """Uno's IPCW C up to ``tau`` (all times when None); shapes as :func:`c_index`."""
    t, e = check_survival_data(time, event)
    r = _check_risk(risk, len(t))
    w, single = _weights(weights, len(t))
    g = censoring_survival(t, e, w)(t)
    inv = _inverse(g) * (e if tau is None else e & (t < tau))
    return _out(_concordance(t, e, r, w, inv**2), single)


def _check_grid(times, t: np.ndarray, name: str) -> np.ndarray:
    grid = np.atleast_1d(np.asarray(times, dtype=float))
    if grid.ndim != 1 or not len(grid) or not np.isfinite(grid).all():
        raise ToolkitError(f"{name} must be a non-empty list of finite times. Got {times!r} instead.")
    if (np.diff(grid) <= 0).any():
        raise ToolkitError(f"{name} must be strictly increasing. Got {grid.tolist()} instead.")
    if grid[0] < t.min() or grid[-1] >= t.max():
        raise ToolkitError(f"{name} must lie in [{t.min():g}, {t.max():g}), the follow-up of the data. "
                           f"Got {grid.tolist()} instead.")
    return grid


def auc_at(time, event, risk, horizons, *, weights=None) -> np.ndarray:
    """Cumulative/dynamic AUC at each horizon.

    Args:
        time, event: the data.
        risk: shape (n,) (one score for every horizon) or (n, H) (one column per horizon).
        horizons: H increasing times within the follow-up.
        weights: None, (n,) or (B, n).

    Returns:
        Shape (H,) for no or 1-D weights, else (B, H); nan where a horizon has no case or control.
    """
    t, e = check_survival_data(time, event)
    grid = _check_grid(horizons, t, "horizons")
    r = np.asarray(risk, dtype=float)
    r = np.repeat(r[:, None], len(grid), axis=1) if r.ndim == 1 else r
    if r.shape != (len(t), len(grid)) or not np.isfinite(r).all():
        raise ToolkitError(f"risk must be finite with shape ({len(t)},) or ({len(t)}, {len(grid)}). "
                           f"Got shape {np.shape(risk)} instead.")
    w, single = _weights(weights, len(t))
    inv = _inverse(censoring_survival(t, e, w)(t))
    out = np.stack([_auc_one(t, e, r[:, k], h, w, inv) for k, h in enumerate(grid)], axis=1)
    return out[0] if single else out


def _auc_one(t, e, risk, h, w, inv) -> np.ndarray:
    cases = np.flatnonzero(e & (t <= h))
    control = np.flatnonzero(t > h)
    groups = _tie_groups(risk)
    pool = _pool(w, control, groups, int(groups.max()) + 1)
    wins = _wins(pool, groups[cases])
    a = w[:, cases] * inv[:, cases]
    den = a.sum(axis=1) * pool.sum(axis=1)
    return np.divide((a * wins).sum(axis=1), den, out=np.full(len(den), np.nan), where=den > 0)


def brier_at(time, event, surv, times, *, weights=None) -> np.ndarray:
    """IPCW Brier score at each of ``times``; ``surv`` (n, T) holds S_i(times[k]). Shape (T,) or (B, T)."""
    t, e = check_survival_data(time, event)
    grid = _check_grid(times, t, "times")
    s = np.asarray(surv, dtype=float)
    if s.shape != (len(t), len(grid)) or not np.isfinite(s).all():
        raise ToolkitError(f"surv must be finite with shape ({len(t)}, {len(grid)}). Got shape {s.shape} instead.")
    w, single = _weights(weights, len(t))
    g = censoring_survival(t, e, w)
    inv_own, inv_grid = _inverse(g(t)), _inverse(g(grid))  # (B, n), (B, T)
    case = (e[:, None] & (t[:, None] <= grid[None, :])).astype(float)
    control = (t[:, None] > grid[None, :]).astype(float)
    # Sum over users of weight x (case term / G(T_i) + control term / G(t)), per draw and time.
    case_part = (w * inv_own) @ (s**2 * case)
    control_part = w @ ((1 - s) ** 2 * control) * inv_grid
    out = (case_part + control_part) / w.sum(axis=1, keepdims=True)
    return out[0] if single else out


def ibs(time, event, surv, times, *, weights=None):
    """Integrated Brier score over ``times`` (at least two); a float, or (B,) for weights (B, n)."""
    grid = np.atleast_1d(np.asarray(times, dtype=float))
    if len(grid) < 2:
        raise ToolkitError(f"ibs needs at least two times to integrate over. Got {grid.tolist()}.")
    scores = np.atleast_2d(brier_at(time, event, surv, grid, weights=weights))
    width = np.diff(grid)
    value = (0.5 * (scores[:, 1:] + scores[:, :-1]) * width).sum(axis=1) / (grid[-1] - grid[0])
    return float(value[0]) if weights is None or np.ndim(weights) == 1 else value


SURVIVAL_METRICS = ("c_index", "uno_c", "auc_at", "ibs")


def _repeats(values, n: int, tail: tuple[int, ...], name: str) -> np.ndarray:
    """Accept one prediction of shape (n, *tail) or R of shape (R, n, *tail); return the latter."""
    v = np.asarray(values, dtype=float)
    if v.shape == (n, *tail):
        v = v[None]
    if v.ndim != 2 + len(tail) or v.shape[1:] != (n, *tail) or not len(v) or not np.isfinite(v).all():
        raise ToolkitError(f"{name} must be finite with shape {(n, *tail)} or (R, {', '.join(map(str, (n, *tail)))}). "
                           f"Got shape {v.shape} instead.")
    return v


def _draw_stats(t, e, risk, surv, grid, hz, tau, w) -> dict[str, np.ndarray]:
    """Every metric for one weight block, averaged over repeats: {name: (B,) or (B, H)}."""
    total: dict[str, np.ndarray] = {}
    for r in range(len(risk)):
        values = {"c_index": c_index(t, e, risk[r], weights=w), "uno_c": uno_c(t, e, risk[r], tau=tau, weights=w),
                  "auc_at": auc_at(t, e, 1.0 - surv[r][:, hz], grid[hz], weights=w),
                  "ibs": ibs(t, e, surv[r], grid, weights=w)}
        for name, v in values.items():
            total[name] = total.get(name, 0.0) + v
    return {name: v / len(risk) for name, v in total.items()}


def summarize_time_to_return(time, event, risk, surv, times, *, horizons, tau: float | None = None,
                             n_boot: int = 1000, confidence: float = 0.95, seed: int = 0,
                             fold_of: np.ndarray | None = None) -> dict:
    """Point estimates and intervals of every survival metric: corrected over folds, else a user bootstrap.

    Args:
        time, event: each user's time and whether the return was seen.
        risk: out-of-fold risk scores, (n,) or (R, n) for R repeats.
        surv: out-of-fold survival probabilities at ``times``, (n, T) or (R, n, T).
        times: the T increasing times ``surv`` is given at (the ``ibs`` grid).
        horizons: the times of ``auc_at``, each one of ``times``.
        tau: ``uno_c``'s truncation time (None: no truncation).
        n_boot, confidence, seed: as in :func:`toolkit.evaluation.metrics.summarize`.
        fold_of: each user's test fold per repeat, (R, n) (:func:`toolkit.evaluation.metrics.fold_ids`):
            the intervals come from the corrected resampled t over those folds, and ``c_index`` and
            ``uno_c`` gain ``p_vs_chance``. None: the stratified user bootstrap (``n_boot`` draws).

    Returns:
        ``{"c_index": {"mean", "ci_low", "ci_high"}, "uno_c": {...}, "ibs": {...},
        "auc_at": {"<horizon>": {...}, ...}}``.
    """
    t, e, risk, surv, grid, hz = _checked(time, event, risk, surv, times, horizons)
    _check_confidence(confidence, n_boot)
    point = _draw_stats(t, e, risk, surv, grid, hz, tau, np.ones((1, len(t))))
    if fold_of is not None:
        fold_of = _fold_of(fold_of, risk.shape)
        return _assemble_corrected(point, fold_stats(t, e, risk, surv, grid, hz, tau, fold_of),
                                   fold_test_share(fold_of), grid[hz], confidence)
    draws = [_draw_stats(t, e, risk, surv, grid, hz, tau, _joined(e, block))
             for block in _bootstrap_blocks(e, n_boot, seed)]
    return _assemble(point, draws, grid[hz], confidence)


def _checked(time, event, risk, surv, times, horizons):
    """The checked ``(t, e, risk (R, n), surv (R, n, T), grid, horizon indices)``."""
    t, e = check_survival_data(time, event)
    grid = _check_grid(times, t, "times")
    hz = np.searchsorted(grid, np.atleast_1d(np.asarray(horizons, dtype=float)))
    if not len(hz) or (hz >= len(grid)).any() or not np.array_equal(grid[np.minimum(hz, len(grid) - 1)],
                                                                      np.atleast_1d(horizons).astype(float)):
        raise ToolkitError(f"horizons must be among times {grid.tolist()}. Got {horizons!r} instead.")
    risk = _repeats(risk, len(t), (), "risk")
    surv = _repeats(surv, len(t), (len(grid),), "surv")
    if len(risk) != len(surv):
        raise ToolkitError(f"risk and surv must have the same number of repeats. Got {len(risk)} and {len(surv)}.")
    return t, e, risk, surv, grid, hz


def _fold_of(fold_of, shape: tuple[int, int]) -> np.ndarray:
    f = np.asarray(fold_of)
    f = f[None, :] if f.ndim == 1 else f
    if f.shape != tuple(shape):
        raise ToolkitError(f"fold_of must have the predictions' shape (repeats, users) = {tuple(shape)}. "
                           f"Got shape {f.shape} instead.")
    return f.astype(int)


def fold_stats(t, e, risk, surv, grid, hz, tau, fold_of) -> dict[str, np.ndarray]:
    """Every metric on each test fold's users alone, repeat ``r``'s predictions on repeat ``r``'s folds.

    A fold is a 0/1 weight vector over the users, so the metrics' weighted kernels score it in one
    block per repeat (``G`` refitted on the fold's users). Returns ``{name: (J,)}``, ``auc_at`` (J, H),
    in :func:`toolkit.evaluation.metrics.fold_masks` order.
    """
    per_repeat: dict[int, list] = {}
    for r, mask in fold_masks(fold_of):
        per_repeat.setdefault(r, []).append(mask.astype(float))
    found = [_draw_stats(t, e, risk[r:r + 1], surv[r:r + 1], grid, hz, tau, np.stack(masks))
             for r, masks in per_repeat.items()]
    return {name: np.concatenate([f[name] for f in found]) for name in found[0]}


#: the value of a survival metric that knows nothing (its p-value's null); the IBS has none
CHANCE = {"c_index": 0.5, "uno_c": 0.5, "auc_at": 0.5}


def _assemble_corrected(point: dict, folds: dict, share: float, horizons: np.ndarray, confidence: float) -> dict:
    def entry(value, values, name, with_p):
        t = corrected_t(float(value), values, share, confidence, CHANCE.get(name, 0.0))
        # every metric here lies in [0, 1]: clipping the t interval there changes no coverage
        out = {"mean": float(value), "ci_low": float(np.clip(t["ci_low"], 0.0, 1.0)),
               "ci_high": float(np.clip(t["ci_high"], 0.0, 1.0))}
        if with_p:
            out["p_vs_chance"] = t["p_value"]
        return out

    out = {name: entry(point[name][0], folds[name], name, name in ("c_index", "uno_c"))
           for name in ("c_index", "uno_c", "ibs")}
    out["auc_at"] = {f"{h:g}": entry(point["auc_at"][0, k], folds["auc_at"][:, k], "auc_at", False)
                     for k, h in enumerate(horizons)}
    return out


def _joined(e: np.ndarray, block: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """A stratified draw's (seen, censored) count blocks as one (B, n) weight block."""
    w = np.zeros((len(block[0]), len(e)))
    w[:, e], w[:, ~e] = block
    return w


def _assemble(point: dict, draws: list[dict], horizons: np.ndarray, confidence: float) -> dict:
    def entry(value, stats):
        low, high = _percentile_ci(stats, confidence)
        return {"mean": float(value), "ci_low": low, "ci_high": high}

    out = {}
    for name in ("c_index", "uno_c", "ibs"):
        out[name] = entry(point[name][0], np.concatenate([d[name] for d in draws]))
    auc = np.concatenate([d["auc_at"] for d in draws])
    out["auc_at"] = {f"{h:g}": entry(point["auc_at"][0, k], auc[:, k]) for k, h in enumerate(horizons)}
    return out
