"""Calibrated scores (training.calibrate), Brier score and ECE in metrics.json, and what predict writes."""

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import brier_score_loss

from specs import spec_dict
from toolkit.cli import main
from toolkit.evaluation.calibration import (Calibrator, calibration_metrics, expected_calibration_error,
                                            fit_calibrator)
from toolkit.experiment import fit
from toolkit.experiment.runner import data_path, run
from toolkit.experiment.spec import parse_spec


def _inflated(n=4000, seed=0):
    """Labels at a 10% base rate and scores pushed up as a balanced class weight does."""
    rng = np.random.default_rng(seed)
    p = rng.beta(1, 9, n)
    y = (rng.random(n) < p).astype(int)
    return y, 1 / (1 + np.exp(-(np.log(p / (1 - p)) + 2.2)))


@pytest.mark.parametrize("method", ["sigmoid", "isotonic"])
def test_a_calibrator_brings_inflated_scores_to_the_base_rate_and_keeps_their_order(method):
    y, s = _inflated()
    cal = fit_calibrator(method, s[:2000], y[:2000])
    held = cal.apply(s[2000:])
    assert abs(held.mean() - y[2000:].mean()) < 0.02 and s[2000:].mean() > 0.3
    assert brier_score_loss(y[2000:], held) < brier_score_loss(y[2000:], s[2000:]) - 0.05
    order = np.argsort(s[2000:])
    assert (np.diff(held[order]) >= -1e-12).all()  # monotone: the ranking survives
    back = Calibrator.from_dict(json.loads(json.dumps(cal.to_dict())))
    np.testing.assert_allclose(back.apply(s[2000:]), held)


def test_no_calibrator_without_both_classes_or_when_off():
    assert fit_calibrator("sigmoid", [0.1, 0.2], [0, 0]) is None
    assert fit_calibrator("none", [0.1, 0.9], [0, 1]) is None


def test_brier_and_ece_match_their_definitions():
    y, s = _inflated(600, 1)
    m = calibration_metrics(y, np.vstack([s, s]), n_boot=200, confidence=0.95, seed=0)
    assert m["brier"]["mean"] == pytest.approx(brier_score_loss(y, s))
    assert m["brier"]["ci_low"] < m["brier"]["mean"] < m["brier"]["ci_high"]
    assert m["brier"]["base_rate"] == pytest.approx(y.mean() * (1 - y.mean()))
    assert m["ece"]["mean"] == pytest.approx(expected_calibration_error(y, s))
    assert "ci_low" not in m["ece"]  # a resampled ECE is biased upward: no percentile interval
    assert expected_calibration_error(np.array([0, 0, 0, 1] * 5), np.full(20, 0.9)) == pytest.approx(0.65)
    assert expected_calibration_error(np.array([0, 1]), np.array([0.0, 1.0])) == pytest.approx(0.0)


def _spec(calibrate):
    return parse_spec(spec_dict(featurizers=[{"type": "behavior"}], head={"type": "logreg"},
                                training={"class_weight": "balanced", "calibrate": calibrate}))


def test_fold_calibrators_learn_from_validation_parts_only(tmp_path, monkeypatch):
    seen = []
    real = fit.calibrate_head

    def spy(method, head, scores, y_val):
        seen.append(len(y_val))
        return real(method, head, scores, y_val)

    monkeypatch.setattr(fit, "calibrate_head", spy)
    metrics = run(_spec("sigmoid"), results_dir=tmp_path, cache_dir=str(tmp_path / "c"), save=False).metrics
    train_sizes = [metrics["data"]["labelled"] - f["test_users"] for f in metrics["folds"]]
    # one calibrator per fold and one for the final model, each on its validation part (15%)
    assert len(seen) == len(train_sizes) + 1
    for n_val, n_train in zip(seen, train_sizes):
        assert n_val == pytest.approx(0.15 * n_train, abs=1)
    assert seen[-1] == pytest.approx(0.15 * metrics["data"]["labelled"], abs=1)


def test_calibration_lowers_the_brier_score_and_predict_writes_probabilities_only_then(tmp_path, capsys):
    folders = {}
    for method in ("none", "sigmoid"):
        outcome = run(_spec(method), results_dir=tmp_path / method, cache_dir=str(tmp_path / "c"))
        folders[method] = outcome.folder
    raw, cal = (json.loads((folders[m] / "metrics.json").read_text()) for m in ("none", "sigmoid"))
    assert raw["calibration"] == {"method": "none", "calibrated": False}
    assert cal["calibration"] == {"method": "sigmoid", "calibrated": True}
    assert cal["metrics"]["brier"]["mean"] < raw["metrics"]["brier"]["mean"]
    assert raw["metrics"]["brier"]["mean"] > raw["metrics"]["brier"]["base_rate"]  # balanced weights inflate
    assert cal["metrics"]["ece"]["mean"] < raw["metrics"]["ece"]["mean"]
    assert all(f["calibrated"] for f in cal["folds"])
    for metrics in (raw, cal):
        flagged = metrics["threshold"]["flagged"]
        assert 0 < flagged["out_of_fold"] < 1 and 0 < flagged["final_model"] < 1

    posts = data_path(_spec("none"))
    for method, want in (("none", False), ("sigmoid", True)):
        out = tmp_path / f"{method}.csv"
        assert main(["predict", str(folders[method]), str(posts), "--out", str(out)]) == 0
        stdout = capsys.readouterr().out
        table = pd.read_csv(out, dtype={"user_id": str})
        assert ("probability" in table.columns) is want
        assert ("scores are not probabilities" in stdout) is not want
        if not want:
            assert "class_weight: balanced" in stdout
        else:
            assert table["probability"].between(0, 1).all()
        # the share the run says predict would flag is what predict flags among the labelled users
        labelled = pd.read_csv(folders[method] / "predictions.csv", dtype={"user_id": str})["user_id"].unique()
        decisions = table.set_index("user_id")["decision"].reindex(labelled)
        reported = (raw if method == "none" else cal)["threshold"]["flagged"]["final_model"]
        assert decisions.mean() == pytest.approx(reported)
