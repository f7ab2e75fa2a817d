"""Confound baselines, exposure-free features, threshold fallbacks, the split protocol, end to end."""

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from posts_factory import frame, post
from specs import spec_dict
from toolkit.data.label import parse_label
from toolkit.data.users import build_users
from toolkit.evaluation.baselines import calendar_warning, confound_features, out_of_fold_scores
from toolkit.evaluation.config import EvaluationConfig
from toolkit.evaluation.fallback import needs_fallback, prevalence_threshold
from toolkit.evaluation.folds import make_folds
from toolkit.experiment.runner import run
from toolkit.experiment.spec import parse_spec
from toolkit.featurizers.behavior import BehaviorFeaturizer
from toolkit.featurizers.temporal import TemporalFeaturizer


def calendar_only_posts(n=240, seed=0):
    """Users post once a day from their first day to Feb 3; retention depends only on the first day."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        first = pd.Timestamp("2025-01-01") + pd.Timedelta(days=int(rng.integers(0, 31)))
        for day in pd.date_range(first, "2025-02-03"):
            rows.append(post(f"u{i:03d}", f"{day.date()} 10:00", content="hello there"))
        late = first >= pd.Timestamp("2025-01-20")
        if rng.random() < (0.8 if late else 0.1):
            rows.append(post(f"u{i:03d}", "2025-02-10 10:00", content="back"))
    rows.append(post("end", "2025-02-28 10:00"))
    return frame(rows)


def cv_auc(x, y, folds):
    return roc_auc_score(y, np.nanmean(out_of_fold_scores(x, y, folds, 1, 0), axis=0))


def test_built_in_blocks_do_not_learn_how_long_a_user_was_observed():
    label = parse_label({"cohort": {"first_seen": ["2025-01-01", "2025-01-31"]}, "observe_until": "2025-02-03",
                         "retained_if": {"active_between": ["2025-02-04", "2025-02-28"]}, "coverage": None})
    users, y, _ = build_users(calendar_only_posts(), label)
    folds = make_folds(y, EvaluationConfig(), 0)
    first_seen = cv_auc(confound_features(users)["timing"], y, folds)
    exposure = cv_auc(confound_features(users)["exposure"], y, folds)
    assert first_seen > 0.8 and exposure > 0.8, "the data must carry the confound for the test to mean anything"
    behavior = cv_auc(BehaviorFeaturizer().fit_transform(users), y, folds)
    temporal = cv_auc(TemporalFeaturizer().fit_transform(users).reshape(len(users), -1), y, folds)
    assert behavior < 0.6 and temporal < 0.6
    assert users["activity"].iloc[0].shape == (4, 2), "Jan 31 .. Feb 3: four days for every user"


def test_fallback_threshold_flags_the_training_positive_rate():
    assert needs_fallback([0, 1, 0, 1], "max_f1", 3) and not needs_fallback([1, 1, 1], "max_f1", 3)
    assert not needs_fallback([0, 0], 0.4, 3), "a fixed threshold never falls back"
    scores = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05])
    y = np.array([1, 0, 1, 0, 0, 0, 0, 0, 0, 0])  # 20% positive -> flag the top 2
    assert prevalence_threshold(y, scores) == pytest.approx(0.8)


def test_calendar_warning_only_when_the_interval_includes_zero():
    def result(low, name="timing"):
        return {name: {"delta_roc_auc": {"mean": 0.05, "ci_low": low, "ci_high": 0.1}}}

    assert calendar_warning(result(0.01)) is None
    assert "timing baseline" in calendar_warning(result(-0.01))
    assert "may be learning the calendar" in calendar_warning(result(-0.01, "first_seen")), \
        "results written before the timing baseline name it first_seen"


@pytest.fixture(scope="module")
def split_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("split")
    spec = parse_spec(spec_dict(evaluation={"split": {"test_fraction": 0.25}, "bootstrap": 200,
                                            "min_validation_positives": 100}))
    return run(spec, results_dir=tmp / "results", cache_dir=str(tmp / "cache"))


def test_split_runs_end_to_end_with_baselines_and_coverage(split_run):
    m = json.loads((split_run.folder / "metrics.json").read_text())
    preds = pd.read_csv(split_run.folder / "predictions.csv")
    assert abs(len(preds) - m["data"]["labelled"] * 0.25) < 1, "only the test part is scored"
    assert np.isfinite(m["metrics"]["roc_auc"]["mean"]) and m["metrics"]["roc_auc"]["mean"] > 0.6
    for name in ("timing", "exposure"):
        b = m["baselines"][name]
        assert b["roc_auc"]["ci_low"] <= b["roc_auc"]["mean"] <= b["roc_auc"]["ci_high"]
        d = b["delta_roc_auc"]
        assert d["mean"] == pytest.approx(m["metrics"]["roc_auc"]["mean"] - b["roc_auc"]["mean"])
    assert m["data"]["censored_by_coverage"] == 0 and m["data"]["coverage"].startswith("off"), \
        "synthetic data: the rule is off unless the spec sets it"
    assert (split_run.folder / "coverage.png").read_bytes()[:4] == b"\x89PNG"
    assert m["ceiling"]["roc_auc"]["mean"] < m["oracle"]["roc_auc"]["mean"]
    # min_validation_positives: 100 is more than any validation part holds: every threshold fell back
    assert m["threshold"]["fallbacks"] == len(m["folds"]) == 1 and m["folds"][0]["threshold_fallback"]
    assert m["fold_roc_auc"]["folds"] == 1
    assert m["fold_roc_auc"]["mean"] == pytest.approx(m["metrics"]["roc_auc"]["mean"])


def test_coverage_set_in_the_spec_applies_to_synthetic_data(tmp_path):
    from toolkit.experiment.runner import prepare

    # The generator's crawl has no gap; a spec that says the crawler missed Feb 1-4 is believed.
    days = [["2025-01-01", "2025-01-31"], ["2025-02-05", "2025-06-30"]]
    label = {**spec_dict()["label"], "coverage": {"days": days, "min_covered_days": 1.0}}
    prepared = prepare(parse_spec(spec_dict(label=label, evaluation={"min_positives_per_fold": 1})),
                       cache_dir=str(tmp_path))
    report = prepared.report
    assert report.censored_by_coverage > 0 and report.windows["gaps"] == [["2025-02-01", "2025-02-04"]]
    assert report.labelled == len(prepared.y) == report.in_cohort - report.censored - report.censored_by_coverage
