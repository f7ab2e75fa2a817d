"""The sweep harness's own cost, apart from training: per configuration and per sweep.

    python benchmarks/harness_overhead.py [--users 1500] [--configs 6] [--rounds 5]

Per configuration, on copies of one real run folder: handing a finished run to the driver
the way files travel (every file read as bytes, shipped, written again: what Ray workers
still do) against a local worker's rename; and reading the run back from disk
(``RunRecord.open`` and its predictions) against the record handed over in memory. Per
sweep: ``python -m toolkit --help`` start-up, and the comparison (table files, plots,
report.html) of ``--configs`` configurations. Each figure is the best of ``--rounds``.
It measures no training (``benchmarks/test_workers.py`` times whole sweeps).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))


def best(fn, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def one_run(tmp: Path, users: int) -> Path:
    from toolkit.experiment.runner import run
    from toolkit.experiment.spec import parse_spec

    spec = parse_spec({
        "name": "overhead", "data": {"synthetic": {"users": users, "seed": 2, "positive_rate": 0.2}},
        "label": {"cohort": {"first_seen": ["2025-01-01", "2025-02-14"]}, "observe_days": 7,
                  "retained_if": {"returns_after_days": 7, "horizon_days": 28}},
        "featurizers": [{"type": "tfidf", "max_features": 2000}, {"type": "behavior"}], "head": {"type": "logreg"},
        "evaluation": {"cv": {"folds": 3, "repeats": 1}, "bootstrap": 200}})
    return run(spec, results_dir=tmp / "results", cache_dir=str(tmp / "cache")).folder


def hand_over(run_folder: Path, tmp: Path, rounds: int) -> dict:
    from toolkit.bench.executors import adopt, place

    scratch = tmp / "sweep" / ".scratch"

    def shipped():
        files = {str(p.relative_to(run_folder)): p.read_bytes() for p in run_folder.rglob("*") if p.is_file()}
        place(files, tmp / "sweep" / "configs" / "shipped")

    def renamed():
        work = Path(tempfile.mkdtemp(dir=scratch))
        shutil.copytree(run_folder, work / "run")  # the worker's own writing, not timed below
        start = time.perf_counter()
        adopt({"folder": str(work / "run"), "scratch": str(work)}, tmp / "sweep" / "configs" / "renamed", scratch)
        return time.perf_counter() - start

    scratch.mkdir(parents=True, exist_ok=True)
    return {"files read, shipped, written again": best(shipped, rounds),
            "local worker's folder renamed": min(renamed() for _ in range(rounds))}


def read_back(run_folder: Path, rounds: int) -> dict:
    import json

    from toolkit.experiment.record import RunRecord

    raw = json.loads((run_folder / "metrics.json").read_text())

    def from_disk():
        RunRecord.open(run_folder).out_of_fold

    def in_memory():
        RunRecord.from_dict(raw, run_folder).out_of_fold  # the predictions are still read, once

    return {"record read from disk": best(from_disk, rounds), "record from memory": best(in_memory, rounds)}


def per_sweep(run_folder: Path, tmp: Path, configs: int, rounds: int) -> dict:
    from rich.console import Console
    import io

    from toolkit.bench.comparison import finish
    from toolkit.bench.records import ConfigResult

    for i in range(configs):
        shutil.copytree(run_folder, tmp / "many" / f"c{i:02d}", dirs_exist_ok=True)
    results = [ConfigResult(f"c{i:02d}", f"c{i:02d}", "done", folder=tmp / "many" / f"c{i:02d}", is_baseline=i == 0)
               for i in range(configs)]
    quiet = Console(file=io.StringIO(), width=180)
    comparison = best(lambda: finish(tmp / "table", results, {}, quiet), rounds)
    start_up = best(lambda: subprocess.run([sys.executable, "-m", "toolkit", "--help"], check=True,
                                           capture_output=True, cwd=tmp), rounds)
    return {"python -m toolkit --help": start_up, f"comparison of {configs} configurations": comparison}


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1500)
    parser.add_argument("--configs", type=int, default=6)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="harness-overhead-") as name:
        tmp = Path(name)
        run_folder = one_run(tmp, args.users)
        figures = {**hand_over(run_folder, tmp, args.rounds), **read_back(run_folder, args.rounds),
                   **per_sweep(run_folder, tmp, args.configs, args.rounds)}
    for what, seconds in figures.items():
        print(f"{what:45s} {seconds * 1000:9.1f} ms")
    return figures


if __name__ == "__main__":
    main()
