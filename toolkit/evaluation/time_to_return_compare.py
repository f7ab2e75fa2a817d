"""Paired differences of survival metrics between two models scored on the same users.

As :func:`toolkit.evaluation.metrics.paired_delta` does for the binary metrics. Under
cross-validation (``fold_of``) the Δ is computed on each test fold and its interval and p-value
come from the corrected resampled t over those per-fold Δs
(:func:`toolkit.evaluation.metrics.corrected_t`, Nadeau-Bengio), so the fitting's noise is in
them. Without folds, both models are scored on the same resampled users in every bootstrap draw
(stratified by seen return vs censored); the draws can be turned into a p-value
(:func:`toolkit.evaluation.metrics.bootstrap_p_value`). Either p-value is Holm-corrected across a
table (:func:`toolkit.evaluation.metrics.holm`) like the binary ones.

Metric names: ``c_index``, ``uno_c``, ``ibs`` (lower is better: a negative difference means
model a is better) and ``auc_at:<horizon>``.
"""

from __future__ import annotations

import numpy as np

from toolkit.errors import ToolkitError
from toolkit.evaluation.kaplan_meier import check_survival_data
from toolkit.evaluation.metrics import (_bootstrap_blocks, _check_confidence, _percentile_ci, bootstrap_p_value,
                                        corrected_t, fold_test_share)
from toolkit.evaluation.survival import _check_grid, _draw_stats, _fold_of, _joined, _repeats, fold_stats


def _metric(name: str, grid: np.ndarray) -> tuple[str, int | None]:
    """``(kind, horizon index)`` of a metric name; a clear error for an unknown one."""
    if name in ("c_index", "uno_c", "ibs"):
        return name, None
    if name.startswith("auc_at:"):
        try:
            h = float(name.split(":", 1)[1])
        except ValueError:
            h = float("nan")
        hit = np.flatnonzero(grid == h)
        if len(hit):
            return "auc_at", int(hit[0])
    raise ToolkitError(f"metric must be c_index, uno_c, ibs or auc_at:<one of {grid.tolist()}>. Got {name!r}.")


def paired_time_to_return_draws(time, event, a: tuple, b: tuple, times, *, metric: str = "c_index",
                          tau: float | None = None, n_boot: int = 1000, seed: int = 0) -> tuple[float, np.ndarray]:
    """The point difference (a - b) of one survival metric and its ``n_boot`` paired-bootstrap draws.

    Args:
        time, event: the users' times and whether their return was seen.
        a, b: each model's ``(risk, surv)`` as :func:`toolkit.evaluation.survival.summarize_time_to_return` takes them.
        times: the times ``surv`` is given at.
        metric: see the module docstring.
        tau: ``uno_c``'s truncation time.
        n_boot, seed: the bootstrap's draws and seed.
    """
    t, e = check_survival_data(time, event)
    grid = _check_grid(times, t, "times")
    kind, k = _metric(metric, grid)
    models = []
    for risk, surv in (a, b):
        models.append((_repeats(risk, len(t), (), "risk"), _repeats(surv, len(t), (len(grid),), "surv")))
    hz = np.array([k if k is not None else 0])

    def delta(w):
        va, vb = (_draw_stats(t, e, r, s, grid, hz, tau, w)[kind] for r, s in models)
        return (va - vb)[:, 0] if kind == "auc_at" else va - vb

    point = float(delta(np.ones((1, len(t))))[0])
    return point, np.concatenate([delta(_joined(e, blk)) for blk in _bootstrap_blocks(e, n_boot, seed)])


def paired_time_to_return_delta(time, event, a: tuple, b: tuple, times, *, metric: str = "c_index",
                                tau: float | None = None, n_boot: int = 1000, confidence: float = 0.95,
                                seed: int = 0, fold_of: np.ndarray | None = None) -> dict:
    """``{"metric", "mean", "ci_low", "ci_high", "excludes_zero", "p_value"}`` of the difference a - b.

    With ``fold_of`` (each user's test fold per repeat) from the corrected t over the per-fold Δs
    (:func:`fold_delta`); without, from ``n_boot`` paired bootstrap draws.
    """
    _check_confidence(confidence, n_boot)
    if fold_of is not None:
        point, per_fold, share = fold_delta(time, event, a, b, times, fold_of, metric=metric, tau=tau)
        t = corrected_t(point, per_fold, share, confidence)
        low, high, p = t["ci_low"], t["ci_high"], t["p_value"]
    else:
        point, draws = paired_time_to_return_draws(time, event, a, b, times, metric=metric, tau=tau, n_boot=n_boot,
                                                   seed=seed)
        (low, high), p = _percentile_ci(draws, confidence), bootstrap_p_value(draws)
    return {"metric": metric, "mean": point, "ci_low": low, "ci_high": high,
            "excludes_zero": bool(low > 0.0 or high < 0.0), "p_value": p}


def fold_delta(time, event, a: tuple, b: tuple, times, fold_of, *, metric: str = "c_index",
               tau: float | None = None) -> tuple[float, np.ndarray, float]:
    """The pooled point Δ (a - b) of one survival metric, its per-fold Δs (J,) and the folds' n_test/n_train."""
    t, e = check_survival_data(time, event)
    grid = _check_grid(times, t, "times")
    kind, k = _metric(metric, grid)
    models = [(_repeats(risk, len(t), (), "risk"), _repeats(surv, len(t), (len(grid),), "surv")) for risk, surv in (a, b)]
    fold_of = _fold_of(fold_of, models[0][0].shape)
    hz = np.array([k if k is not None else 0])

    def pick(stats):
        return stats[kind][:, 0] if kind == "auc_at" else stats[kind]

    ones = np.ones((1, len(t)))
    point = float(np.subtract(*(pick(_draw_stats(t, e, r, s, grid, hz, tau, ones)) for r, s in models))[0])
    per_fold = np.subtract(*(pick(fold_stats(t, e, r, s, grid, hz, tau, fold_of)) for r, s in models))
    return point, per_fold, fold_test_share(fold_of)


def paired_c_index_draws(time, event, risk_a, risk_b, *, n_boot: int = 1000, seed: int = 0
                         ) -> tuple[float, np.ndarray]:
    """The point difference (a - b) of Harrell's C and its paired-bootstrap draws, from risks alone.

    What :func:`paired_time_to_return_draws` gives for ``c_index`` without survival curves (the bench
    table reads only each run's risks back): ``risk_a``, ``risk_b`` are (n,) or (R, n), the C of
    R repeats averaged, on the same stratified draws of users.
    """
    from toolkit.evaluation.survival import c_index

    t, e = check_survival_data(time, event)
    ra, rb = _repeats(risk_a, len(t), (), "risk_a"), _repeats(risk_b, len(t), (), "risk_b")

    def delta(w):
        return (np.mean([c_index(t, e, r, weights=w) for r in ra], axis=0)
                - np.mean([c_index(t, e, r, weights=w) for r in rb], axis=0))

    point = float(delta(np.ones((1, len(t))))[0])
    return point, np.concatenate([delta(_joined(e, blk)) for blk in _bootstrap_blocks(e, n_boot, seed)])


def c_index_fold_deltas(time, event, risk_a, risk_b, fold_of) -> tuple[float, np.ndarray]:
    """The pooled point Δ (a - b) of Harrell's C and its per-fold Δs (J,), for the corrected t.

    What the bench table's star rests on (:func:`toolkit.evaluation.metrics.corrected_t`): the
    spread of the Δ over test folds holds the fitting's noise, which a bootstrap of fixed risks leaves out.
    """
    from toolkit.evaluation.metrics import fold_masks
    from toolkit.evaluation.survival import c_index

    t, e = check_survival_data(time, event)
    ra, rb = _repeats(risk_a, len(t), (), "risk_a"), _repeats(risk_b, len(t), (), "risk_b")
    point = float(np.mean([c_index(t, e, r) for r in ra]) - np.mean([c_index(t, e, r) for r in rb]))
    per_fold = [c_index(t[m], e[m], ra[r, m]) - c_index(t[m], e[m], rb[r, m]) for r, m in fold_masks(np.atleast_2d(fold_of))]
    return point, np.asarray(per_fold, dtype=float)
