"""Sweeps under an adversarial user: failed configurations, an edited sweep file, a moved sweep folder."""

from __future__ import annotations

import json
import shutil

import yaml

from specs import BASE
from toolkit.cli import main

TWO = {"head": [{"type": "logreg", "C": 1.0}, {"type": "logreg", "C": 0.1}]}


def _sweep(folder, grid, **base_changes):
    (folder / "base.yaml").write_text(yaml.safe_dump({**BASE, **base_changes}))
    (folder / "sweep.yaml").write_text(yaml.safe_dump({"name": "mini", "base": "base.yaml", "grid": grid}))
    return str(folder / "sweep.yaml")


def _ledger(folder):
    return [json.loads(line) for line in (folder / "ledger.jsonl").read_text().splitlines()]


def _table_ids(folder):
    return [r["config_id"] for r in json.loads((folder / "table.json").read_text())["rows"] if r["kind"] == "config"]


def test_failures_exit_non_zero_and_resume_retries_only_them(tmp_path, monkeypatch, capsys):
    import toolkit.bench.executors as executors

    sweep = _sweep(tmp_path, TWO)
    args = ["bench", sweep, "--quiet", "--results-dir", str(tmp_path / "r"), "--cache-dir", str(tmp_path / "c")]
    real, ran = executors.run_config, []

    def second_one_breaks(raw, *rest):  # a bug that hits one configuration (not a user error)
        ran.append(raw["head"]["C"])
        if raw["head"]["C"] == 0.1 and len(ran) <= 2:
            raise RuntimeError("simulated crash inside the head")
        return real(raw, *rest)

    monkeypatch.setattr(executors, "run_config", lambda *a: _catching(second_one_breaks, *a))
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "error: 1 of 2 configurations failed: c01-" in err and "Traceback" not in err
    folder = next((tmp_path / "r" / "mini").iterdir())
    assert [line["status"] for line in _ledger(folder)] == ["done", "failed"]
    assert len(list(folder.glob("*.error.txt"))) == 1

    assert main(args + ["--resume"]) == 0
    assert ran == [1.0, 0.1, 0.1], "resume reran a finished configuration or skipped the failed one"
    assert [line["status"] for line in _ledger(folder)] == ["done", "failed", "done"]
    assert _table_ids(folder) == [line["config_id"] for line in _ledger(folder)[:2]]


def _catching(fn, *args):
    """What run_config does with an unexpected exception: report it as a failed configuration."""
    try:
        return fn(*args)
    except RuntimeError as exc:
        return {"status": "failed", "reason": f"RuntimeError: {exc}", "traceback": "Traceback (simulated)\n"}


def test_resume_after_editing_the_sweep_reruns_what_changed_and_tables_only_the_current_grid(tmp_path, capsys):
    args = ["--quiet", "--results-dir", str(tmp_path / "r"), "--cache-dir", str(tmp_path / "c")]
    assert main(["bench", _sweep(tmp_path, TWO)] + args) == 0
    folder = next((tmp_path / "r" / "mini").iterdir())
    (folder / "table.json").unlink()  # as if interrupted before the table: still resumable
    first = {line["config_id"]: line["spec_sha256"] for line in _ledger(folder)}

    edited = _sweep(tmp_path, {"head": [{"type": "logreg", "C": 1.0}]}, evaluation={"cv": {"folds": 3}, "bootstrap": 300})
    assert main(["bench", edited, "--resume"] + args) == 0
    lines = _ledger(folder)
    assert len(lines) == 3 and lines[-1]["config_id"] in first and lines[-1]["spec_sha256"] != first[lines[-1]["config_id"]]
    assert _table_ids(folder) == [lines[-1]["config_id"]], "a configuration no longer in the sweep is in the table"
    assert yaml.safe_load((folder / "sweep.yaml").read_text())["configs"][0]["id"] == lines[-1]["config_id"]

    # paths in the ledger are relative, so a moved sweep folder still compares
    assert all(not line["folder"] or not line["folder"].startswith("/") for line in lines)
    moved = tmp_path / "elsewhere"
    shutil.move(str(folder), moved)
    capsys.readouterr()
    assert main(["compare", str(moved), "--out", str(tmp_path / "cmp")]) == 0
    assert _table_ids(tmp_path / "cmp") == [lines[-1]["config_id"]]
