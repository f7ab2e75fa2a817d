"""The time-to-return label kind end to end: spec validation, the label from a crawl with a gap, a run."""

from __future__ import annotations

import pytest

from specs import BASE, spec_dict
from toolkit.errors import ToolkitError
from toolkit.experiment.spec import parse_spec

TTR = {"cohort": BASE["label"]["cohort"], "observe_days": 7, "time_to_return": {"after_days": 7, "follow_days": 28}}


def survival_spec(**changes):
    return spec_dict(**{"label": TTR, "head": {"type": "cox"}, **changes})


def test_a_time_to_return_spec_validates_with_either_survival_head():
    for head in ("cox", "hazard"):
        spec = parse_spec(survival_spec(head={"type": head}))
        assert spec.label.kind == "time_to_event" and spec.head[0] == head
        assert spec.label.time_to_return.horizon_days() == [7, 14, 21]
    assert parse_spec(spec_dict()).label.kind == "binary"


@pytest.mark.parametrize("changes, message", [
    ({"head": {"type": "hazard"}}, "head 'hazard' learns time_to_event labels, but the spec's label.retained_if"),
    ({"head": {"type": "cox"}}, "Use a head that takes it (hybrid, logreg, lstm, mlp)"),
    ({"label": TTR, "head": {"type": "logreg"}}, "head 'logreg' learns binary labels, but the spec's label.time_to_return"),
    ({"label": {**TTR, "retained_if": BASE["label"]["retained_if"]}, "head": {"type": "cox"}},
     "exactly one of 'retained_if'"),
    ({"label": {k: v for k, v in TTR.items() if k != "time_to_return"}}, "exactly one of 'retained_if'"),
    ({"label": {**TTR, "time_to_return": {"after_days": 7, "follow_days": 28, "horizons": [30]}}, "head": "cox"},
     "time_to_return.horizons must be days after after_days that end a bin"),
    ({"label": {**TTR, "time_to_return": {"after_days": 3, "follow_days": 28}}, "head": "cox"},
     "time_to_return.after_days (3) must be >= observe_days"),
    ({"label": {**TTR, "time_to_return": {"after_days": 7, "follow_days": 7}}, "head": "cox"},
     "at least two time bins"),
    ({"label": TTR, "head": "cox", "training": {"resample": "oversample"}}, "training.resample and training.class_weight"),
    ({"label": TTR, "head": "cox", "evaluation": {"split": {"test_fraction": 0.2}}}, "Use evaluation.cv instead"),
])
def test_label_kind_and_head_mismatches_are_refused(changes, message):
    with pytest.raises(ToolkitError) as err:
        parse_spec(spec_dict(**changes))
    assert message in str(err.value)
