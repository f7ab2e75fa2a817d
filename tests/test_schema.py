"""The declared schemas: every spec parameter is refused at validation, before any data is read."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pytest
import yaml

from specs import spec_dict
from toolkit.cli import main
from toolkit.errors import ToolkitError
from toolkit.experiment.spec import parse_spec
from toolkit.params import Interval, parse

LABEL = spec_dict()["label"]


@pytest.mark.parametrize("changes, message", [
    ({"featurizers": [{"type": "tfidf", "ngram_range": [2, 1]}]}, r"featurizers\[0\]: the 'ngram_range'.*\[2, 1\]"),
    ({"featurizers": [{"type": "tfidf", "min_df": 1.5}]}, r"'min_df' parameter of TfidfFeaturizer"),
    ({"training": {"learning_rate": float("nan")}}, r"'learning_rate' parameter of TrainingConfig .*Got nan"),
    ({"training": {"epochs": 10**9}}, r"'epochs' parameter of TrainingConfig"),
    ({"head": {"type": "logreg", "C": float("inf")}}, r"'C' parameter of LogRegHead"),
    ({"seed": 2**32}, r"'seed' must be an int >= 0 and <= 4294967295"),
    ({"evaluation": {"bootstrap": 10**9}}, r"'bootstrap' parameter of EvaluationConfig"),
    ({"evaluation": {"cv": {"repeats": 10**9}}}, r"evaluation.cv.repeats must be an int >= 1 and <= 100"),
    ({"evaluation": {"cv": {"folds": 5}, "split": {"test_fraction": 0.2}}}, "either 'cv' or 'split'"),
    ({"evaluation": {"split": {"test_fraction": 0.9}}}, r"evaluation.split.test_fraction must be a float"),
    ({"evaluation": {"cv": {"fold": 3}}}, r"evaluation.cv: unknown key 'fold'. Did you mean 'folds'\?"),
    ({"data": {"synthetic": {"users": 10**9}}}, r"'users' parameter of SyntheticConfig"),
    ({"label": {**LABEL, "obsrve_days": 7}}, r"label: unknown key 'obsrve_days'. Did you mean 'observe_days'\?"),
    ({"label": {**LABEL, "observe_days": 10**6}}, r"label.observe_days must be an int >= 1 and <= 3660"),
    ({"traning": {}}, r"Unknown top-level key 'traning' in the spec. Did you mean 'training'\?"),
    ({"name": "x" * 300}, r"'name' must be letters, digits.*at most 100 characters"),
    ({"name": "ok\n"}, r"'name' must be letters"),
])
def test_bad_parameters_are_refused_with_what_was_expected(changes, message):
    with pytest.raises(ToolkitError, match=message):
        parse_spec(spec_dict(**changes))


def test_validate_refuses_before_reading_data(tmp_path, capsys):
    raw = spec_dict(data={"path": "missing.csv"}, featurizers=[{"type": "tfidf", "ngram_range": [2, 1]}])
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(raw))
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert "ngram_range" in err and "missing.csv" not in err  # the parameter, not the absent file


@dataclass(kw_only=True)
class Inner:
    when: dt.date
    n: int = 1
    param_paths = True
    param_constraints = {"n": (Interval(0, 10), Interval(2, None))}  # several constraints on one parameter

    def validate(self, where):
        if self.when.year < 2000:
            raise ToolkitError(f"{where}.when must be in this century")


@dataclass(kw_only=True)
class Outer:
    inner: Inner
    extra: Inner | None = None
    items: list = field(default_factory=list)
    param_paths = True


def test_nested_blocks_dates_and_hooks():
    out = parse(Outer, {"inner": {"when": "2025-01-02", "n": 3}}, where="x")
    assert out.inner.when == dt.date(2025, 1, 2) and out.extra is None and out.items == []
    with pytest.raises(ToolkitError, match=r"x.inner.n must be an int >= 0 and <= 10 >= 2. Got 1"):
        parse(Outer, {"inner": {"when": "2025-01-02", "n": 1}}, where="x")
    with pytest.raises(ToolkitError, match=r"x.extra.when must be in this century"):
        parse(Outer, {"inner": {"when": "2025-01-02"}, "extra": {"when": "1999-12-31"}}, where="x")
    with pytest.raises(ToolkitError, match=r"x.inner.when must be a date written YYYY-MM-DD. Got 'soon'"):
        parse(Outer, {"inner": {"when": "soon"}}, where="x")
    with pytest.raises(ToolkitError, match=r"x.inner is required"):
        parse(Outer, {}, where="x")
