"""What a run says when its numbers rest on few positives or on the fallback threshold."""

import io

import numpy as np
import pytest
from rich.console import Console

from specs import spec_dict
from toolkit.console import baselines_table, metrics_table
from toolkit.errors import ToolkitError
from toolkit.evaluation.config import EvaluationConfig
from toolkit.evaluation.folds import check_positives
from toolkit.experiment.runner import run
from toolkit.experiment.spec import parse_spec


def _text(table) -> str:
    out = io.StringIO()
    Console(file=out, width=200).print(table)
    return out.getvalue()


def test_an_all_fallback_run_says_so_instead_of_printing_its_recall_as_a_finding(tmp_path):
    spec = parse_spec(spec_dict(featurizers=[{"type": "behavior"}], head={"type": "logreg"},
                                evaluation={"cv": {"folds": 3, "repeats": 1}, "bootstrap": 200,
                                            "min_validation_positives": 1000}))
    metrics = run(spec, results_dir=tmp_path, cache_dir=str(tmp_path / "cache"), save=False).metrics
    assert metrics["threshold"]["fallbacks"] == len(metrics["folds"])
    for name in ("recall", "precision", "f1"):
        assert metrics["metrics"][name]["fallback"] is True and "fallback" in metrics["metrics"][name]["note"]
    assert "fallback" not in metrics["metrics"]["roc_auc"]
    recall_row = next(line for line in _text(metrics_table(metrics)).splitlines() if "│ recall" in line)
    assert "fallback" in recall_row and "prevalence threshold" in recall_row


def test_the_terminal_labels_intervals_built_on_few_positives():
    result = {"confidence": 0.95, "intervals": {"note": "user resampling only; 4 positives"},
              "metrics": {n: {"mean": 0.5, "ci_low": 0.4, "ci_high": 0.6} for n in
                          ("roc_auc", "pr_auc", "recall", "precision", "f1", "accuracy", "balanced_accuracy")},
              "threshold": {"rule": "max_f1", "mean": 0.5}, "folds": [],
              "permutation": {"n": 19, "roc_auc": {"p_value": 0.35, "null": {"q05": 0.4, "q50": 0.5, "q95": 0.62}},
                              "delta_roc_auc": {"baseline": "timing", "p_value": 0.4,
                                                "null": {"q05": -0.1, "q50": 0.0, "q95": 0.1}}}}
    text = _text(metrics_table(result))
    assert "user resampling only; 4 positives" in text
    assert "roc_auc, permutation p" in text and "0.350" in text and "19 shuffles" in text
    assert "over timing, permutation p" in text
    result["baselines"] = {"timing": {"roc_auc": {"mean": 0.6, "ci_low": 0.5, "ci_high": 0.7},
                                      "pr_auc": {"mean": 0.2, "ci_low": 0.1, "ci_high": 0.3},
                                      "delta_roc_auc": {"mean": 0.3, "ci_low": 0.1, "ci_high": 0.5}}}
    assert "user resampling only; 4 positives" in _text(baselines_table(result))


def test_the_too_few_positives_message_says_what_lowering_the_minimum_costs():
    with pytest.raises(ToolkitError) as err:
        check_positives(np.r_[np.ones(4), np.zeros(40)], EvaluationConfig())
    message = str(err.value)
    assert "min_positives_per_fold" in message
    assert "costs power" in message and "evaluation.permutations" in message


def test_a_training_fold_with_one_positive_keeps_it_in_the_fit_part():
    from toolkit.evaluation.folds import carve_validation

    for seed in range(20):
        labels = np.zeros(14, dtype=int)
        labels[seed % 14] = 1
        fit, val = carve_validation(labels, 0.15, seed)
        assert labels[fit].sum() == 1 and labels[val].sum() == 0  # the head sees its one positive
        assert sorted(np.concatenate([fit, val]).tolist()) == list(range(14)) and len(val) == 2
    # two or more of each class: stratified as before, a positive in each part
    labels = np.array([1, 1, 1, 1] + [0] * 16)
    fit, val = carve_validation(labels, 0.25, 0)
    assert labels[fit].sum() >= 1 and labels[val].sum() >= 1
    # a validation part too small for both classes is drawn unstratified rather than refused
    fit, val = carve_validation(np.array([1, 1] + [0] * 8), 0.1, 0)
    assert len(val) == 1 and len(fit) == 9


@pytest.mark.parametrize("calibrate", ["none", "sigmoid"])
def test_two_folds_of_one_positive_each_run_with_a_fallback_threshold(tmp_path, calibrate):
    """29 labelled users with 2 positives, 2 folds, max_f1 (and Platt): each training fold's only positive
    used to land in the validation part half the time, and logistic regression stopped with a traceback."""
    spec = spec_dict(data={"synthetic": {"users": 30, "seed": 2, "positive_rate": 0.05}},
                     featurizers=[{"type": "behavior"}], head={"type": "logreg"},
                     training={"epochs": 2, "batch_size": 64, "calibrate": calibrate},
                     evaluation={"cv": {"folds": 2, "repeats": 1}, "bootstrap": 100, "permutations": 0,
                                 "threshold": "max_f1", "min_positives_per_fold": 1, "min_validation_positives": 1})
    spec["label"]["coverage"] = None
    m = run(parse_spec(spec), results_dir=tmp_path, cache_dir=str(tmp_path / "cache"), save=False).metrics
    assert m["data"]["positives"] == 2 and len(m["folds"]) == 2
    assert all(f["threshold_fallback"] for f in m["folds"])  # no positive left to pick a threshold with
    assert not m["calibration"]["calibrated"]  # nor to calibrate with
