"""One driver per sweep folder: ``bench`` and ``bench --resume`` hold an exclusive lock while they run.

Two drivers on one sweep would run every remaining configuration twice and write duplicate
ledger lines. The lock is ``fcntl.flock`` on ``<sweep>/.lock``: the kernel releases it when
the process ends, however it ends, so a killed driver never leaves a stale lock. The file
holds the holder's pid, for the message the second driver prints; it is opened with
``O_NOFOLLOW``, so a link planted at its name in a received folder is refused.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

from toolkit.errors import ToolkitError

LOCK_NAME = ".lock"


@contextlib.contextmanager
def sweep_lock(folder: str | Path):
    """Hold the sweep folder's lock for the ``with`` block; a ToolkitError naming the holder if taken."""
    path = Path(folder) / LOCK_NAME
    flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags, 0o644)
    except OSError:
        if os.path.islink(path):
            raise ToolkitError(f"Refusing to use {path}: it is a symbolic link (to {os.readlink(path)}). "
                               "Remove the link and try again.") from None
        raise
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", errors="replace").strip() or "unknown"
            raise ToolkitError(f"The sweep in {folder} is being run by process {holder}; wait for it to "
                               "finish (or stop it) before resuming it.") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
        yield path
    finally:
        os.close(fd)  # closing the descriptor releases the lock
