"""SIGTERM treated like Ctrl-C, so that ``kill PID`` cleans up as an interrupted run does.

Python's default for SIGTERM ends the process at once: no ``finally``, no removal of
a ``.partial`` results folder, no stopping of worker processes. Raising
KeyboardInterrupt instead sends it through the same clean-up as Ctrl-C.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from typing import Iterator


def _interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signal.Signals(signum).name}")


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Within the block, SIGTERM raises KeyboardInterrupt in the main thread; the old handler comes back after."""
    if threading.current_thread() is not threading.main_thread():
        yield  # handlers can only be set from the main thread; a caller in another thread keeps the default
        return
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
