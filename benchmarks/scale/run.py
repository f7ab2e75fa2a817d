"""How the toolkit scales: wall time and peak memory per stage, 10,000 to 1,000,000 users.

    python -m benchmarks.scale [--sizes 10000 30000 100000 300000 1000000] [--heads logreg mlp]

For each size: ``python -m toolkit data synth`` writes the posts CSV (timed as
the "generate" stage), then one process per head runs the experiment as
``python -m toolkit run SPEC --no-cache --quiet`` does (``runner.run``, no
feature cache) on TF-IDF + behavior with ``evaluation: {split: {test_fraction:
0.2}}``. A :class:`StageClock` passed as the run's progress marks the stages
(load + users table, featurize, train + score, final model) and reads the peak
resident memory of each (the counter is reset at every stage); the process's
own wall time and peak come from ``wait4``. Every figure is printed beside its
target; ``benchmarks/RESULTS.md`` (the section between ``<!-- scale:start -->``
and ``<!-- scale:end -->``) and ``benchmarks/scale.png`` are rewritten.

A size stops being run for a head once a smaller size took longer than
``--budget`` seconds times the growth factor would allow, so a slow machine
records what fits rather than running for hours; skipped sizes are listed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from .targets import BENCHMARKS, SIZES


def child_run(spec_path: str) -> None:
    """In a child process: run the experiment with a stage clock and print the stages as JSON."""
    from .stages import StageClock
    from toolkit.experiment.runner import run
    from toolkit.experiment.spec import load_spec

    clock = StageClock("load, users, imports")
    spec = load_spec(spec_path)
    with tempfile.TemporaryDirectory(prefix="toolkit-scale-") as results:
        outcome = run(spec, results_dir=results, progress=clock, use_cache=False)
    clock.finish()
    metrics = outcome.metrics["metrics"]
    print(json.dumps({"stages": clock.stages, "roc_auc": metrics["roc_auc"]["mean"],
                      "pr_auc": metrics["pr_auc"]["mean"]}))


def generate(users: int, data_dir: Path) -> dict:
    """Write the synthetic CSV for ``users`` (or reuse it: then the stage is not re-timed)."""
    from toolkit.data.synth import GENERATOR_VERSION

    path = data_dir / f"synthetic-v{GENERATOR_VERSION}-u{users}-s0-r0.1.csv"
    if path.is_file():
        return {"path": path, "seconds": None, "peak_gb": None}
    data_dir.mkdir(parents=True, exist_ok=True)
    wall, peak, _ = measured([sys.executable, "-m", "toolkit", "data", "synth", "--users", str(users),
                                     "--seed", "0", "--out", str(path)])
    return {"path": path, "seconds": wall, "peak_gb": peak}


def measured(cmd: list[str]) -> tuple[float, float, str]:
    """Run a command; its wall seconds, its own peak resident memory (GB, from ``wait4``) and its stdout."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "PYTHONPATH": str(BENCHMARKS.parent)})
    # Drain the pipes in threads so wait4 can wait without a full pipe blocking the child.
    chunks = {"out": b"", "err": b""}
    readers = [threading.Thread(target=lambda k=k, s=s: chunks.__setitem__(k, s.read()))
               for k, s in (("out", proc.stdout), ("err", proc.stderr))]
    for r in readers:
        r.start()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    for r in readers:
        r.join()
    wall = time.perf_counter() - start
    if proc.returncode:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{chunks['err'].decode()[-3000:]}")
    measured.last_cpu_s = usage.ru_utime + usage.ru_stime  # CPU seconds: less sensitive to a shared machine's load
    return wall, usage.ru_maxrss / 1024**2, chunks["out"].decode()


def run_head(users: int, head: str, data: Path, work: Path, shipped: bool = False) -> dict:
    """One experiment in its own process: wall, peak, stages and metrics."""
    import yaml

    from .data import spec_mapping

    spec = work / f"scale-{head}-{users}.yaml"
    training = {"epochs": None, "batch_size": None} if shipped else {}
    spec.write_text(yaml.safe_dump(spec_mapping(f"scale_{head}_{users}", data, head, **training)))
    wall, peak, out = measured([sys.executable, "-m", "benchmarks.scale", "--child", str(spec)])
    result = json.loads(out.strip().splitlines()[-1])
    return {"users": users, "head": head, "wall_s": wall, "peak_gb": peak, "cpu_s": measured.last_cpu_s,
            "training": "shipped" if shipped else "capped", **result}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scale", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--heads", nargs="+", default=["logreg", "mlp"])
    parser.add_argument("--data-dir", default=str(BENCHMARKS / ".data"))
    parser.add_argument("--budget", type=float, default=900.0,
                        help="skip a size whose run would take longer than this many seconds")
    parser.add_argument("--shipped-training", action="store_true",
                        help="train the networks with the shipped defaults (50 epochs at most, batch 64, early "
                             "stopping) instead of the timing cap of 10 epochs, batch 256")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child_run(args.child)
        return 0
    from .report import write_outputs

    rows, gens, skipped = [], {}, []
    with tempfile.TemporaryDirectory(prefix="toolkit-scale-specs-") as work:
        for users in sorted(args.sizes):
            heads = [h for h in args.heads if not _too_slow(rows, h, users, args.budget)]
            skipped += [(h, users) for h in args.heads if h not in heads]
            if not heads:
                continue
            gens[users] = generate(users, Path(args.data_dir))
            _print_gen(users, gens[users])
            for head in heads:
                rows.append(run_head(users, head, gens[users]["path"], Path(work), args.shipped_training))
                _print_row(rows[-1])
    write_outputs(rows, gens, skipped, command="python -m benchmarks.scale " + " ".join(argv or sys.argv[1:]))
    return 0


def _too_slow(rows: list[dict], head: str, users: int, budget: float) -> bool:
    """Whether the largest finished run of ``head``, grown linearly to ``users``, would exceed ``budget``."""
    done = [r for r in rows if r["head"] == head]
    if not done:
        return False
    last = max(done, key=lambda r: r["users"])
    return last["wall_s"] * users / last["users"] > budget


def _print_gen(users: int, gen: dict) -> None:
    if gen["seconds"] is None:
        print(f"{users:>9,} users  generate: reused {gen['path'].name}", flush=True)
    else:
        print(f"{users:>9,} users  generate: {gen['seconds']:.1f} s, peak {gen['peak_gb']:.2f} GB", flush=True)


def _print_row(row: dict) -> None:
    from .report import target_text

    stages = ", ".join(f"{s['stage']} {s['seconds']:.1f} s / {s['peak_gb']:.2f} GB" for s in row["stages"])
    print(f"{row['users']:>9,} users  {row['head']:<6} wall {row['wall_s']:.1f} s, cpu {row.get('cpu_s', 0):.1f} s, peak {row['peak_gb']:.2f} GB"
          f"{target_text(row)}  roc_auc {row['roc_auc']:.3f}\n{'':>17}{stages}", flush=True)

