"""Tokenize many users' texts: once per run, and on several cores when it pays.

:func:`tokenize_texts` is what the featurizers call. Decisions:

* **Once per run.** Every tokenized text goes into a bounded in-process memo
  keyed by the text itself (Python caches a string's hash; equality guards
  against collisions), so cross-validation's folds, a featurizer's fit and
  transform, and the final model re-tokenize nothing. The memo holds at most
  :data:`MEMO_TEXTS` texts and forgets the oldest first; tokens are interned,
  so a word repeated across users is stored once.
* **Parallel when it pays.** The cost of a text depends less on its length
  than on how much of its Chinese jieba has segmented before (repeated phrases
  are cached), so the decision is measured rather than guessed: the first
  :data:`SAMPLE_TEXTS` texts are tokenized here, and when the rest would take
  more than :data:`PARALLEL_MIN_SECONDS` at that rate and at least two cores
  are free, the rest is shared between this process and ``cores - 1`` worker
  processes (see :func:`tokenize_parallel`). Processes rather than threads:
  jieba holds the GIL. The tokens are identical either way (same function,
  same order).
* **This process works too.** A worker takes about half a second to start and
  load jieba's dictionary; this process tokenizes chunks from the back meanwhile,
  and the workers take chunks from the front until the two meet. So start-up
  overlaps useful work, the cores stay busy to the end, and a worker slowed by
  other work on its core simply gets fewer chunks. With ``W`` seconds of work
  and a start-up ``s``, two cores take about ``(W + s) / 2`` plus the split
  phrase caches and the shipping: measured on 2 cores, even at ``W`` = 1.1 s,
  1.2x at 1.8 s, 1.4x at 2.6 s; hence the 2 s threshold (it was 8 s when this
  process only waited for the workers). A wrong guess costs little: the
  workers start in the background while the sample is measured, and this
  process never waits for one that is still starting (it takes back, or
  redoes, the chunks handed out).
* **Tokens travel as one string.** A worker returns a chunk's tokens joined
  by spaces (a token never holds whitespace) and each text's token count: one
  string pickles and unpickles many times faster than lists of small strings,
  and this process splits it once and interns the tokens.
* **One executor per process.** A private loky executor, started on first
  use and reused by later calls; idle workers exit after
  :data:`WORKER_IDLE_SECONDS`. loky starts workers as fresh interpreters (no
  ``fork``), which is safe with TensorFlow's or PyTorch's threads running.
* Cores free to this process: its CPU affinity, capped by ``OMP_NUM_THREADS``
  (``bench --workers`` sets it per worker), and one inside a daemonic process
  (a multiprocessing pool worker may not start children).
"""

from __future__ import annotations

import multiprocessing
import os
import re
import sys
import time
from array import array
from concurrent.futures import FIRST_COMPLETED, Future, wait
from concurrent.futures.process import BrokenProcessPool
from itertools import chain, islice
from typing import Any, Callable, Iterable

from toolkit.progress import counter_for
from toolkit.text.tokenize import load_jieba, tokenize

#: at most this many texts are remembered (about 0.3 KB each with interned tokens)
MEMO_TEXTS = 2_000_000
#: texts tokenized in this process first, to measure the rate
SAMPLE_TEXTS = 2000
#: estimated one-process seconds for the rest above which sharing it with workers pays (module docstring)
PARALLEL_MIN_SECONDS = 2.0
#: characters per chunk: tens of milliseconds of jieba, so the last chunks end close together
CHUNK_CHARS = 50_000
#: chunks handed to a worker at a time: the one it works on and enough queued behind it to cover
#: the time this process takes to notice a finished chunk (it looks between chunks of its own)
IN_FLIGHT_PER_WORKER = 6
#: idle worker processes exit after this many seconds (and are started again when needed)
WORKER_IDLE_SECONDS = 300

_memo: dict[tuple[bool, str], tuple[str, ...]] = {}
_pool: tuple[int, Any] | None = None  # (workers, loky executor)

ProgressCallback = Callable[[int], None]  # called with the number of texts just finished


def tokenize_texts(texts: Iterable[str], *, stop_words: bool = True,
                   progress: ProgressCallback | None = None) -> list[tuple[str, ...]]:
    """Tokens of each text (see :func:`toolkit.text.tokenize.tokenize`), memoized.

    Args:
        texts: one text per user.
        stop_words: remove English and Chinese stop words.
        progress: called with counts of texts as they are done (memo hits first);
            by default the active progress sink's "tokenize" bar, if any.

    Returns:
        One tuple of tokens per text, in order.
    """
    texts = list(texts)
    progress = progress or counter_for("tokenize", len(texts))
    out: list[tuple[str, ...] | None] = [_memo.get((stop_words, t)) for t in texts]
    missing = [i for i, tokens in enumerate(out) if tokens is None]
    if progress is not None and len(texts) > len(missing):
        progress(len(texts) - len(missing))
    todo = list(dict.fromkeys(texts[i] for i in missing))  # each distinct text once
    fresh = dict(zip(todo, _tokenize_fresh(todo, stop_words, progress)))
    for text, tokens in fresh.items():
        _remember((stop_words, text), tokens)
    for i in missing:
        out[i] = fresh[texts[i]]
    if progress is not None and len(missing) > len(todo):
        progress(len(missing) - len(todo))  # repeated texts, tokenized once
    return out  # type: ignore[return-value]


def clear_memo() -> None:
    """Forget every remembered text (tests; or to free the memory after a run)."""
    _memo.clear()


def free_cores() -> int:
    """Cores this process may use for tokenizing (see the module docstring)."""
    if multiprocessing.current_process().daemon:
        return 1
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        cores = os.cpu_count() or 1
    cap = os.environ.get("OMP_NUM_THREADS", "")
    # ASCII digits only: str.isdigit() also accepts "³", which int() then refuses
    return max(1, min(cores, int(cap))) if re.fullmatch(r"[0-9]+", cap) and int(cap) > 0 else cores


def _tokenize_fresh(texts: list[str], stop_words: bool, progress: ProgressCallback | None) -> list[tuple[str, ...]]:
    workers = free_cores()
    if workers < 2 or len(texts) <= 2 * SAMPLE_TEXTS:
        return _chunk_serial(texts, stop_words, progress)
    started_here = _start_workers(workers - 1)  # they start while the sample is measured
    start = time.perf_counter()
    head = _chunk_serial(texts[:SAMPLE_TEXTS], stop_words, progress)
    rate = (time.perf_counter() - start) / max(1, sum(map(len, texts[:SAMPLE_TEXTS])))  # seconds per char
    rest = texts[SAMPLE_TEXTS:]
    if rate * sum(map(len, rest)) < PARALLEL_MIN_SECONDS:
        if started_here:
            shutdown_workers(wait=False)  # not needed after all; do not keep an idle process around
        return head + _chunk_serial(rest, stop_words, progress)
    return head + tokenize_parallel(rest, stop_words=stop_words, workers=workers, progress=progress)


def tokenize_parallel(texts: list[str], *, stop_words: bool = True, workers: int = 2,
                      progress: ProgressCallback | None = None) -> list[tuple[str, ...]]:
    """Tokenize with this process and ``workers - 1`` worker processes sharing the chunks; input order.

    The texts are cut into contiguous chunks of about :data:`CHUNK_CHARS` characters.
    Workers take chunks from the front, this process from the back, until they meet;
    so the workers' start-up overlaps useful work here, and a busy or slow worker just
    gets fewer chunks. Each worker has :data:`IN_FLIGHT_PER_WORKER` chunks handed out
    at a time, refilled whenever this process finishes a chunk of its own; when none
    is left for this process, it works through the handed-out ones from the back too
    (see :func:`_reclaim_or_wait`).
    """
    bounds = _chunk_bounds(texts, CHUNK_CHARS)
    if workers < 2 or len(bounds) < 2:
        return _chunk_serial(texts, stop_words, progress)
    executor = _worker_pool(workers - 1)
    results: list[list[tuple[str, ...]]] = [[] for _ in bounds]
    pending: dict[Future, int] = {}  # handed out to the workers: chunk index by future

    def here(index: int) -> None:
        a, b = bounds[index]
        results[index] = _chunk_serial(texts[a:b], stop_words, progress)

    front, back, worker_up = 0, len(bounds), False
    try:
        while front < back or pending:
            while front < back and len(pending) < IN_FLIGHT_PER_WORKER * (workers - 1):
                a, b = bounds[front]
                pending[executor.submit(_chunk_worker, texts[a:b], stop_words)] = front
                front += 1
            if front < back:
                back -= 1
                here(back)
            else:
                _reclaim_or_wait(pending, here, worker_up)
            for future in [f for f in pending if f.done()]:
                worker_up = True
                index = pending.pop(future)
                results[index] = _split_tokens(future.result())
                if progress is not None:
                    progress(len(results[index]))
    except BrokenProcessPool:
        shutdown_workers()  # a worker died: start afresh next time
        raise
    finally:
        for future in pending:  # after an error (or Ctrl-C): drop the chunks not yet started
            future.cancel()
    return [tokens for chunk in results for tokens in chunk]


def _reclaim_or_wait(pending: dict[Future, int], here: Callable[[int], None], worker_up: bool) -> None:
    """Nothing left to take here: tokenize the last handed-out chunk here too, or wait for a worker.

    The last chunk is taken back if no worker has started it; otherwise it is done
    here as well (the first result wins, the tokens are the same) unless it is the
    only one left and the workers are running, in which case it is nearly done. So
    this process never sits waiting for a worker that is still starting.
    """
    last = max(pending, key=pending.__getitem__)
    if last.cancel() or len(pending) > 1 or not worker_up:
        here(pending.pop(last))
    else:
        wait(pending, return_when=FIRST_COMPLETED)


def shutdown_workers(wait: bool = True) -> None:
    """Stop the worker processes, if any (benchmarks start from none; idle ones also exit on their own).

    Args:
        wait: return only once they have exited (else they finish loading and exit on their own).
    """
    global _pool
    if _pool is not None:
        _pool[1].shutdown(wait=wait)
        _pool = None


def _start_workers(size: int) -> bool:
    """Start ``size`` workers in the background (a few milliseconds here); False if they were running."""
    running = _pool is not None and _pool[0] == size
    if not running:
        _worker_pool(size).submit(load_jieba)  # loky starts its processes on the first submit
    return not running


def _worker_pool(size: int):
    """The process's loky executor with ``size`` workers, started once and reused.

    A private executor rather than loky's shared reusable one, so another library's
    joblib call with a different ``n_jobs`` does not restart ours. loky starts workers
    fresh (not forked), which is safe with TensorFlow's or PyTorch's threads running.
    """
    global _pool
    from joblib.externals.loky.process_executor import ProcessPoolExecutor

    if _pool is None or _pool[0] != size:
        shutdown_workers()
        _pool = (size, ProcessPoolExecutor(max_workers=size, timeout=WORKER_IDLE_SECONDS, initializer=load_jieba))
    return _pool[1]


def _chunk_bounds(texts: list[str], chars: int) -> list[tuple[int, int]]:
    """Contiguous (start, stop) ranges of at least one text and about ``chars`` characters each."""
    bounds, start, size = [], 0, 0
    for i, text in enumerate(texts):
        size += len(text) if isinstance(text, str) else 0
        if size >= chars:
            bounds.append((start, i + 1))
            start, size = i + 1, 0
    if start < len(texts):
        bounds.append((start, len(texts)))
    return bounds


def _chunk_worker(texts: list[str], stop_words: bool) -> tuple[str, array]:
    """One chunk's tokens as one string of all its tokens joined by spaces, and each text's count.

    A single string pickles and unpickles far faster than lists of small strings, and one
    split of it is cheaper for the receiving process than a split per text. It round-trips
    exactly because a token is never empty and never holds whitespace (a run of letters,
    digits and inner apostrophes, or jieba's piece of a run of Chinese characters).
    """
    tokens = [tokenize(t, stop_words=stop_words) for t in texts]
    return " ".join(chain.from_iterable(tokens)), array("L", map(len, tokens))


def _split_tokens(payload: tuple[str, array]) -> list[tuple[str, ...]]:
    """Inverse of :func:`_chunk_worker`, tokens interned; a text without tokens gives ``()``."""
    joined, counts = payload
    words = iter(map(sys.intern, joined.split(" ")) if joined else ())
    return [tuple(islice(words, n)) for n in counts]


def _chunk_serial(texts: list[str], stop_words: bool, progress: ProgressCallback | None,
                  step: int = 2000) -> list[tuple[str, ...]]:
    out: list[tuple[str, ...]] = []
    for start in range(0, len(texts), step):
        out.extend(tuple(map(sys.intern, tokenize(t, stop_words=stop_words))) for t in texts[start:start + step])
        if progress is not None:
            progress(len(texts[start:start + step]))
    return out


def _remember(key: tuple[bool, str], tokens: tuple[str, ...]) -> None:
    if len(_memo) >= MEMO_TEXTS:
        # Forget the oldest tenth at once: dicts keep insertion order, and evicting in bulk is cheap.
        for old in list(_memo)[: MEMO_TEXTS // 10]:
            del _memo[old]
    _memo[key] = tokens
