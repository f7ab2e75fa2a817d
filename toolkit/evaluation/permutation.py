"""The label-permutation tests: how often shuffled labels score as well as the real ones.

Two questions, each with its own shuffles, each refitting the whole fold loop (featurizers,
head, threshold) on the shuffled labels, on folds re-drawn from the same splitter and seed,
as scikit-learn's ``permutation_test_score`` does:

* "better than chance" (``roc_auc``): labels shuffled across all labelled users; the
  statistic is the model's ROC-AUC. Its null: the pipeline sees nothing of the label.
* "adds to timing" (``delta_roc_auc``): labels shuffled only among users of the same
  timing stratum (:func:`toolkit.evaluation.baselines.timing_strata`: day-0 date quartile x
  delay to the first post, halves), so the label keeps what timing knows of it and loses
  what the model could know beyond; the statistic is the model's ROC-AUC minus the timing
  baseline's, both refitted on the same shuffled labels. Its null: the model adds nothing
  to timing (as far as four date bins and two delay bins describe timing).

Each series is sequential (Besag and Clifford, "Sequential Monte Carlo p-values",
Biometrika 1991): shuffles are drawn until :data:`STOP_AFTER` of them reach the observed
value, or :data:`AUTO_SEQUENTIAL` (or ``evaluation.permutations``) are made. Stopped at
shuffle ``L`` the p-value is ``STOP_AFTER / L``, else ``(1 + #{null >= observed}) / (1 + L)``;
both are valid (``P(p <= a) <= a``). A question with nothing to find stops after about
``h (1 + ln(N / h))`` shuffles (23 for h = 5, N = 199); a clear signal uses all N and
reaches ``p = 1 / (N + 1) = 0.005``. The cost is printed before the first shuffle.

The helpers here know nothing of the label kind: a time-to-return run
(:mod:`toolkit.evaluation.time_to_return_permutation`) shuffles whole label records and
tests Harrell's C with a fixed number of shuffles, with the same rule for when the test runs.
"""

from __future__ import annotations

import numpy as np

#: Below this many positives among the labelled users the test runs unless the spec sets
#: ``evaluation.permutations`` (0 turns it off): the bootstrap intervals alone mislead there.
AUTO_BELOW_POSITIVES = 50
#: Shuffles of a time-to-return run's (fixed-length) test when it switches itself on: the fewest
#: whose p-value can reach 0.05.
AUTO_PERMUTATIONS = 19
#: The most shuffles per question of a yes/no run's sequential test when it switches itself on:
#: enough for p = 0.005.
AUTO_SEQUENTIAL = 199
#: Besag-Clifford's h: a question stops once this many shuffles reach the observed value.
STOP_AFTER = 5
QUESTIONS = {"roc_auc": "better than chance", "c_index": "better than chance",
             "delta_roc_auc": "adds to timing", "delta_c_index": "neither sees anything (not 'adds to timing')"}
SHUFFLED = {"roc_auc": "labels across all labelled users", "delta_roc_auc": "labels within timing strata",
            "c_index": "label records across all users", "delta_c_index": "label records across all users"}
QUANTILES = (0.05, 0.5, 0.95)


def planned_permutations(setting: int | None, positives: int, auto: int = AUTO_PERMUTATIONS) -> int:
    """How many shuffles a run makes: the spec's ``evaluation.permutations``, else the automatic rule.

    ``positives`` counts the events the test rests on: positives of a yes/no label, returns seen
    of a time-to-return one.
    """
    if setting is not None:
        return int(setting)
    return auto if positives < AUTO_BELOW_POSITIVES else 0


def cost_line(n: int, loop_seconds: float, setting: int | None, positives: int, what: str = "positives", *,
              questions: int = 1) -> str:
    """The line printed before the first shuffle: the most and the likely cost, and why the test runs.

    With ``questions`` > 1 each question is a sequential series of at most ``n`` shuffles that
    stops after :data:`STOP_AFTER` reach the observed value (:func:`sequential_null`).
    """
    why = "set by evaluation.permutations" if setting is not None else (
        f"on because the labelled users hold only {positives} {what}; evaluation.permutations: 0 turns it off")
    if questions == 1:
        return (f"permutation test: {n} shuffles x {loop_seconds:.1f} s per fold loop, about "
                f"{n * loop_seconds:.0f} s ({why})")
    likely = questions * min(n, expected_shuffles(n))
    return (f"permutation test: {questions} questions x at most {n} shuffles x {loop_seconds:.1f} s per fold loop: "
            f"at most {questions * n * loop_seconds:.0f} s, about {likely * loop_seconds:.0f} s where there is "
            f"nothing to find (a question stops once {STOP_AFTER} shuffles reach the observed value) ({why})")


def expected_shuffles(n: int, h: int = STOP_AFTER) -> int:
    """Shuffles a sequential series makes on average when its p-value is uniform (nothing to find)."""
    return int(round(h * (1 + np.log(max(n, h) / h)))) if n > h else n


def sequential_null(observed: float, draw, n_max: int, h: int = STOP_AFTER, on_draw=None) -> np.ndarray:
    """Null values from ``draw()`` until ``h`` reach ``observed`` or ``n_max`` are drawn (Besag-Clifford)."""
    values: list[float] = []
    reached = 0
    while len(values) < n_max:
        values.append(float(draw()))
        reached += bool(np.isfinite(observed) and values[-1] >= observed)
        if on_draw is not None:
            on_draw()
        if reached >= h:
            break
    return np.asarray(values)


def sequential_p_value(observed: float, null: np.ndarray, h: int = STOP_AFTER) -> float:
    """Besag and Clifford's p-value of a series :func:`sequential_null` drew: ``h / L`` when it stopped early."""
    null = np.asarray(null, dtype=float)
    if not np.isfinite(observed) or not len(null):
        return float("nan")
    reached = int(np.sum(null >= observed))
    if reached >= h:
        return float(h / len(null))
    return float((1 + reached) / (1 + len(null)))


def sequential_block(baseline: str, observed: dict[str, float], nulls: dict[str, np.ndarray], *, n_max: int,
                     auto: bool, seconds: float) -> dict:
    """``metrics.json``'s ``permutation`` block from sequential series, one per question."""
    out = {"n": int(sum(len(v) for v in nulls.values())), "n_max": n_max, "stop_after": STOP_AFTER, "auto": auto,
           "seconds": seconds, "sequential": True}
    for key, null in nulls.items():
        entry = null_summary(observed[key], null)
        entry.update(p_value=sequential_p_value(observed[key], null), shuffles=len(null),
                     question=QUESTIONS[key], shuffled=SHUFFLED[key])
        out[key] = {"baseline": baseline, **entry} if key.startswith("delta_") else entry
    return out


def permutation_block(names: tuple[str, str], baseline: str, observed: tuple[float, float], null: np.ndarray, *,
                      auto: bool, seconds: float) -> dict:
    """``metrics.json``'s ``permutation`` block: the model's statistic and its Δ over ``baseline``.

    ``null`` is (N, 2): each shuffle's statistic and Δ, in the order of ``names``.
    """
    null = np.asarray(null, dtype=float).reshape(-1, 2)
    stat, delta = names
    labels = {k: {"question": QUESTIONS.get(k), "shuffled": SHUFFLED.get(k)} for k in names}
    return {"n": len(null), "auto": auto, "seconds": seconds,
            stat: {**null_summary(observed[0], null[:, 0]), **labels[stat]},
            delta: {"baseline": baseline, **null_summary(observed[1], null[:, 1]), **labels[delta]}}


def mean_roc_auc(y: np.ndarray, scores: np.ndarray) -> float:
    """ROC-AUC of out-of-fold scores (R, n), averaged over repeats, as the run's metrics report it."""
    from toolkit.evaluation.metrics import weighted_roc_auc

    ones = np.ones(len(y))
    return float(np.mean([weighted_roc_auc(y, row, ones) for row in np.atleast_2d(scores)]))


def p_value(observed: float, null: np.ndarray) -> float:
    """``(1 + #{null >= observed}) / (1 + N)``: never 0, and exact under the null."""
    null = np.asarray(null, dtype=float)
    if not np.isfinite(observed) or not len(null):
        return float("nan")
    return float((1 + np.sum(null >= observed)) / (1 + len(null)))


def null_summary(observed: float, null: np.ndarray) -> dict:
    """``{observed, p_value, null: {q05, q50, q95, mean}}`` for ``metrics.json``."""
    null = np.asarray(null, dtype=float)
    quantiles = np.quantile(null, QUANTILES) if len(null) else [float("nan")] * len(QUANTILES)
    described = {f"q{round(q * 100):02d}": float(v) for q, v in zip(QUANTILES, quantiles)}
    described["mean"] = float(null.mean()) if len(null) else float("nan")
    return {"observed": float(observed), "p_value": p_value(observed, null), "null": described}
