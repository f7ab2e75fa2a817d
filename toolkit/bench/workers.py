"""Worker processes that stop when told to and never outlive the driver.

- Ctrl-C reaches every process of the terminal's process group; workers ignore
  SIGINT and leave stopping to the driver, which terminates them (SIGTERM).
- SIGTERM in a worker running a configuration raises SystemExit, so the
  configuration's temporary folder is removed on the way out, then the process
  exits whatever the pool machinery would do next; a worker still starting up or
  idle has nothing to clean and exits at once (an exception there would be logged
  with a traceback by the pool's initializer guard).
- If the driver dies without a word (``kill -9``), Linux sends the worker SIGTERM
  (``prctl(PR_SET_PDEATHSIG)``); elsewhere, and as a fallback, a watchdog thread
  sees the parent process change and does the same.
- The driver stops a pool by cancelling what has not started and terminating
  (then, after a grace period, killing) the workers, instead of waiting for
  running configurations to finish; a second signal meanwhile cannot cut that short.
- The driver waits for results in turns of :data:`WAIT_S`, checking between turns for a
  stop whose KeyboardInterrupt was swallowed (:mod:`toolkit.interrupts`).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys
import threading
import time
from concurrent.futures import FIRST_COMPLETED, wait
from typing import Iterable, Iterator

from toolkit.interrupts import check_stop, deferred, record_stop

PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
WATCH_INTERVAL_S = 1.0
WAIT_S = 0.5  # the driver's longest wait for a result before it looks for a stop request
GRACE_S = 10.0  # after SIGTERM, seconds a worker (or the driver's wait for one) allows before a hard exit

_terminating = threading.Event()
_in_task = threading.Event()


def _on_sigterm(signum, frame):
    _terminating.set()
    # the SystemExit below is lost if it lands in a finalizer; the run's next safe point raises again
    record_stop(signal.Signals(signum).name)
    if not _in_task.is_set():  # starting up or idle: nothing to clean up, and no traceback to print
        os._exit(128 + signum)
    raise SystemExit(128 + signum)


def protect_worker() -> None:
    """Call first thing in a worker process: signal handling, parent-death signal, watchdog."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _on_sigterm)
    parent = os.getppid()
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        except (OSError, AttributeError):
            pass  # the watchdog below still covers it
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True, name="parent-watchdog").start()


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent and not _terminating.is_set():
        time.sleep(WATCH_INTERVAL_S)
    if not _terminating.is_set():
        os.kill(os.getpid(), signal.SIGTERM)  # the main thread cleans up through SystemExit
    time.sleep(GRACE_S)
    os._exit(1)  # stuck in native code: leave anyway


def run_guarded(fn, *args):
    """Run ``fn(*args)`` in a worker; once SIGTERM has arrived, exit the process after ``fn``'s clean-up."""
    _in_task.set()
    try:
        return fn(*args)
    finally:
        _in_task.clear()
        if _terminating.is_set():
            os._exit(1)


def as_finished(futures: Iterable) -> Iterator:
    """Like ``concurrent.futures.as_completed``, but a stop asked for while waiting is raised within :data:`WAIT_S`.

    Raises:
        KeyboardInterrupt: a SIGTERM or Ctrl-C arrived, its first raise possibly swallowed.
    """
    pending = set(futures)
    while pending:
        check_stop()
        done, pending = wait(pending, timeout=WAIT_S, return_when=FIRST_COMPLETED)
        for future in done:
            check_stop()
            yield future


def stop_pool(pool) -> None:
    """Cancel queued work and terminate a ProcessPoolExecutor's running workers now."""
    with deferred():  # a second SIGTERM must not leave workers running
        _stop_pool(pool)


def _stop_pool(pool) -> None:
    # pid -> Process; the pool has no public accessor, and shutdown(wait=False) alone lets them run on
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        if process.is_alive():
            process.terminate()
    deadline = time.monotonic() + GRACE_S
    for process in processes:
        process.join(max(0.0, deadline - time.monotonic()))
        if process.is_alive():
            process.kill()
            process.join(1.0)
