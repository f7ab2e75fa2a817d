"""Run a sweep: skip what cannot run, run the rest, keep a ledger, resume after a crash."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import yaml

from toolkit.bench.executors import EXECUTORS, place
from toolkit.bench.ledger import Ledger
from toolkit.bench.records import ConfigResult
from toolkit.bench.sweep import Sweep
from toolkit.errors import ToolkitError
from toolkit.progress import NullProgress, Progress


def sweep_folder(results_dir: str | Path, sweep: Sweep, resume: bool | str) -> Path:
    """A new ``results/<sweep>/<timestamp>/``, or the one to resume."""
    parent = Path(results_dir) / sweep.name
    if isinstance(resume, str):
        folder = Path(resume)
        if not (folder / "sweep.yaml").is_file():
            raise ToolkitError(f"--resume {resume!r} is not a sweep folder (no sweep.yaml in it).")
        return folder
    if resume:
        unfinished = sorted(p for p in parent.glob("*") if (p / "sweep.yaml").is_file() and not (p / "table.json").is_file())
        if not unfinished:
            raise ToolkitError(f"--resume: no unfinished sweep named {sweep.name!r} under {parent}. "
                               "Run without --resume to start one.")
        return unfinished[-1]
    stamp = time.strftime("%Y%m%d-%H%M%S")
    folder, k = parent / stamp, 1
    while folder.exists():
        k += 1
        folder = parent / f"{stamp}-{k}"
    return folder


def unavailable(sweep: Sweep) -> dict[str, str]:
    """Configuration id -> why it cannot run here (a model or file it needs is missing, e.g. encoder weights).

    Each distinct featurizer is checked once; the configurations themselves are left as they are.
    """
    checked: dict[str, str] = {}
    missing: dict[str, str] = {}
    for config in sweep.configs:
        if config.spec is None:
            continue
        for featurizer in config.spec.build_featurizers():
            key = repr(featurizer)
            if key not in checked:
                try:
                    featurizer.check_available()
                    checked[key] = ""
                except ToolkitError as exc:
                    checked[key] = str(exc)
            if checked[key]:
                missing[config.config_id] = checked[key]
                break
    return missing


def run_sweep(sweep: Sweep, *, results_dir: str | Path = "results", workers: int = 1, executor: str = "local",
              resume: bool | str = False, cache_dir: str | None = None,
              progress: Progress | None = None) -> tuple[Path, list[ConfigResult]]:
    """Run every runnable configuration not already in the ledger; return them all, in sweep order."""
    progress = progress or NullProgress()
    folder = sweep_folder(results_dir, sweep, resume)
    folder.mkdir(parents=True, exist_ok=True)
    if not (folder / "sweep.yaml").is_file():
        (folder / "sweep.yaml").write_text(yaml.safe_dump(
            {"name": sweep.name, "source": str(sweep.source), "fold_seed": sweep.fold_seed,
             "configs": [{"id": c.config_id, "label": c.label, "baseline": c.baseline_id} for c in sweep.configs]},
            sort_keys=False, allow_unicode=True))
    configs_dir = folder / "configs"
    for partial in configs_dir.glob(".*.partial"):  # a configuration that was being placed when killed
        shutil.rmtree(partial, ignore_errors=True)

    ledger = Ledger(folder / "ledger.jsonl")
    finished = ledger.read()
    missing = unavailable(sweep)
    results: dict[str, ConfigResult] = {}
    tasks = []
    for c in sweep.configs:
        if c.config_id in finished:
            results[c.config_id] = finished[c.config_id]
        elif c.spec is None or c.config_id in missing:
            reason = c.reason or missing[c.config_id]
            results[c.config_id] = ConfigResult(c.config_id, c.label, "skipped", reason, None, c.is_baseline, c.axes)
            ledger.append(results[c.config_id])
        else:
            tasks.append((c.config_id, c.raw, str(c.spec.source.parent if c.spec.source else sweep.base_dir),
                          sweep.fold_seed, cache_dir))
    progress.log(f"sweep {sweep.name}: {len(sweep.configs)} configurations, {len(finished)} already finished, "
                 f"{len(tasks)} to run, {sum(r.status == 'skipped' for r in results.values())} skipped -> {folder}")
    progress.start("configurations", len(tasks))
    by_id = {c.config_id: c for c in sweep.configs}
    for config_id, outcome in EXECUTORS[executor](tasks, workers):
        c = by_id[config_id]
        if outcome["status"] == "done":
            run_folder = place(outcome["files"], configs_dir / config_id)
            result = ConfigResult(config_id, c.label, "done", "", run_folder, c.is_baseline, c.axes)
        else:
            result = ConfigResult(config_id, c.label, outcome["status"], outcome["reason"], None, c.is_baseline, c.axes)
            if "traceback" in outcome:
                (folder / f"{config_id}.error.txt").write_text(outcome["traceback"])
        ledger.append(result)
        results[config_id] = result
        progress.advance("configurations")
        progress.log(f"{config_id}: {result.status}"
                     + (f", roc_auc {result.metrics['metrics']['roc_auc']['mean']:.3f}" if result.status == "done" else
                        f" ({result.reason.splitlines()[0][:120]})"))
    ordered = [results[c.config_id] for c in sweep.configs]
    baseline_of = {c.config_id: c.baseline_id for c in sweep.configs}
    (folder / "baselines.json").write_text(json.dumps(baseline_of, indent=2))
    return folder, ordered
