"""The label-permutation test: its p-value arithmetic, when it runs, and that it is honest at small n."""

import dataclasses
import json

import numpy as np
import pytest

from specs import spec_dict
from toolkit.evaluation.permutation import (AUTO_BELOW_POSITIVES, AUTO_PERMUTATIONS, p_value,
                                            planned_permutations)
from toolkit.evaluation.metrics import CORRECTED_METHOD
from toolkit.experiment.featurize import FeatureStore
from toolkit.experiment.permutation import permutation_test
from toolkit.experiment.runner import prepare, run
from toolkit.tasks.binary import cross_validate
from toolkit.progress import NullProgress
from toolkit.experiment.spec import parse_spec

TINY = {"featurizers": [{"type": "behavior"}], "head": {"type": "logreg"}}


def test_p_value_counts_ties_and_the_observed_draw():
    assert p_value(0.9, np.full(19, 0.5)) == pytest.approx(1 / 20)
    assert p_value(0.5, np.full(19, 0.5)) == 1.0  # a tie counts against the observed value
    assert p_value(0.7, np.r_[np.full(9, 0.5), np.full(10, 0.8)]) == pytest.approx(11 / 20)
    assert np.isnan(p_value(float("nan"), np.full(3, 0.5)))


def test_the_test_switches_itself_on_below_the_documented_positives_only():
    assert planned_permutations(None, AUTO_BELOW_POSITIVES - 1) == AUTO_PERMUTATIONS
    assert planned_permutations(None, AUTO_BELOW_POSITIVES) == 0
    assert planned_permutations(0, 3) == 0  # the spec turns it off
    assert planned_permutations(7, 500) == 7  # and on for any run


def test_strong_signal_gives_the_smallest_p_value_and_records_the_null(tmp_path):
    spec = parse_spec(spec_dict(**TINY, data={"synthetic": {"users": 200, "seed": 1, "positive_rate": 0.3}},
                                evaluation={"cv": {"folds": 3, "repeats": 1}, "bootstrap": 200, "permutations": 19}))
    outcome = run(spec, results_dir=tmp_path / "r", cache_dir=str(tmp_path / "cache"))
    perm = json.loads((outcome.folder / "metrics.json").read_text())["permutation"]
    # two sequential series now ("better than chance", "adds to timing"): n counts both
    assert perm["roc_auc"]["shuffles"] == 19 and perm["auto"] is False
    assert perm["n"] == 19 + perm["delta_roc_auc"]["shuffles"]
    assert perm["roc_auc"]["question"] == "better than chance"
    assert perm["delta_roc_auc"]["question"] == "adds to timing"
    assert perm["roc_auc"]["observed"] == pytest.approx(outcome.metrics["metrics"]["roc_auc"]["mean"])
    assert perm["roc_auc"]["p_value"] == pytest.approx(1 / 20)
    null = perm["roc_auc"]["null"]
    assert null["q05"] <= null["q50"] <= null["q95"] < perm["roc_auc"]["observed"]
    assert 0.35 < null["q50"] < 0.65  # shuffled labels score like chance
    delta = perm["delta_roc_auc"]
    assert delta["baseline"] in outcome.metrics["baselines"]
    assert 0 < delta["p_value"] <= 1 and np.isfinite(delta["null"]["q50"])


def test_few_positives_turn_the_test_on_with_a_cost_estimate_and_label_the_intervals(tmp_path, monkeypatch):
    monkeypatch.setattr("toolkit.experiment.permutation.AUTO_SEQUENTIAL", 9)  # the rule, not its size, is tested
    spec = parse_spec(spec_dict(**TINY, data={"synthetic": {"users": 120, "seed": 2, "positive_rate": 0.15}},
                                evaluation={"cv": {"folds": 3, "repeats": 1}, "bootstrap": 200,
                                            "min_positives_per_fold": 1}))
    outcome = run(spec, results_dir=tmp_path / "r", cache_dir=str(tmp_path / "cache"))
    metrics = outcome.metrics
    positives = metrics["data"]["positives"]
    assert positives < AUTO_BELOW_POSITIVES
    assert metrics["permutation"]["n_max"] == 9 and metrics["permutation"]["auto"] is True
    estimate = [line for line in outcome.log if "permutation test:" in line]
    assert estimate and "2 questions x at most 9 shuffles x" in estimate[0] and "at most" in estimate[0]
    # the intervals now include the fitting (corrected t over folds); the note says they are wide, not narrow
    assert metrics["intervals"]["method"] == CORRECTED_METHOD
    assert metrics["intervals"]["note"].startswith(f"{positives} positives: the intervals include the fitting")


def test_many_positives_leave_the_test_off_unless_asked(tmp_path):
    spec = parse_spec(spec_dict(**TINY))
    metrics = run(spec, results_dir=tmp_path, cache_dir=str(tmp_path / "cache"), save=False).metrics
    assert metrics["data"]["positives"] >= AUTO_BELOW_POSITIVES
    assert "permutation" not in metrics and "note" not in metrics["intervals"]
    assert metrics["intervals"]["method"] == CORRECTED_METHOD  # every run says how its intervals were made


@pytest.mark.slow
def test_labels_independent_of_the_features_are_declared_significant_at_most_at_the_nominal_rate(tmp_path):
    """40 null data sets x 19 shuffles, 8 positives among 129 users: p <= 0.05 at most 5% of the time.

    The allowed rate is 0.05 plus two binomial standard errors of 40 draws (0.069), so a
    correct test fails here about 2% of the time at worst; the seeds are fixed, so it does not flake.
    """
    spec = parse_spec(spec_dict(**TINY, data={"synthetic": {"users": 130, "seed": 5, "positive_rate": 0.2}},
                                evaluation={"cv": {"folds": 3, "repeats": 1}, "bootstrap": 100,
                                            "min_positives_per_fold": 1}))
    prepared = prepare(spec, cache_dir=str(tmp_path / "cache"))
    store = FeatureStore.open(prepared.users, str(tmp_path / "cache"))
    rng = np.random.default_rng(0)
    rejections = {"roc_auc": 0, "delta_roc_auc": 0}
    data_sets = 40
    for _ in range(data_sets):
        y = np.zeros(len(prepared.y), dtype=prepared.y.dtype)
        y[rng.choice(len(y), 8, replace=False)] = 1  # labels drawn without looking at any feature
        null = dataclasses.replace(prepared, y=y)
        cv = cross_validate(spec, null, store, fold_seed=0, progress=NullProgress())
        perm = permutation_test(spec, null, store, cv, cross_validate, fold_seed=0, loop_seconds=0.0, progress=NullProgress(), n=19)
        for key in rejections:
            rejections[key] += perm[key]["p_value"] <= 0.05
    print(f"null data sets declared significant: {rejections} of {data_sets}")
    margin = 2 * np.sqrt(0.05 * 0.95 / data_sets)
    for key, count in rejections.items():
        assert count / data_sets <= 0.05 + margin, f"{key}: {count} of {data_sets} null data sets 'significant'"
