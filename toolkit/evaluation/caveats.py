"""What a run's numbers cannot carry by themselves: few positives, and thresholds that all fell back.

* ``metrics.json`` names how its intervals were made (``intervals.method``): over
  cross-validation folds, the corrected resampled t of :mod:`toolkit.evaluation.metrics`
  (the fitting included); under one split, the user bootstrap of fixed scores, which
  leaves the fitting out. With fewer than
  :data:`~toolkit.evaluation.permutation.AUTO_BELOW_POSITIVES` positives (or returns seen)
  a note says the intervals are wide and points to the permutation test; under a split it
  says "user resampling only", as before.
* When every fold's threshold fell back to flagging the training positive rate
  (:mod:`toolkit.evaluation.fallback`), the threshold metrics describe that fallback
  rule, not a threshold the spec's rule chose; each is marked ``fallback: true``.
"""

from __future__ import annotations

from toolkit.evaluation.metrics import BOOTSTRAP_METHOD, CORRECTED_METHOD, METRIC_NAMES, SCORE_METRICS
from toolkit.evaluation.permutation import AUTO_BELOW_POSITIVES

FALLBACK_NOTE = "fallback: every fold flagged its training positive rate (too few validation positives)"


def interval_note(positives: int, what: str = "positives", *, corrected: bool = False) -> str | None:
    """The label for intervals that rest on few positives (or returns seen), or None."""
    if positives >= AUTO_BELOW_POSITIVES:
        return None
    if corrected:
        return (f"{positives} {what}: the intervals include the fitting's noise and are wide; "
                "the permutation test's p-values answer 'better than chance' and 'adds to timing'")
    return f"user resampling only; {positives} {what}"


def _intervals(positives: int, what: str, corrected: bool) -> dict:
    block = {"method": CORRECTED_METHOD if corrected else BOOTSTRAP_METHOD}
    note = interval_note(positives, what, corrected=corrected)
    if note:
        block["note"] = note
    return block


def annotate_time_to_return(result: dict, *, corrected: bool = False) -> None:
    """How a time-to-return run's intervals were made, and the few-returns caveat, in place."""
    result["intervals"] = _intervals(int(result["data"]["time_to_return"]["returned"]), "returns", corrected)


def annotate(result: dict) -> None:
    """Add the caveats to a run's ``metrics.json`` mapping, in place."""
    corrected = len(result.get("folds") or []) > 1
    result["intervals"] = _intervals(int(result["data"]["positives"]), "positives", corrected)
    folds = result.get("folds") or []
    if folds and all(f.get("threshold_fallback") for f in folds):
        if "threshold" in result:
            result["threshold"]["fallback"] = True
        for name in METRIC_NAMES:
            if name not in SCORE_METRICS:
                m = result["metrics"][name]
                m["fallback"] = True
                m["note"] = FALLBACK_NOTE
