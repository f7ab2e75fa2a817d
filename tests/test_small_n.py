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
