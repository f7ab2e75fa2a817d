"""SIGTERM treated like Ctrl-C, so that ``kill PID`` cleans up as an interrupted run does, and
neither can be lost.

Python's default for SIGTERM ends the process at once: no ``finally``, no removal of
a ``.partial`` results folder, no stopping of worker processes. Raising
KeyboardInterrupt instead sends it through the same clean-up as Ctrl-C.

A handler runs wherever the main thread happens to be, and that can be a ``__del__`` or a
weakref callback (``WeakKeyDictionary.remove``), where Python prints the exception as
"Exception ignored in ..." and goes on. So the handler also records the request: every
safe point (between configurations, between folds, each turn of an executor's wait loop)
calls :func:`check_stop`, which raises again, and leaving :func:`sigterm_as_interrupt` with a
request recorded raises too, so the command ends with exit 1 however the first raise was lost.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from typing import Iterator

_active = False  # a sigterm_as_interrupt block is running: requests are recorded
_requested: str | None = None  # the signal that asked to stop (SIGTERM, SIGINT), until the block ends
_deferring = 0  # clean-up under way (deferred blocks): a signal is recorded, not raised


def _interrupt(signum, frame):
    global _requested
    _requested = signal.Signals(signum).name
    if not _deferring:
        raise KeyboardInterrupt(f"signal {_requested}")


def stop_requested() -> str | None:
    """The name of the signal that asked this command to stop, or None."""
    return _requested


def request_stop(name: str) -> None:
    """Record a stop that arrived another way (Ray's own handler caught the SIGTERM)."""
    global _requested
    if _active:  # outside a block nothing would ever clear it: a later call in this process would stop
        _requested = name


def record_stop(name: str) -> None:
    """Record a stop in a process that has no block of its own (a bench worker, which exits right after)."""
    global _requested
    _requested = name


def check_stop() -> None:
    """A safe point: raise KeyboardInterrupt if a stop was asked for, even if its first raise was swallowed.

    Raises:
        KeyboardInterrupt: a SIGTERM or Ctrl-C arrived since the block began.
    """
    if _requested is not None:
        raise KeyboardInterrupt(f"signal {_requested}")


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """Within the block a signal is recorded but not raised, so a second one cannot cut clean-up short."""
    global _deferring
    _deferring += 1
    try:
        yield
    finally:
        _deferring -= 1


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Within the block, SIGTERM and Ctrl-C raise KeyboardInterrupt in the main thread and are recorded
    for :func:`check_stop`; the old handlers come back after.

    Ctrl-C is taken over only where it has Python's default handler (a shell's background job
    ignores it, and keeps ignoring it). A block nested in another one changes nothing.

    Raises:
        KeyboardInterrupt: on leaving the block normally, if a stop was recorded in it.
    """
    global _active, _requested
    if threading.current_thread() is not threading.main_thread() or _active:
        yield  # handlers can only be set from the main thread; a caller in another thread keeps the default
        return
    _active, _requested = True, None  # first: a signal landing while the handlers go in is recorded
    previous_term, previous_int = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    try:
        signal.signal(signal.SIGTERM, _interrupt)
        if previous_int is signal.default_int_handler:
            signal.signal(signal.SIGINT, _interrupt)
        yield
    finally:
        signal.signal(signal.SIGTERM, previous_term)
        if previous_int is signal.default_int_handler:
            signal.signal(signal.SIGINT, previous_int)
        stopped, _active, _requested = _requested, False, None
    if stopped is not None:  # the block ran to its end although a stop was asked for: the raise was swallowed
        raise KeyboardInterrupt(f"signal {stopped}")
