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
  are free, the rest is split into contiguous chunks tokenized in joblib's loky
  worker processes (started once and reused; each loads jieba's dictionary
  once, about a second). Below that, starting workers and shipping text costs
  more than it saves. Processes rather than threads: jieba holds the GIL.
  The tokens are identical either way (same function, same order).
* Cores free to this process: its CPU affinity, capped by ``OMP_NUM_THREADS``
  (``bench --workers`` sets it per worker), and one inside a daemonic process
  (a multiprocessing pool worker may not start children).
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import time
from typing import Callable, Iterable

from toolkit.featurizers.tokenize import load_jieba, tokenize
from toolkit.progress import counter_for

#: at most this many texts are remembered (about 0.3 KB each with interned tokens)
MEMO_TEXTS = 2_000_000
#: texts tokenized in this process first, to measure the rate
SAMPLE_TEXTS = 2000
#: estimated serial seconds for the rest above which worker processes pay for their start-up
PARALLEL_MIN_SECONDS = 8.0
#: chunks per worker: enough to balance uneven texts, few enough to keep the overhead small
CHUNKS_PER_WORKER = 4

_memo: dict[tuple[bool, str], tuple[str, ...]] = {}

ProgressCallback = Callable[[int], None]  # called with the number of texts just finished


def tokenize_texts(texts: Iterable[str], *, stop_words: bool = True,
                   progress: ProgressCallback | None = None) -> list[tuple[str, ...]]:
    """Tokens of each text (see :func:`toolkit.featurizers.tokenize.tokenize`), memoized.

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
    return max(1, min(cores, int(cap))) if cap.isdigit() and int(cap) > 0 else cores


def _tokenize_fresh(texts: list[str], stop_words: bool, progress: ProgressCallback | None) -> list[tuple[str, ...]]:
    workers = free_cores()
    if workers < 2 or len(texts) <= 2 * SAMPLE_TEXTS:
        return _chunk_serial(texts, stop_words, progress)
    start = time.perf_counter()
    head = _chunk_serial(texts[:SAMPLE_TEXTS], stop_words, progress)
    rate = (time.perf_counter() - start) / max(1, sum(map(len, texts[:SAMPLE_TEXTS])))  # seconds per char
    rest = texts[SAMPLE_TEXTS:]
    if rate * sum(map(len, rest)) < PARALLEL_MIN_SECONDS:
        return head + _chunk_serial(rest, stop_words, progress)
    return head + tokenize_parallel(rest, stop_words=stop_words, workers=workers, progress=progress)


def tokenize_parallel(texts: list[str], *, stop_words: bool = True, workers: int = 2,
                      progress: ProgressCallback | None = None) -> list[tuple[str, ...]]:
    """Tokenize in ``workers`` loky processes, in contiguous chunks; results in input order."""
    from joblib import Parallel, delayed

    n_chunks = max(1, min(len(texts), workers * CHUNKS_PER_WORKER))
    bounds = [len(texts) * k // n_chunks for k in range(n_chunks + 1)]
    chunks = [texts[a:b] for a, b in zip(bounds, bounds[1:])]
    out: list[tuple[str, ...]] = []
    # return_as="generator" yields chunks in order as they finish, so progress can advance.
    results = Parallel(n_jobs=workers, backend="loky", return_as="generator")(
        delayed(_chunk_worker)(chunk, stop_words) for chunk in chunks)
    for chunk in results:
        out.extend(tuple(map(sys.intern, tokens)) for tokens in chunk)
        if progress is not None:
            progress(len(chunk))
    return out


def _chunk_worker(texts: list[str], stop_words: bool) -> list[list[str]]:
    load_jieba()
    return [tokenize(t, stop_words=stop_words) for t in texts]


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
