"""``toolkit embed``: a spec's frozen-encoder rows computed into the row cache ahead of any run.

A crawl of millions of users is embedded once, sharded across local processes or
Ray tasks, and every later ``run``, ``bench`` or ``predict`` on those texts reads
the rows back (:mod:`toolkit.features.rows`). Only stateless featurizers whose row
depends on the user's text alone (:meth:`Featurizer.row_texts`) are embedded; the
others learn from the training users of each fold and cannot be computed ahead.

Decisions:
    * The driver decides what is missing (texts whose sha256 is not in the cache for
      the featurizer's identity) and cuts it into chunks; workers only compute and
      return ``(rows, seconds)``, and the driver writes one shard per chunk. So a
      Ray cluster whose workers share no disk with the driver works the same way, and
      rows are identical whichever executor ran them (a worker runs the same
      featurizer code on the same texts).
    * Resumable: every finished chunk is a shard on disk at once; a rerun (or a run
      interrupted and started again) skips every text already stored.
    * Each worker gets ``--threads`` threads (default: cores / workers) through
      ``OMP_NUM_THREADS`` and friends, set before its encoder loads, so workers do
      not oversubscribe the cores (the ``e5`` and ``use`` featurizers read their
      share from it).
"""

from __future__ import annotations

import hashlib
import math
import os
import sys
import time
from collections import deque
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import pandas as pd

from toolkit.bench.workers import WAIT_S, protect_worker, run_guarded, stop_pool
from toolkit.errors import ToolkitError
from toolkit.interrupts import check_stop
from toolkit.features.rows import RowStore
from toolkit.registry import FEATURIZERS

#: chunks per worker, at least: enough for progress lines and for a fast worker to take a slow one's share
CHUNKS_PER_WORKER = 8
MIN_CHUNK, MAX_CHUNK = 16, 2048  # texts per chunk: small enough to resume at, large enough to batch well
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "TF_NUM_INTRAOP_THREADS")

Progress = Callable[[str], None]


@dataclass
class EmbedReport:
    """What embedding one featurizer's rows did."""

    block: str  # the block's name in the spec
    users: int
    distinct_texts: int
    already_cached: int  # distinct texts whose row was in the cache before
    computed: int  # distinct texts embedded now
    seconds: float  # wall seconds of computing (workers' start-up included)

    @property
    def rate(self) -> float:
        return self.computed / self.seconds if self.seconds > 0 else 0.0


def threads_for(workers: int, threads: int | None) -> int:
    """``threads`` when given, else this machine's cores shared among the workers."""
    if threads is not None:
        if threads < 1:
            raise ToolkitError(f"--threads must be at least 1; got {threads}.")
        return threads
    return max(1, (os.cpu_count() or 1) // max(1, workers))


def embeddable(spec) -> list[tuple[str, object]]:
    """(block name, featurizer) for every featurizer of the spec whose rows can be computed ahead."""
    found = [(name, feat) for name, feat in zip(spec.block_names(), spec.build_featurizers())
             if getattr(feat, "stateless", False)]
    if not found:
        kinds = ", ".join(spec.block_names()) or "none"
        raise ToolkitError(f"The spec has no featurizer whose rows can be computed ahead (a frozen encoder such as "
                           f"distilbert, e5 or use); its featurizers: {kinds}. `run` computes the others per fold.")
    return found


def embed_spec(spec, users: pd.DataFrame, cache_root: Path, *, executor: str = "local", workers: int = 1,
               threads: int | None = None, progress: Progress | None = None) -> list[EmbedReport]:
    """Compute every missing row of the spec's stateless featurizers into ``<cache_root>/rows``."""
    if workers < 1:
        raise ToolkitError(f"--workers must be at least 1; got {workers}.")
    threads = threads_for(workers, threads)
    reports = []
    for name, feat in embeddable(spec):
        feat.check_available()  # a missing model or package stops here, before any worker starts
        texts = feat.row_texts(users)
        if texts is None:
            continue  # its rows depend on more than the text: nothing to key them by
        reports.append(_embed_one(name, feat, users, texts, Path(cache_root), executor, workers, threads,
                                  progress or (lambda line: None)))
    return reports


def _embed_one(name, feat, users, texts, root, executor, workers, threads, progress) -> EmbedReport:
    store = RowStore(root, feat)
    known, _ = store.read()
    first: dict[bytes, int] = {}
    for i, text in enumerate(texts):
        first.setdefault(hashlib.sha256(text.encode("utf-8")).digest(), i)
    missing = [d for d in first if d not in known]
    report = EmbedReport(name, len(users), len(first), len(first) - len(missing), 0, 0.0)
    progress(f"{name}: {len(users):,} users, {len(first):,} distinct texts, {report.already_cached:,} already in "
             f"the cache, {len(missing):,} to embed ({executor}, {workers} worker(s) x {threads} thread(s))")
    if not missing:
        return report
    size = min(MAX_CHUNK, max(MIN_CHUNK, math.ceil(len(missing) / (workers * CHUNKS_PER_WORKER))))
    chunks = [missing[i:i + size] for i in range(0, len(missing), size)]
    jobs = [(feat.registry_name, feat.get_config(), users.iloc[[first[d] for d in chunk]], threads)
            for chunk in chunks]
    start = time.perf_counter()
    for index, (rows, seconds) in EXECUTORS[executor](jobs, workers):
        store.write(dict(zip(chunks[index], rows)), seconds / len(chunks[index]))
        report.computed += len(chunks[index])
        report.seconds = time.perf_counter() - start
        progress(f"{name}: {report.computed:,}/{len(missing):,} texts embedded, {report.rate:,.1f} texts/s")
    return report


def embed_chunk(kind: str, params: dict, users: pd.DataFrame, threads: int) -> tuple[np.ndarray, float]:
    """In a worker: one chunk's rows, and the seconds the featurizer took (loading excluded)."""
    _set_threads(threads)
    feat = FEATURIZERS.get(kind)(**params)
    feat.warm_up()  # loaded once per process: the featurizers keep their models
    feat.fit(users)
    start = time.perf_counter()
    rows = np.asarray(feat.transform(users), dtype=np.float32)
    return rows, time.perf_counter() - start


def _set_threads(threads: int) -> None:
    for var in THREAD_VARIABLES:
        os.environ[var] = str(threads)
    if "torch" in sys.modules:  # a reused worker whose PyTorch started already: set its pool directly
        sys.modules["torch"].set_num_threads(threads)


def _init_local_worker(threads: int) -> None:
    protect_worker()
    _set_threads(threads)  # before any encoder library loads and sizes its thread pool


Job = tuple[str, dict, pd.DataFrame, int]


def run_local(jobs: list[Job], workers: int) -> Iterator[tuple[int, tuple[np.ndarray, float]]]:
    """Yield (chunk index, result) as chunks finish: in this process for one worker; else ``workers - 1``
    spawned processes take chunks from the front while this process embeds from the back.

    A spawned worker spends seconds starting (Python, the toolkit, the encoder's library and
    weights) before its first row; this process starts at once, so its chunks fill that time
    instead of waiting, and ``workers`` streams compute however the start-up compares with the
    work (on a few thousand users it is most of a worker's time).
    """
    if workers <= 1:
        for index, job in enumerate(jobs):
            check_stop()
            yield index, embed_chunk(*job)
        return
    pool = ProcessPoolExecutor(max_workers=workers - 1, mp_context=get_context("spawn"),
                               initializer=_init_local_worker, initargs=(jobs[0][3],))
    todo, futures = deque(range(len(jobs))), {}
    try:
        while todo or futures:
            check_stop()
            while todo and len(futures) < 2 * (workers - 1):  # each spawned worker has its next chunk queued
                index = todo.popleft()
                futures[pool.submit(run_guarded, embed_chunk, *jobs[index])] = index
            done = [future for future in futures if future.done()]
            for future in done:
                yield futures.pop(future), future.result()
            if not done and todo:
                index = todo.pop()
                yield index, embed_chunk(*jobs[index])
            elif not done:
                wait(list(futures), timeout=WAIT_S, return_when=FIRST_COMPLETED)
    except BaseException:  # Ctrl-C or SIGTERM: stop the workers now; finished chunks are stored already
        stop_pool(pool)
        raise
    pool.shutdown(wait=True)


def run_ray(jobs: list[Job], workers: int) -> Iterator[tuple[int, tuple[np.ndarray, float]]]:
    """Yield (chunk index, result) from Ray tasks: a local Ray instance, or the cluster at $RAY_ADDRESS.

    Ray starts as for ``bench --executor ray`` (off the network, the toolkit's signal handling
    kept) and a local instance started here is shut down when the chunks are done or on Ctrl-C.
    """
    from toolkit.bench.ray_local import ray_instance, stop_tasks

    threads = jobs[0][3]
    with ray_instance(workers * threads) as (ray, _local, ours):  # `workers` tasks at once, each on its threads
        remote = ray.remote(num_cpus=threads)(embed_chunk)
        pending = {remote.remote(*job): index for index, job in enumerate(jobs)}
        try:
            while pending:
                check_stop()
                done, _ = ray.wait(list(pending), num_returns=1, timeout=1.0)  # a signal is handled within a second
                for ref in done:
                    yield pending.pop(ref), ray.get(ref)
        except BaseException:
            stop_tasks(ray, pending, ours)
            raise


EXECUTORS = {"local": run_local, "ray": run_ray}
