"""Run a sweep: skip what cannot run, run the rest, keep a ledger, resume after a crash."""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path
from typing import Callable

import yaml

from toolkit.bench.executors import EXECUTORS, SCRATCH, adopt, place
from toolkit.bench.ledger import Ledger
from toolkit.bench.lock import sweep_lock
from toolkit.bench.records import ConfigResult
from toolkit.bench.sweep import Sweep
from toolkit.errors import ToolkitError
from toolkit.experiment.record import RunRecord
from toolkit.experiment.run_folder import check_folder_name, reserve_folder
from toolkit.interrupts import check_stop
from toolkit.progress import NullProgress, Progress
from toolkit.safe_io import atomic_write, make_folder, remove_path


def sweep_folder(results_dir: str | Path, sweep: Sweep, resume: bool | str) -> Path:
    """A new ``results/<sweep>/<timestamp>/`` (reserved atomically), or the one to resume.

    ``--resume`` alone picks the latest sweep folder with no table yet or with failed configurations.
    """
    parent = Path(results_dir) / check_folder_name(sweep.name, "sweep name")
    if isinstance(resume, str):
        folder = Path(resume)
        if not (folder / "sweep.yaml").is_file():
            raise ToolkitError(f"--resume {resume!r} is not a sweep folder (no sweep.yaml in it).")
        return folder
    if resume:
        unfinished = sorted(p for p in parent.glob("*") if (p / "sweep.yaml").is_file() and not _complete(p))
        if not unfinished:
            raise ToolkitError(f"--resume: no unfinished sweep named {sweep.name!r} under {parent}. "
                               "Run without --resume to start one.")
        return unfinished[-1]
    return reserve_folder(parent, time.strftime("%Y%m%d-%H%M%S"), within=results_dir)[1]


def _complete(folder: Path) -> bool:
    """A sweep folder with its table written and no failed configuration left to retry."""
    if not (folder / "table.json").is_file():
        return False
    return all(r.status != "failed" for r in Ledger(folder / "ledger.jsonl").read().values())


def config_hash(config, fold_seed: int) -> str:
    """sha256 of what a configuration runs: its resolved spec (every default filled in) and the fold seed."""
    doc = config.spec.resolved() if config.spec is not None else config.raw
    return hashlib.sha256(json.dumps([doc, fold_seed], sort_keys=True, default=str).encode()).hexdigest()


def _prepare_folder(folder: Path, sweep: Sweep) -> None:
    """Write (or, on resume, update) sweep.yaml; remove what a killed run left half-written.

    A received sweep folder may hold planted links: one at the ledger (appended to, so it cannot
    be replaced) is refused before anything runs; ``configs`` must stay inside the folder.
    """
    ledger = folder / "ledger.jsonl"
    if ledger.is_symlink():
        raise ToolkitError(f"Refusing to resume {folder}: its ledger.jsonl is a symbolic link "
                           f"(to {os.readlink(ledger)}). Remove the link and try again.")
    atomic_write(folder / "sweep.yaml", yaml.safe_dump(
        {"name": sweep.name, "source": str(sweep.source), "fold_seed": sweep.fold_seed,
         "configs": [{"id": c.config_id, "label": c.label, "baseline": c.baseline_id} for c in sweep.configs]},
        sort_keys=False, allow_unicode=True), within=folder)
    configs = make_folder(folder / "configs", within=folder)  # a received folder's link out is refused here
    for partial in configs.glob(".*.partial"):  # a configuration that was being placed when killed
        remove_path(partial)
    remove_path(folder / SCRATCH)  # runs in progress when the driver was killed


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
              resume: bool | str = False, cache_dir: str | None = None, progress: Progress | None = None,
              then: Callable[[Path, list[ConfigResult]], None] | None = None) -> tuple[Path, list[ConfigResult]]:
    """Run every runnable configuration not already done with the same spec; return them all, in sweep order.

    On resume, a configuration is reused only if the ledger records it as done with
    the same :func:`config_hash`; failed ones and ones whose spec changed run again.
    The sweep folder's lock is held throughout, ``then(folder, results)`` included (the
    caller's tables and report): a second driver on the same folder is refused until the
    folder is complete.
    """
    folder = sweep_folder(results_dir, sweep, resume)
    with sweep_lock(folder):
        results = _run_locked(sweep, folder, workers, executor, cache_dir, progress or NullProgress())
        check_stop()  # a stop swallowed near the end leaves the sweep unfinished (resumable), not tabled
        if then is not None:
            then(folder, results)
        return folder, results


def _run_locked(sweep: Sweep, folder: Path, workers: int, executor: str, cache_dir: str | None,
                progress: Progress) -> list[ConfigResult]:
    """The body of :func:`run_sweep`, run with the sweep folder's lock held."""
    _prepare_folder(folder, sweep)
    ledger = Ledger(folder / "ledger.jsonl")
    hashes = {c.config_id: config_hash(c, sweep.fold_seed) for c in sweep.configs}
    finished = {k: r for k, r in ledger.read().items() if r.status == "done" and r.spec_sha256 == hashes.get(k)}
    missing = unavailable(sweep)
    results: dict[str, ConfigResult] = {}
    tasks = []
    for c in sweep.configs:
        if c.config_id in finished:
            results[c.config_id] = finished[c.config_id]
        elif c.spec is None or c.config_id in missing:
            reason = c.reason or missing[c.config_id]
            results[c.config_id] = ConfigResult(c.config_id, c.label, "skipped", reason, None, c.is_baseline, c.axes,
                                                hashes[c.config_id])
            ledger.append(results[c.config_id])
        else:
            tasks.append((c.config_id, c.raw, str(c.spec.source.parent if c.spec.source else sweep.base_dir),
                          sweep.fold_seed, cache_dir, str(folder / SCRATCH)))
    progress.log(f"sweep {sweep.name}: {len(sweep.configs)} configurations, {len(finished)} already finished, "
                 f"{len(tasks)} to run, {sum(r.status == 'skipped' for r in results.values())} skipped -> {folder}")
    progress.start("configurations", len(tasks))
    by_id = {c.config_id: c for c in sweep.configs}
    outcomes = EXECUTORS[executor](tasks, workers)
    try:  # closing the generator on an interrupt stops the workers at once
        for config_id, outcome in outcomes:
            results[config_id] = _record(folder, ledger, by_id[config_id], outcome, hashes[config_id])
            progress.advance("configurations")
            progress.log(_outcome_line(results[config_id]))
            check_stop()  # recorded first: what finished is kept for --resume
    finally:
        outcomes.close()
    atomic_write(folder / "baselines.json", json.dumps({c.config_id: c.baseline_id for c in sweep.configs}, indent=2),
                 within=folder)
    return [results[c.config_id] for c in sweep.configs]


def _record(folder: Path, ledger: Ledger, c, outcome: dict, spec_sha256: str) -> ConfigResult:
    """Place a finished configuration's files, then write its ledger line."""
    if outcome["status"] == "done":
        target = folder / "configs" / c.config_id
        if "files" in outcome:
            run_folder = place(outcome["files"], target)
        else:
            run_folder = adopt(outcome, target, folder / SCRATCH)
        result = ConfigResult(c.config_id, c.label, "done", "", run_folder, c.is_baseline, c.axes, spec_sha256,
                              _record=RunRecord.from_dict(outcome["metrics"], run_folder))
    else:
        result = ConfigResult(c.config_id, c.label, outcome["status"], outcome["reason"], None, c.is_baseline, c.axes,
                              spec_sha256)
        if "traceback" in outcome:
            atomic_write(folder / f"{c.config_id}.error.txt", outcome["traceback"], within=folder)
    ledger.append(result)
    return result


def _outcome_line(result: ConfigResult) -> str:
    if result.status == "done":
        metric = result.task_class.headline()
        return f"{result.config_id}: done, {metric} {result.record.metrics[metric].mean:.3f}"
    return f"{result.config_id}: {result.status} ({result.reason.splitlines()[0][:120] if result.reason else ''})"

