"""The runner end to end, in process: honest folds, metrics from scores, complete results folders."""

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score

from specs import spec_dict
from toolkit.featurizers import Featurizer
from toolkit.registry import FEATURIZERS
from toolkit.experiment.runner import run
from toolkit.experiment.spec import parse_spec


class SpyFeaturizer(Featurizer):
    """Records the users each instance was fitted on; features are behavior columns."""

    fitted_on: list = []

    def __init__(self, *, width: int = 3):
        self.width = width

    def fit(self, users):
        SpyFeaturizer.fitted_on.append(set(users["user_id"]))
        return self

    def transform(self, users):
        return users[["n_posts", "log_like_mean", "active_days"]].to_numpy(dtype=np.float32)[:, : self.width]


@pytest.fixture
def spy():
    FEATURIZERS.register("spy")(SpyFeaturizer)
    SpyFeaturizer.fitted_on = []
    yield SpyFeaturizer
    FEATURIZERS._entries.pop("spy")


def test_featurizers_never_see_test_users_and_metrics_come_from_scores(spy, tmp_path):
    spec = parse_spec(spec_dict(featurizers=[{"type": "spy"}], evaluation={"cv": {"folds": 3, "repeats": 2}, "bootstrap": 200}))
    outcome = run(spec, results_dir=tmp_path / "results", cache_dir=str(tmp_path / "cache"))
    folder = outcome.folder
    preds = pd.read_csv(folder / "predictions.csv", dtype={"user_id": str})
    assert sorted(preds["repeat"].unique()) == [0, 1]

    # 6 fold fits + 1 final fit; each fold fit excludes exactly that fold's test users
    assert len(spy.fitted_on) == 7
    for fitted, (key, rows) in zip(spy.fitted_on, preds.groupby(["repeat", "fold"])):
        assert fitted.isdisjoint(set(rows["user_id"])), f"featurizer saw test users of fold {key}"
    assert spy.fitted_on[-1] == set(preds["user_id"])

    metrics = json.loads((folder / "metrics.json").read_text())
    by_repeat = [g for _, g in preds.groupby("repeat")]
    assert metrics["metrics"]["roc_auc"]["mean"] == pytest.approx(
        np.mean([roc_auc_score(g["label"], g["score"]) for g in by_repeat]), abs=1e-9)
    assert metrics["metrics"]["pr_auc"]["mean"] == pytest.approx(
        np.mean([average_precision_score(g["label"], g["score"]) for g in by_repeat]), abs=1e-9)
    for name, m in metrics["metrics"].items():
        if name != "ece":  # the calibration error has no interval (toolkit.evaluation.calibration)
            assert m["ci_low"] <= m["mean"] <= m["ci_high"], name
    data = metrics["data"]
    assert data["labelled"] == len(by_repeat[0]) and data["positives"] == int(by_repeat[0]["label"].sum())
    for key in ("featurize_s", "train_s", "infer_ms_per_1k", "params", "model_bytes", "peak_rss_mb", "flops_per_user"):
        assert key in metrics["cost"]
    assert set(metrics["cost"]["featurize_s"]) == {"spy"}
    assert metrics["cost"]["params"] == 4  # logistic regression on 3 features + intercept
    assert "oracle" in metrics and metrics["oracle"]["roc_auc"]["mean"] > 0.6
    assert {"packages", "cpu", "threads", "seed"} <= set(metrics["environment"])
    assert sorted(p.name for p in folder.iterdir()) == ["coverage.png", "metrics.json", "model", "predictions.csv",
                                                        "report.html", "run.log", "spec.yaml"]
    assert not list(folder.parent.glob(".*partial"))


def test_same_spec_same_numbers(tmp_path):
    spec = parse_spec(spec_dict())
    a = run(spec, results_dir=tmp_path, cache_dir=str(tmp_path / "cache"), save=False).metrics
    b = run(spec, results_dir=tmp_path, cache_dir=str(tmp_path / "cache"), save=False).metrics
    assert a["metrics"] == b["metrics"]
    assert [f["roc_auc"] for f in a["folds"]] == [f["roc_auc"] for f in b["folds"]]


def test_threshold_is_chosen_on_validation_not_test(tmp_path, monkeypatch):
    import toolkit.experiment.fit as fit

    seen = []
    real = fit.choose_threshold

    def spy_threshold(y, scores, rule):
        seen.append(len(y))
        return real(y, scores, rule)

    monkeypatch.setattr(fit, "choose_threshold", spy_threshold)
    spec = parse_spec(spec_dict())
    out = run(spec, results_dir=tmp_path, cache_dir=str(tmp_path / "cache"), save=False).metrics
    tests = [f["test_users"] for f in out["folds"]]
    # each threshold was picked on a validation part (15% of a training fold), never on a test fold
    assert len(seen) == len(tests) + 1
    assert all(n < min(tests) / 2 for n in seen)


def test_failed_run_leaves_no_results_folder(tmp_path, monkeypatch):
    import toolkit.tasks.binary as binary

    def boom(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(binary, "final_model", boom)
    (tmp_path / "t" / "earlier").mkdir(parents=True)
    (tmp_path / "t" / "earlier" / "metrics.json").write_text("{}")
    with pytest.raises(RuntimeError):
        run(parse_spec(spec_dict()), results_dir=tmp_path, cache_dir=str(tmp_path / "cache"))
    assert [p.name for p in (tmp_path / "t").iterdir()] == ["earlier"]
    assert (tmp_path / "t" / "earlier" / "metrics.json").read_text() == "{}"


def test_changing_the_head_computes_no_features(tmp_path, monkeypatch):
    cache_dir = str(tmp_path / "cache")
    first = run(parse_spec(spec_dict()), results_dir=tmp_path, cache_dir=cache_dir, save=False).metrics
    assert first["cache"]["hits"] == 0 and first["cache"]["lookups"] == 8  # (3 folds + final) x 2 featurizers

    import toolkit.featurizers.tfidf as tfidf

    def no_fit(self, users):
        raise AssertionError("features were recomputed")

    monkeypatch.setattr(tfidf.TfidfFeaturizer, "fit", no_fit)
    second = run(parse_spec(spec_dict(head={"type": "logreg", "C": 0.1}, seed=3)), results_dir=tmp_path,
                 cache_dir=cache_dir, save=False, fold_seed=0).metrics
    assert second["cache"]["hits"] == second["cache"]["lookups"] == 8
    # the cost columns still show what the features cost to compute
    assert second["cost"]["featurize_s"] == first["cost"]["featurize_s"]
    monkeypatch.undo()

    third = run(parse_spec(spec_dict(featurizers=[{"type": "tfidf", "max_features": 100}, {"type": "behavior"}])),
                results_dir=tmp_path, cache_dir=cache_dir, save=False).metrics
    assert third["cache"]["hits"] == 4  # behavior reused, tfidf with other parameters recomputed
