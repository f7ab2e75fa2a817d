"""The spec's ``evaluation:`` block: folds or a split, the threshold rule, intervals."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from toolkit.errors import ToolkitError
from toolkit.evaluation.thresholds import validate_threshold_rule
from toolkit.params import Interval


@dataclass(kw_only=True)
class CVConfig:
    """``cv: {folds: K, repeats: R}``: repeated stratified K-fold."""

    folds: int = 5
    repeats: int = 1
    param_paths = True
    param_constraints = {"folds": Interval(2, 100), "repeats": Interval(1, 100)}


@dataclass(kw_only=True)
class SplitConfig:
    """``split: {test_fraction: F}``: one stratified train/test split, the cheap protocol for large data."""

    test_fraction: float = 0.2
    param_paths = True
    param_constraints = {"test_fraction": Interval(0.05, 0.5)}


@dataclass(kw_only=True)
class EvaluationConfig:
    """The spec's ``evaluation:`` block.

    Example:
        evaluation: {cv: {folds: 5, repeats: 2}, threshold: max_f1, min_positives_per_fold: 5}
    """

    cv: CVConfig | None = None  # repeated stratified K-fold (the default, 5 x 1)
    split: SplitConfig | None = None  # one stratified train/test split instead of cv
    threshold: str | float | dict = "max_f1"  # rule to pick the decision threshold on validation data
    min_positives_per_fold: int = 5  # stop before training if a test fold would hold fewer
    min_validation_positives: int = 3  # fewer in a validation part: the threshold falls back (evaluation.fallback)
    bootstrap: int = 1000  # resamples for the confidence intervals
    confidence: float = 0.95
    # label shuffles of the permutation test (evaluation.permutation); unset: on below a number of positives
    permutations: int | None = None

    param_constraints = {
        "permutations": Interval(0, 100_000),
        "min_positives_per_fold": Interval(1, 100_000),
        "min_validation_positives": Interval(0, 100_000),
        "bootstrap": Interval(100, 100_000),
        "confidence": Interval(0.5, 1, closed_high=False),
    }

    def validate(self, where: str) -> None:
        if self.cv is not None and self.split is not None:
            raise ToolkitError(f"{where} takes either 'cv' or 'split', not both.")
        problem = validate_threshold_rule(self.threshold)
        if problem:
            raise ToolkitError(f"{where}.threshold: {problem}")

    @property
    def folds(self) -> int:
        return (self.cv or CVConfig()).folds

    @property
    def repeats(self) -> int:
        return 1 if self.split else (self.cv or CVConfig()).repeats

    @property
    def test_fraction(self) -> float | None:
        return self.split.test_fraction if self.split else None

    def describe(self) -> str:
        if self.split:
            return f"stratified split, test fraction {self.split.test_fraction:g}"
        return f"repeated stratified {self.folds}-fold x {self.repeats}"

    def to_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v is not None}
