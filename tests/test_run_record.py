"""The results contract: a run folder read back as a RunRecord, a sweep folder as a SweepRecord."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis_fixtures import finished_run  # noqa: F401  (fixture)
from specs import spec_dict
from toolkit import __version__
from toolkit.bench import executors, harness
from toolkit.bench.comparison import gather
from toolkit.bench.ledger import Ledger
from toolkit.bench.records import ConfigResult
from toolkit.bench.sweep_record import SweepRecord
from toolkit.bench.table import build_rows, header_lines
from toolkit.errors import ToolkitError
from toolkit.experiment import record as record_module
from toolkit.experiment.record import (FORMAT_VERSION, MODEL_DIR, MODEL_INFO_FILE, RunRecord, file_sha256,
                                       is_run_folder)


def raw_metrics(folder: Path) -> dict:
    return json.loads((folder / "metrics.json").read_text())


def test_a_run_folder_reads_back_as_typed_sections(finished_run):  # noqa: F811
    folder, _ = finished_run
    raw = raw_metrics(folder)
    record = RunRecord.open(folder)
    assert record.name == raw["name"] == "analysis"
    assert record.format_version == FORMAT_VERSION and raw["toolkit_version"] == __version__
    for metric in ("roc_auc", "pr_auc", "recall", "precision"):
        got = record.metrics[metric]
        assert (got.mean, got.low, got.high) == tuple(raw["metrics"][metric][k] for k in ("mean", "ci_low", "ci_high"))
    assert record.data.labelled == raw["data"]["labelled"] and record.data.positives == raw["data"]["positives"]
    assert record.threshold.final_model == raw["threshold"]["final_model"]
    assert set(record.baselines) == set(raw["baselines"]) and record.cost == raw["cost"]
    assert record.repeats == 1 and is_run_folder(folder)


def test_out_of_fold_arrays_match_the_predictions_file(finished_run):  # noqa: F811
    folder, _ = finished_run
    table = pd.read_csv(folder / "predictions.csv", dtype={"user_id": str})
    oof = RunRecord.open(folder).out_of_fold
    order = np.argsort(table["user_id"].to_numpy())
    assert list(oof.user_ids) == sorted(table["user_id"])
    np.testing.assert_array_equal(oof.scores[0], table["score"].to_numpy()[order])
    np.testing.assert_array_equal(oof.folds[0], table["fold"].to_numpy()[order])
    np.testing.assert_array_equal(oof.y, table["label"].to_numpy()[order])
    assert oof.scores.shape == (1, len(table))


def test_predictions_are_read_once_per_record(finished_run, monkeypatch):  # noqa: F811
    folder, _ = finished_run
    calls = []
    real = record_module.read_predictions
    monkeypatch.setattr(record_module, "read_predictions", lambda *a: calls.append(a) or real(*a))
    record = RunRecord.open(folder)
    record.out_of_fold, record.predictions, record.out_of_fold  # noqa: B018
    assert len(calls) == 1


def test_a_comparison_reads_each_run_folder_once(finished_run, monkeypatch):  # noqa: F811
    folder, _ = finished_run
    opened, reads = [], []
    real_open, real_read = RunRecord.open.__func__, record_module.read_predictions
    monkeypatch.setattr(RunRecord, "open", classmethod(lambda cls, f: opened.append(f) or real_open(cls, f)))
    monkeypatch.setattr(record_module, "read_predictions", lambda *a: reads.append(a) or real_read(*a))
    results, baselines = gather([str(folder)])
    build_rows(results, baselines=baselines, n_boot=50)
    header_lines(results)
    assert len(opened) == 1 and len(reads) == 1


def test_unknown_keys_are_kept_and_optional_sections_may_be_missing(finished_run):  # noqa: F811
    folder, _ = finished_run
    raw = raw_metrics(folder)
    raw["calibration_from_the_future"] = {"brier": 0.1}
    for key in ("baselines", "oracle", "rows", "warnings", "folds", "confidence"):
        raw.pop(key, None)
    record = RunRecord.from_dict(raw, folder)
    assert record.raw["calibration_from_the_future"] == {"brier": 0.1}
    assert record.baselines == {} and record.warnings == [] and record.confidence == 0.95


@pytest.mark.parametrize("change, fragment", [
    (lambda r: r["metrics"].pop("recall"), "'metrics.recall'"),
    (lambda r: r["metrics"]["roc_auc"].update(mean="0.7"), "'metrics.roc_auc.mean'"),
    (lambda r: r["cost"].pop("train_s"), "'cost.train_s'"),
    (lambda r: r.update(name=["a"]), "'name'"),
    (lambda r: r.update(format_version=True), "'format_version'"),
    (lambda r: r.update(format_version=FORMAT_VERSION + 1), "Upgrade the toolkit"),
])
def test_a_record_missing_what_this_version_needs_is_refused(finished_run, change, fragment):  # noqa: F811
    folder, _ = finished_run
    raw = raw_metrics(folder)
    change(raw)
    with pytest.raises(ToolkitError, match="metrics.json") as caught:
        RunRecord.from_dict(raw, folder)
    assert fragment in str(caught.value)


def test_the_saved_model_records_the_hash_of_every_file(finished_run):  # noqa: F811
    folder, _ = finished_run
    info = json.loads((folder / MODEL_DIR / MODEL_INFO_FILE).read_text())
    assert info["format_version"] == FORMAT_VERSION
    assert set(info["sha256"]) == {f"featurizer_{n}.pkl" for n in info["featurizers"]} | {info["head_file"]}
    for name, digest in info["sha256"].items():
        assert file_sha256(folder / MODEL_DIR / name) == digest


def make_sweep(tmp_path: Path, run_folder: Path, *, ids=("c01", "c02")) -> Path:
    sweep = tmp_path / "sweep"
    ledger = Ledger(sweep / "ledger.jsonl")
    (sweep / "configs").mkdir(parents=True)
    for config_id in ids:
        shutil.copytree(run_folder, sweep / "configs" / config_id)
        ledger.append(ConfigResult(config_id, f"label {config_id}", "done", folder=sweep / "configs" / config_id,
                                   is_baseline=config_id == ids[0]))
    ledger.append(ConfigResult("c03", "label c03", "skipped", reason="no weights"))
    (sweep / "baselines.json").write_text(json.dumps({"c02": "c01", "c01": "c01", "c03": "c01"}))
    return sweep


def test_a_sweep_folder_reads_back_in_its_order_with_its_baselines(finished_run, tmp_path):  # noqa: F811
    sweep = SweepRecord.open(make_sweep(tmp_path, finished_run[0]))
    assert [r.config_id for r in sweep.results] == ["c02", "c01", "c03"]
    assert sweep.baselines == {"c02": "c01", "c01": "c01", "c03": "c01"}
    assert sweep.results[0].record.name == "analysis" and sweep.results[0].folder.is_relative_to(sweep.folder)


def test_a_sweep_naming_a_damaged_run_folder_is_refused_with_its_path(finished_run, tmp_path):  # noqa: F811
    folder = make_sweep(tmp_path, finished_run[0])
    (folder / "configs" / "c02" / "metrics.json").write_text('{"name": "x"}')
    with pytest.raises(ToolkitError, match=r"c02/metrics.json"):
        SweepRecord.open(folder)


def test_a_local_worker_hands_its_folder_and_figures_to_the_driver(tmp_path, monkeypatch):
    sweep = tmp_path / "sweep"
    scratch = sweep / executors.SCRATCH
    raw = spec_dict(name="c01", data={"synthetic": {"users": 300, "seed": 3, "positive_rate": 0.2}})
    outcome = executors.run_config(raw, str(tmp_path), 0, None, str(scratch))
    assert outcome["status"] == "done" and "files" not in outcome
    assert Path(outcome["folder"]).is_relative_to(scratch)
    monkeypatch.setattr(RunRecord, "open", classmethod(lambda cls, f: pytest.fail("read back from disk")))
    config = type("Config", (), {"config_id": "c01", "label": "c01", "is_baseline": True, "axes": {}})()
    result = harness._record(sweep, Ledger(sweep / "ledger.jsonl"), config, outcome, "sha")
    assert result.folder == sweep / "configs" / "c01" and is_run_folder(result.folder)
    assert result.metrics == outcome["metrics"] and not any(scratch.iterdir())


def test_the_driver_refuses_a_worker_folder_outside_its_scratch(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    outcome = {"status": "done", "folder": str(elsewhere), "scratch": str(elsewhere), "metrics": {}}
    with pytest.raises(ToolkitError, match="outside the sweep's scratch folder"):
        executors.adopt(outcome, tmp_path / "sweep" / "configs" / "c01", tmp_path / "sweep" / executors.SCRATCH)
    assert elsewhere.is_dir()


def test_an_oversized_ledger_is_refused_unread(finished_run, tmp_path):  # noqa: F811
    from toolkit.bench.ledger import MAX_LEDGER_BYTES

    folder = make_sweep(tmp_path, finished_run[0])
    with open(folder / "ledger.jsonl", "r+b") as fh:
        fh.truncate(MAX_LEDGER_BYTES + 1)
    with pytest.raises(ToolkitError, match="ledger.jsonl is .* bytes"):
        SweepRecord.open(folder)


def test_the_driver_refuses_a_configs_folder_planted_as_a_link(tmp_path):
    sweep, outside = tmp_path / "sweep", tmp_path / "outside"
    outside.mkdir()
    work = sweep / executors.SCRATCH / "w"
    (work / "run").mkdir(parents=True)
    (sweep / "configs").symlink_to(outside)
    outcome = {"status": "done", "folder": str(work / "run"), "scratch": str(work), "metrics": {}}
    with pytest.raises(ToolkitError, match="Refusing to write into"):
        executors.adopt(outcome, sweep / "configs" / "c01", sweep / executors.SCRATCH)
    assert list(outside.iterdir()) == []
