"""Hostile run folders: tampered, foreign, truncated or oversized files received from someone else.

Each case runs the real command line (``compare`` or ``predict``) on a copy of a small
finished run with one file changed, and expects exit 2, one ``error:`` line naming the file
and what is wrong, and no traceback.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
from pathlib import Path

import pytest

from analysis_fixtures import finished_run  # noqa: F401  (fixture)
from hostile import assert_refused, toolkit
from toolkit.experiment.record import (FORMAT_VERSION, MAX_METRICS_BYTES, MODEL_DIR, MODEL_INFO_FILE, file_sha256,
                                       read_model_info)


@pytest.fixture
def run_copy(finished_run, tmp_path):  # noqa: F811
    folder, posts = finished_run
    copy = tmp_path / "received"
    shutil.copytree(folder, copy)
    return copy, posts


def metrics_of(folder: Path) -> dict:
    return json.loads((folder / "metrics.json").read_text())


def write_metrics(folder: Path, data) -> None:
    (folder / "metrics.json").write_text(json.dumps(data))


def compare(folder: Path, tmp_path: Path):
    return toolkit("compare", str(folder), "--out", str(tmp_path / "cmp"), cwd=tmp_path)


def predict(folder: Path, posts: Path, tmp_path: Path):
    return toolkit("predict", str(folder), str(posts), "--out", str(tmp_path / "scores.csv"), cwd=tmp_path,
                   timeout=300)


def rehash(folder: Path) -> None:
    """Record the current files' hashes, as a folder edited by someone who knows the format would."""
    info_path = folder / MODEL_DIR / MODEL_INFO_FILE
    info = json.loads(info_path.read_text())
    info["sha256"] = {name: file_sha256(folder / MODEL_DIR / name) for name in info["sha256"]}
    info_path.write_text(json.dumps(info))


def test_a_received_run_folder_compares_as_it_is(run_copy, tmp_path):
    folder, _ = run_copy
    result = compare(folder, tmp_path)
    assert result.rc == 0, result.text
    assert (tmp_path / "cmp" / "table.csv").is_file()


@pytest.mark.parametrize("content", [b"\x00\x01PK\x03\x04" + os.urandom(200), b'user_id,label\n"a,1\n"b,0\n',
                                     b"not,a\nprediction,file\n"])
def test_compare_refuses_predictions_that_are_not_its_csv(run_copy, tmp_path, content):
    folder, _ = run_copy
    (folder / "predictions.csv").write_bytes(content)
    assert_refused(compare(folder, tmp_path), 2, "predictions.csv")
    assert not (tmp_path / "cmp" / "table.csv").exists()


def test_compare_refuses_metrics_from_an_older_version_without_pr_auc(run_copy, tmp_path):
    folder, _ = run_copy
    data = metrics_of(folder)
    del data["metrics"]["pr_auc"], data["format_version"]
    write_metrics(folder, data)
    assert_refused(compare(folder, tmp_path), 2, "metrics.json", "metrics.pr_auc")


def test_compare_reads_an_older_folder_that_has_what_it_needs(run_copy, tmp_path):
    folder, _ = run_copy
    data = metrics_of(folder)
    del data["format_version"], data["toolkit_version"], data["baselines"]
    write_metrics(folder, data)
    result = compare(folder, tmp_path)
    assert result.rc == 0, result.text


def test_compare_refuses_deeply_nested_json(run_copy, tmp_path):
    folder, _ = run_copy
    (folder / "metrics.json").write_text("[" * 200_000 + "]" * 200_000)
    assert_refused(compare(folder, tmp_path), 2, "metrics.json", "nested")


@pytest.mark.parametrize("content", ["[1, 2]", "null", "{\"name\": 3}", "\xff\xfe"])
def test_compare_refuses_metrics_that_are_not_a_record(run_copy, tmp_path, content):
    folder, _ = run_copy
    (folder / "metrics.json").write_text(content, encoding="latin-1")
    assert_refused(compare(folder, tmp_path), 2, "metrics.json")


def test_a_folder_from_a_newer_format_is_refused_naming_both_versions(run_copy, tmp_path):
    folder, _ = run_copy
    data = metrics_of(folder)
    data.update(format_version=FORMAT_VERSION + 1, toolkit_version="9.9.9")
    write_metrics(folder, data)
    from toolkit import __version__

    assert_refused(compare(folder, tmp_path), 2, "9.9.9", __version__, f"format {FORMAT_VERSION + 1}")


def test_oversized_files_are_refused_before_they_are_read(run_copy, tmp_path):
    folder, _ = run_copy
    with open(folder / "predictions.csv", "r+b") as fh:  # sparse: 2 GB on paper, nothing on disk
        fh.truncate(2 * 10**9)
    result = compare(folder, tmp_path)
    assert_refused(result, 2, "predictions.csv", "2,000,000,000 bytes")
    with open(folder / "metrics.json", "r+b") as fh:
        fh.truncate(MAX_METRICS_BYTES + 1)
    assert_refused(compare(folder, tmp_path), 2, "metrics.json", "bytes")


def test_a_metrics_link_to_an_endless_device_is_refused(run_copy, tmp_path):
    folder, _ = run_copy
    (folder / "metrics.json").unlink()
    (folder / "metrics.json").symlink_to("/dev/zero")
    assert_refused(compare(folder, tmp_path), 2, "metrics.json", "not a regular file")


@pytest.mark.parametrize("change, fragment", [
    (lambda info: info.pop("threshold"), "'threshold'"),
    (lambda info: info.update(threshold="0.5"), "'threshold'"),
    (lambda info: info.update(threshold=float("nan")), "'threshold'"),
    (lambda info: info.update(head_file="../../outside.pkl"), "'head_file'"),
    (lambda info: info.update(featurizers="tfidf"), "'featurizers'"),
    (lambda info: info.update(format_version=FORMAT_VERSION + 5), "Upgrade"),
])
def test_predict_refuses_a_damaged_model_json(run_copy, tmp_path, change, fragment):
    folder, posts = run_copy
    path = folder / MODEL_DIR / MODEL_INFO_FILE
    info = json.loads(path.read_text())
    change(info)
    path.write_text(json.dumps(info))
    assert_refused(predict(folder, posts, tmp_path), 2, "model.json", fragment)
    assert not (tmp_path / "scores.csv").exists()


def test_predict_refuses_a_model_json_holding_a_list(run_copy, tmp_path):
    folder, posts = run_copy
    (folder / MODEL_DIR / MODEL_INFO_FILE).write_text("[0.5]")
    assert_refused(predict(folder, posts, tmp_path), 2, "model.json", "expected a JSON object")


def featurizer_pickle(folder: Path) -> Path:
    return next((folder / MODEL_DIR).glob("featurizer_*.pkl"))


def test_predict_refuses_a_changed_pickle_before_loading_it(run_copy, tmp_path):
    folder, posts = run_copy
    target = featurizer_pickle(folder)
    marker = tmp_path / "ran"
    # a pickle that would run code when loaded: it must never be unpickled
    target.write_bytes(pickle.dumps(_Touch(str(marker))))
    assert_refused(predict(folder, posts, tmp_path), 2, target.name, "sha256")
    assert not marker.exists()


class _Touch:
    def __init__(self, path: str):
        self.path = path

    def __reduce__(self):
        return (Path.touch, (Path(self.path),))


@pytest.mark.parametrize("damage, fragment", [
    (lambda p: p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 2]), "cannot be loaded"),
    (lambda p: p.write_bytes(b"ctoolkit.featurizers.tfidf\nNoSuchFeaturizer\n."), "NoSuchFeaturizer"),
    (lambda p: p.write_bytes(b"cbuiltins\nlen\n."), "does not hold a fitted featurizer"),
])
def test_predict_refuses_a_pickle_that_cannot_be_loaded(run_copy, tmp_path, damage, fragment):
    folder, posts = run_copy
    target = featurizer_pickle(folder)
    damage(target)
    rehash(folder)
    assert_refused(predict(folder, posts, tmp_path), 2, target.name, fragment)


def test_a_model_saved_before_hashes_were_recorded_still_loads(run_copy):
    folder, _ = run_copy
    path = folder / MODEL_DIR / MODEL_INFO_FILE
    info = json.loads(path.read_text())
    for key in ("sha256", "format_version", "toolkit_version"):
        info.pop(key)
    path.write_text(json.dumps(info))
    assert read_model_info(folder)["threshold"] == info["threshold"]


def test_a_keras_file_the_loader_refuses_is_one_error_line(run_copy, tmp_path):
    folder, posts = run_copy
    path = folder / MODEL_DIR / MODEL_INFO_FILE
    info = json.loads(path.read_text())
    old_head = folder / MODEL_DIR / info["head_file"]
    keras_file = folder / MODEL_DIR / "head.keras"
    keras_file.write_bytes(b"PK\x03\x04 not a keras archive" + bytes(64))
    old_head.unlink()
    info["sha256"].pop(info["head_file"])
    info.update(head="mlp", head_file="head.keras")
    info["sha256"]["head.keras"] = file_sha256(keras_file)
    path.write_text(json.dumps(info))
    assert_refused(predict(folder, posts, tmp_path), 2, "head.keras", "cannot be loaded")


def received_sweep(run_folder: Path, tmp_path: Path) -> Path:
    from toolkit.bench.ledger import Ledger
    from toolkit.bench.records import ConfigResult

    sweep = tmp_path / "sweep"
    shutil.copytree(run_folder, sweep / "configs" / "c01")
    Ledger(sweep / "ledger.jsonl").append(ConfigResult("c01", "c01", "done", folder=sweep / "configs" / "c01",
                                                       is_baseline=True))
    (sweep / "baselines.json").write_text(json.dumps({"c01": "c01"}))
    return sweep


def test_a_deeply_nested_ledger_line_is_skipped_like_a_torn_one(run_copy, tmp_path):
    sweep = received_sweep(run_copy[0], tmp_path)
    with open(sweep / "ledger.jsonl", "a") as fh:
        fh.write("[" * 100_000 + "]" * 100_000 + "\n")
    result = compare(sweep, tmp_path)
    assert result.rc == 0, result.text


def test_a_deeply_nested_baselines_file_is_refused(run_copy, tmp_path):
    sweep = received_sweep(run_copy[0], tmp_path)
    (sweep / "baselines.json").write_text('{"a":' * 100_000 + "1" + "}" * 100_000)
    assert_refused(compare(sweep, tmp_path), 2, "baselines.json", "nested")


def test_predict_reads_a_received_spec_with_the_spec_readers_limits(run_copy, tmp_path):
    folder, posts = run_copy
    (folder / "spec.yaml").write_text("a: &a [1, 2]\nb: [*a, *a, *a]\n")
    assert_refused(predict(folder, posts, tmp_path), 2, "spec.yaml")
