"""Environment failures: a full disk, a path through a file, names too long or with a newline,
damaged run folders given to ``compare``, ``--out`` pointing at a file. Each ends with one
``error:`` line and exit 1 or 2, no traceback, and an earlier result intact."""

from __future__ import annotations

import errno
import json
import shutil

import pytest
import yaml

from hostile import assert_refused, toolkit, tree
from specs import BASE
from toolkit.cli import main

EARLIER = "20250101-000000"


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    """One real, finished run folder (copied by tests that damage it)."""
    folder = tmp_path_factory.mktemp("done")
    (folder / "spec.yaml").write_text(yaml.safe_dump(BASE))
    assert main(["run", str(folder / "spec.yaml"), "--quiet", "--results-dir", str(folder / "r"),
                 "--cache-dir", str(folder / "c")]) == 0
    return next((folder / "r" / "t").iterdir())


@pytest.fixture
def workdir(tmp_path):
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(BASE))
    (tmp_path / "results" / "t" / EARLIER).mkdir(parents=True)
    (tmp_path / "results" / "t" / EARLIER / "metrics.json").write_text('{"earlier": true}')
    return tmp_path


def _err_line(capsys) -> str:
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    lines = [line for line in captured.err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, captured.err
    return lines[0]


def _earlier_intact(workdir) -> None:
    assert tree(workdir / "results") == ["t", f"t/{EARLIER}", f"t/{EARLIER}/metrics.json"]
    assert (workdir / "results" / "t" / EARLIER / "metrics.json").read_text() == '{"earlier": true}'


def test_a_full_disk_while_writing_results(workdir, monkeypatch, capsys):
    from toolkit.experiment.run_folder import ResultsFolder

    def full(self, name, text):
        raise OSError(errno.ENOSPC, "No space left on device", str(self.path / name))

    monkeypatch.setattr(ResultsFolder, "write_text", full)
    assert main(["run", str(workdir / "spec.yaml"), "--quiet", "--results-dir", str(workdir / "results"),
                 "--cache-dir", str(workdir / "c")]) == 1
    line = _err_line(capsys)
    assert "the disk is full [ENOSPC]" in line and ".partial/metrics.json" in line
    _earlier_intact(workdir)


@pytest.mark.parametrize("name, message", [
    ("x" * 300, "is 300 characters long; expected at most 128"),
    ("t\n", "usable as a folder name. Got 't\\n' instead"),
])
def test_names_that_cannot_be_folder_names(workdir, name, message):
    (workdir / "spec.yaml").write_text(yaml.safe_dump({**BASE, "name": name}))
    result = toolkit("run", "spec.yaml", "--quiet", "--cache-dir", "c", cwd=workdir, timeout=300)
    assert_refused(result, 2, message)
    _earlier_intact(workdir)


def test_a_results_dir_that_runs_through_a_file(workdir):
    (workdir / "afile").write_text("x")
    result = toolkit("run", "spec.yaml", "--quiet", "--cache-dir", "c", "--results-dir", "afile/sub", cwd=workdir,
                     timeout=300)
    assert_refused(result, 2, "Cannot create the results folder afile/sub/t", "part of the path is a file, not a folder")
    assert (workdir / "afile").read_text() == "x"


@pytest.mark.parametrize("damage, message", [
    ("truncate", "cannot be read as a run's metrics.json"),
    ("not a run", "is not a run's metrics.json"),
])
def test_compare_names_a_damaged_run_folder(tmp_path, finished_run, damage, message):
    run = tmp_path / "run"
    shutil.copytree(finished_run, run)
    metrics = run / "metrics.json"
    metrics.write_text(metrics.read_text()[:100] if damage == "truncate" else json.dumps({"hello": 1}))
    result = toolkit("compare", str(run), "--out", "cmp", cwd=tmp_path, timeout=120)
    assert_refused(result, 2, "metrics.json", message)
    assert not (tmp_path / "cmp").exists()


def test_compare_on_a_sweep_whose_ledger_points_at_a_damaged_run(tmp_path, finished_run):
    sweep = tmp_path / "sweep"
    shutil.copytree(finished_run, sweep / "configs" / "c00")
    (sweep / "configs" / "c00" / "metrics.json").write_text("[1, 2")
    lines = ["garbage {", json.dumps({"config_id": "c00", "label": "x", "status": "done", "folder": "configs/c00"})]
    (sweep / "ledger.jsonl").write_text("\n".join(lines) + "\n")
    result = toolkit("compare", str(sweep), "--out", "cmp", cwd=tmp_path, timeout=120)
    assert_refused(result, 2, "configs/c00/metrics.json cannot be read")


def test_compare_out_pointing_at_a_file(tmp_path, finished_run):
    (tmp_path / "table.md").write_text("my notes")
    result = toolkit("compare", str(finished_run), "--out", "table.md", cwd=tmp_path, timeout=120)
    assert_refused(result, 2, "--out 'table.md' is a file")
    assert (tmp_path / "table.md").read_text() == "my notes"
