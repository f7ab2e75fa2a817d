"""Calibrated scores: ``training.calibrate: none | sigmoid | isotonic``, and how calibrated scores are.

A head's scores rank users, but they are probabilities only if the training
matched the data's base rate: with ``class_weight: balanced`` or resampling the
head learns a 50/50 world and its scores sit far above the real retention rate.
A calibrator maps scores to probabilities; it is fitted on the validation part
the runner carves from each training fold (the part that already picks the
threshold and stops training), never on a fold's test users, and the final
model's on its own validation part.

* ``sigmoid`` (Platt scaling): ``p = 1 / (1 + exp(-(a * logit(s) + b)))``, a
  logistic regression on the score's logit (L2-regularised as scikit-learn's
  default, which keeps it finite on a validation part a handful of users separate).
* ``isotonic``: the non-decreasing step function that best fits the validation
  labels, interpolated linearly between its knots and clipped at the ends (as
  scikit-learn's ``IsotonicRegression(out_of_bounds="clip")``). It needs more
  validation users than ``sigmoid`` to be smooth.

A validation part without both classes cannot calibrate; that fold keeps its raw
scores and the run does not count as calibrated. Both maps are monotone, so the
ranking metrics barely move (isotonic can tie neighbours); the threshold is
chosen on the calibrated scale. The parameters are plain numbers saved in
``model.json``.

How calibrated out-of-fold scores are: the Brier score (mean squared difference
between score and label; a constant at the base rate ``r`` scores ``r (1 - r)``)
with a stratified bootstrap interval drawn like the other metrics', and the
expected calibration error over 10 equal-width score bins (the users' share of
each bin times the gap between its mean score and its retained share).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CALIBRATION_METHODS = ("none", "sigmoid", "isotonic")
_EPS = 1e-6


def _logit(s: np.ndarray) -> np.ndarray:
    s = np.clip(np.asarray(s, dtype=float), _EPS, 1 - _EPS)
    return np.log(s / (1 - s))


@dataclass
class Calibrator:
    """A fitted score-to-probability map (``method`` and its numbers)."""

    method: str
    params: dict

    def apply(self, scores) -> np.ndarray:
        s = np.asarray(scores, dtype=float)
        if self.method == "sigmoid":
            return 1.0 / (1.0 + np.exp(-(self.params["a"] * _logit(s) + self.params["b"])))
        return np.interp(s, self.params["x"], self.params["y"])

    def to_dict(self) -> dict:
        return {"method": self.method, **self.params}

    @classmethod
    def from_dict(cls, data: dict) -> "Calibrator":
        keys = ("a", "b") if data["method"] == "sigmoid" else ("x", "y")
        return cls(data["method"], {k: data[k] for k in keys})


def fit_calibrator(method: str, scores, y) -> Calibrator | None:
    """Fit ``method`` on held-out scores and labels; None for ``none`` or when a class is missing."""
    y = np.asarray(y).astype(int)
    if method == "none" or len(np.unique(y)) < 2:
        return None
    s = np.asarray(scores, dtype=float)
    if method == "sigmoid":
        from sklearn.linear_model import LogisticRegression

        model = LogisticRegression().fit(_logit(s)[:, None], y)
        return Calibrator("sigmoid", {"a": float(model.coef_[0, 0]), "b": float(model.intercept_[0])})
    from sklearn.isotonic import IsotonicRegression

    iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(s, y)
    return Calibrator("isotonic", {"x": iso.X_thresholds_.tolist(), "y": iso.y_thresholds_.tolist()})


class CalibratedHead:
    """A fitted head whose scores pass through a calibrator; everything else is the head's."""

    def __init__(self, head, calibrator: Calibrator):
        self.head = head
        self.calibrator = calibrator

    @property
    def filename(self) -> str:
        return type(self.head).filename

    def predict(self, blocks) -> np.ndarray:
        return self.calibrator.apply(self.head.predict(blocks))

    def __getattr__(self, name):
        if name in ("head", "calibrator"):  # not set yet (e.g. while unpickling): no recursion
            raise AttributeError(name)
        return getattr(self.head, name)


def expected_calibration_error(y, scores, bins: int = 10) -> float:
    """Share-weighted gap between mean score and retained share over ``bins`` equal-width score bins."""
    y, s = np.asarray(y, dtype=float), np.asarray(scores, dtype=float)
    which = np.minimum((s * bins).astype(int), bins - 1)
    counts = np.bincount(which, minlength=bins)
    gap = np.abs(np.bincount(which, weights=s, minlength=bins) - np.bincount(which, weights=y, minlength=bins))
    return float(gap.sum() / max(counts.sum(), 1))


def calibration_metrics(y, scores, *, n_boot: int, confidence: float, seed: int, bins: int = 10) -> dict:
    """``metrics.brier`` (with interval and the base-rate Brier) and ``metrics.ece``, averaged over repeats.

    Brier's interval comes from the same stratified user bootstrap as the other metrics (same seed, same
    draws). ECE gets none: it sums absolute gaps, so every resample inflates it (a percentile interval
    would sit above the estimate, often excluding it); read it beside the Brier score and its interval.
    """
    from toolkit.evaluation.metrics import _bootstrap_blocks, _percentile_ci

    y = np.asarray(y).astype(bool)
    scores = np.atleast_2d(np.asarray(scores, dtype=float))
    loss = (scores - y) ** 2  # (R, n)

    def brier(w_pos, w_neg):
        w = np.zeros((w_pos.shape[0], len(y)))
        w[:, y], w[:, ~y] = w_pos, w_neg
        return np.mean([w @ row / w.sum(axis=1) for row in loss], axis=0)

    point = brier(np.ones((1, int(y.sum()))), np.ones((1, int((~y).sum()))))
    draws = [brier(*w) for w in _bootstrap_blocks(y, n_boot, seed)]
    low, high = _percentile_ci(np.concatenate(draws), confidence)
    rate = float(y.mean())
    return {"brier": {"mean": float(point[0]), "ci_low": low, "ci_high": high, "base_rate": rate * (1 - rate)},
            "ece": {"mean": float(np.mean([expected_calibration_error(y, row, bins) for row in scores])), "bins": bins}}


def calibrate_head(method: str, head, val_scores, y_val):
    """The head, wrapped in its calibrator when ``method`` is not ``none`` and the validation part allows it."""
    calibrator = fit_calibrator(method, val_scores, y_val)
    return head if calibrator is None else CalibratedHead(head, calibrator)


def is_calibrated(head) -> bool:
    return isinstance(head, CalibratedHead)


def calibration_info(head) -> dict | None:
    """What ``model.json`` keeps of a head's calibrator (None for raw scores)."""
    return head.calibrator.to_dict() if is_calibrated(head) else None
