"""What a run's numbers cannot carry by themselves: few positives, and thresholds that all fell back.

* With fewer than :data:`~toolkit.evaluation.permutation.AUTO_BELOW_POSITIVES`
  positives the bootstrap intervals resample users around one fitted pipeline; the
  variance of the fitting is not in them. ``metrics.json`` and the terminal say so
  beside them ("user resampling only; N positives") and point to the permutation test.
  A time-to-return run does the same with the returns seen ("user resampling only; N returns"),
  and its permutation test (:mod:`toolkit.evaluation.survival_permutation`) runs below the
  same count.
* When every fold's threshold fell back to flagging the training positive rate
  (:mod:`toolkit.evaluation.fallback`), the threshold metrics describe that fallback
  rule, not a threshold the spec's rule chose; each is marked ``fallback: true``.
"""

from __future__ import annotations

from toolkit.evaluation.metrics import METRIC_NAMES, SCORE_METRICS
from toolkit.evaluation.permutation import AUTO_BELOW_POSITIVES

FALLBACK_NOTE = "fallback: every fold flagged its training positive rate (too few validation positives)"


def interval_note(positives: int, what: str = "positives") -> str | None:
    """The label for bootstrap intervals that rest on few positives (or returns seen), or None."""
    if positives >= AUTO_BELOW_POSITIVES:
        return None
    return f"user resampling only; {positives} {what}"


def annotate_survival(result: dict) -> None:
    """The few-returns caveat for a time-to-return run's intervals, in place.

    With few returns seen the bootstrap intervals (users resampled around one fitted pipeline)
    leave out the fitting's own variance: they are labelled as such, as a binary run's are, and
    the permutation test (on by itself below the same count of returns) gives the p-value of the
    C-index to read instead.
    """
    note = interval_note(int(result["data"]["time_to_return"]["returned"]), "returns")
    if note:
        result["intervals"] = {"method": "stratified user bootstrap", "note": note}


def annotate(result: dict) -> None:
    """Add the caveats to a run's ``metrics.json`` mapping, in place."""
    note = interval_note(int(result["data"]["positives"]))
    if note:
        result["intervals"] = {"method": "stratified user bootstrap", "note": note}
    folds = result.get("folds") or []
    if folds and all(f.get("threshold_fallback") for f in folds):
        for name in METRIC_NAMES:
            if name not in SCORE_METRICS:
                m = result["metrics"][name]
                m["fallback"] = True
                m["note"] = FALLBACK_NOTE
