import json
import sys

import pytest

from analysis_fixtures import finished_run  # noqa: F401  (fixture)
from toolkit.analysis.tracking import flatten, metric_values, track_run, track_sweep
from toolkit.bench.records import ConfigResult
from toolkit.cli import main

mlflow = pytest.importorskip("mlflow")


def test_flatten_and_metric_values_by_hand():
    assert flatten({"training": {"epochs": 5, "loss": "bce"}, "featurizers": [{"type": "tfidf"}], "seed": 0}) == {
        "training.epochs": "5", "training.loss": "bce", "featurizers": "[{type: tfidf}]", "seed": "0"}
    metrics = {"metrics": {"roc_auc": {"mean": 0.7, "ci_low": 0.6, "ci_high": 0.8}},
               "cost": {"train_s": 1.5, "featurize_s": {"tfidf": 0.25}, "params": 10},
               "threshold": {"rule": "max_f1", "final_model": 0.3}}
    assert metric_values(metrics) == {"roc_auc": 0.7, "roc_auc_ci_low": 0.6, "roc_auc_ci_high": 0.8,
                                      "cost.train_s": 1.5, "cost.featurize_s.tfidf": 0.25, "cost.params": 10.0,
                                      "threshold.final_model": 0.3}


def test_a_run_and_a_sweep_land_in_the_sqlite_store_and_are_listed(finished_run, tmp_path):
    from mlflow.tracking import MlflowClient

    folder, _ = finished_run
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    run_id = track_run(folder, uri=uri)
    client = MlflowClient(tracking_uri=uri)
    experiment = client.get_experiment_by_name("analysis")
    listed = client.search_runs([experiment.experiment_id])
    assert [r.info.run_id for r in listed] == [run_id]
    run = listed[0]
    expected = json.loads((folder / "metrics.json").read_text())["metrics"]["roc_auc"]
    assert run.data.metrics["roc_auc"] == pytest.approx(expected["mean"])
    assert run.data.metrics["roc_auc_ci_low"] == pytest.approx(expected["ci_low"])
    assert run.data.params["head.type"] == "logreg" and run.data.params["training.epochs"] == "3"
    artifacts = {a.path for a in client.list_artifacts(run_id)}
    assert {"metrics.json", "spec.yaml", "predictions.csv", "model"} <= artifacts

    results = [ConfigResult("c00", "a", "done", "", folder, True), ConfigResult("c01", "b", "skipped", "no weights")]
    sweep_dir = tmp_path / "sweep"
    sweep_dir.mkdir()
    (sweep_dir / "table.md").write_text("| a |\n")
    parent_id = track_sweep(sweep_dir, results, "my_sweep", uri=uri)
    runs = client.search_runs([client.get_experiment_by_name("my_sweep").experiment_id])
    children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parent_id]
    assert len(runs) == 2 and len(children) == 1
    parent = client.get_run(parent_id)
    assert parent.data.metrics["configurations.skipped"] == 1.0
    assert "table.md" in {a.path for a in client.list_artifacts(parent_id)}


def test_track_without_mlflow_says_how_to_install_before_running(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "mlflow", None)
    rc = main(["run", "experiments/quickstart.yaml", "--results-dir", str(tmp_path / "r"), "--track", "mlflow"])
    err = capsys.readouterr().err
    assert rc == 2 and "retention-toolkit[tracking]" in err
    assert not (tmp_path / "r").exists()
