"""Where configurations run: in this process, in N local processes, or as Ray tasks.

Each configuration runs into a private temporary folder; its files travel back
to the driver, which moves them into the sweep folder and writes the ledger
line. The same code path serves a Ray cluster, whose workers share no disk
with the driver.
"""

from __future__ import annotations

import os
import tempfile
import traceback
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Callable, Iterator

from toolkit.bench.workers import as_finished, protect_worker, run_guarded, stop_pool
from toolkit.errors import ToolkitError
from toolkit.interrupts import check_stop, deferred
from toolkit.safe_io import atomic_write, make_folder, remove_path


SCRATCH = ".scratch"  # in the sweep folder: runs in progress; a resume removes what a killed driver left there


def run_config(raw: dict, base_dir: str, fold_seed: int, cache_dir: str | None, scratch: str | None = None,
               ship: bool = False) -> dict:
    """Run one configuration; return where its folder is (or its files) and its figures, or why it failed.

    ``scratch`` (the sweep folder's scratch folder) holds the run while it is in
    progress, so a driver killed with ``kill -9`` leaves its leftovers where
    ``--resume`` finds them. When the driver shares that disk, the finished run
    folder stays there and only its path travels back (the driver renames it into
    place); with ``ship`` (a Ray node without the driver's disk) or when that
    folder is not reachable, the run goes to the system's temporary folder and its
    files travel back as bytes. Either way the figures (``metrics``) come back in
    memory, so the driver never reads back what was just written.
    """
    from toolkit.environment import quiet_backends

    quiet_backends()
    from toolkit.experiment.runner import run
    from toolkit.experiment.spec import parse_spec

    spec = parse_spec(raw, base_dir=Path(base_dir))
    where = None
    if scratch:
        try:
            os.makedirs(scratch, exist_ok=True)
            where = scratch
        except OSError:
            pass
    tmp = tempfile.mkdtemp(prefix="toolkit-config-", dir=where)
    try:
        outcome = run(spec, results_dir=tmp, cache_dir=cache_dir, fold_seed=fold_seed)
        if where is not None and not ship:
            return {"status": "done", "folder": str(outcome.folder), "scratch": tmp, "metrics": outcome.metrics}
        files = {str(p.relative_to(outcome.folder)): p.read_bytes()
                 for p in Path(outcome.folder).rglob("*") if p.is_file()}
    except ToolkitError as exc:
        remove_path(tmp)
        return {"status": "skipped", "reason": str(exc)}
    except Exception as exc:  # one broken configuration must not end the sweep
        remove_path(tmp)
        return {"status": "failed", "reason": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()}
    except BaseException:
        remove_path(tmp)
        raise
    remove_path(tmp)
    return {"status": "done", "files": files, "metrics": outcome.metrics}


def adopt(outcome: dict, folder: Path, scratch: Path) -> Path:
    """Move a run folder a local worker finished under ``scratch`` to ``folder`` (a rename, no copy).

    The path comes from the worker: one outside the sweep's scratch folder is refused.
    """
    source, tmp, root = Path(outcome["folder"]), Path(outcome["scratch"]), scratch.resolve()
    if not (source.resolve().is_relative_to(root) and tmp.resolve().is_relative_to(root)):
        raise ToolkitError(f"A configuration returned a folder outside the sweep's scratch folder: {source}.")
    make_folder(folder.parent, within=scratch.parent)  # a planted link to elsewhere is refused, not followed
    remove_path(folder)
    os.replace(source, folder)
    remove_path(tmp)
    return folder


def place(files: dict[str, bytes], folder: Path) -> Path:
    """Write a configuration's files under ``folder`` atomically (temp folder + rename).

    File names come from the worker; one that would land outside ``folder`` is refused.
    A link planted at the temporary or the final name is removed, never followed. An
    interrupted or failed write removes the temporary folder.
    """
    parent = make_folder(folder.parent)
    tmp = parent / f".{folder.name}.partial"
    remove_path(tmp)
    tmp.mkdir()
    try:
        for rel, data in files.items():
            if Path(rel).is_absolute() or ".." in Path(rel).parts:
                raise ToolkitError(f"A configuration returned a file outside its folder: {rel!r}.")
            target = tmp / rel
            make_folder(target.parent, within=tmp)
            atomic_write(target, data, within=tmp)
        remove_path(folder)
        os.replace(tmp, folder)
    except BaseException:
        remove_path(tmp)
        raise
    return folder


Task = tuple[str, dict, str, int, str | None, str | None]  # (config_id, raw spec, base_dir, fold_seed, cache_dir, scratch)


def threads_per_worker(workers: int) -> int:
    return max(1, (os.cpu_count() or 1) // max(1, workers))


def _init_worker(threads: int) -> None:
    """Give each worker its share of the cores, before TensorFlow or PyTorch start their pools."""
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "TF_NUM_INTRAOP_THREADS"):
        os.environ[var] = str(threads)
    os.environ["TF_NUM_INTEROP_THREADS"] = "1"
    from toolkit.environment import import_keras

    import_keras()
    import tensorflow as tf
    import torch

    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except RuntimeError:  # a reused (Ray) worker whose TensorFlow already started keeps its pools
        pass
    torch.set_num_threads(threads)


def _init_local_worker(threads: int) -> None:
    protect_worker()  # first: a Ctrl-C during TensorFlow's import must not reach the worker
    _init_worker(threads)


def run_local(tasks: list[Task], workers: int) -> Iterator[tuple[str, dict]]:
    """Yield (config_id, outcome) as configurations finish."""
    if workers <= 1:
        for config_id, *args in tasks:
            check_stop()  # a stop swallowed during the last configuration ends the sweep before the next
            yield config_id, run_config(*args)
        return
    ctx = get_context("spawn")  # fork after TensorFlow starts its threads is unsafe
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_init_local_worker,
                               initargs=(threads_per_worker(workers),))
    try:
        futures = {pool.submit(run_guarded, run_config, *args): config_id for config_id, *args in tasks}
        for future in as_finished(futures):
            yield futures[future], future.result()
    except BaseException:  # Ctrl-C, SIGTERM, or the caller closing this generator: stop now, not after the queue
        stop_pool(pool)
        # every worker is gone now; one killed after the grace period (its stop lost in a finalizer,
        # or stuck in native code) could not remove its run in progress, so the driver does
        with deferred():
            _clear_scratch(tasks)
        raise
    pool.shutdown(wait=True)


RAY_WAIT_S = 1.0  # longest wait inside Ray before Python sees a signal


def run_ray(tasks: list[Task], workers: int) -> Iterator[tuple[str, dict]]:
    """Run configurations as Ray tasks: a local Ray instance, or the cluster at $RAY_ADDRESS.

    Interrupted (Ctrl-C, SIGTERM, or the caller closing this generator), queued and running
    tasks are cancelled and a local instance is shut down with every process it started.
    """
    from toolkit.bench.ray_local import ray_instance, stop_tasks

    if not tasks:  # nothing to run: no Ray start-up (seconds) for it
        return
    owned = False
    try:
        with ray_instance(workers) as (ray, owned, ours):
            remote = ray.remote(num_cpus=1)(_ray_task)
            pending = {remote.remote(threads_per_worker(workers), *args): config_id for config_id, *args in tasks}
            try:
                while pending:
                    check_stop()
                    done, _ = ray.wait(list(pending), num_returns=1, timeout=RAY_WAIT_S)
                    for ref in done:
                        yield pending.pop(ref), ray.get(ref)
            except BaseException:
                stop_tasks(ray, pending, ours)
                raise
    finally:
        if owned:  # the instance is down: what its killed tasks left in the scratch folders is nobody's
            _clear_scratch(tasks)


def _clear_scratch(tasks: list[Task]) -> None:
    for scratch in {task[-1] for task in tasks if task[-1]}:
        for leftover in Path(scratch).glob("toolkit-config-*"):
            remove_path(leftover)


def _ray_task(threads: int, *args) -> dict:
    _init_worker(threads)
    return run_config(*args, ship=True)  # a Ray node may not share the driver's disk


EXECUTORS: dict[str, Callable[[list[Task], int], Iterator[tuple[str, dict]]]] = {"local": run_local, "ray": run_ray}
