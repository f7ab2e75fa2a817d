"""The one way the toolkit writes a file: atomically, and never through a planted link.

Every file the toolkit writes goes through :func:`atomic_write` (whole files) or
:func:`append_line` (the sweep ledger). Both matter most for folders the user did not make
(a run or sweep folder someone sent them), where a file name may already be a symlink to
``~/.bashrc``:

- ``atomic_write`` writes a temporary file in the destination folder (created with
  ``O_EXCL | O_NOFOLLOW``) and ``os.replace``-s it over the final name. A rename replaces a
  link at the final name instead of following it, and a reader sees the old file or the new
  one, never half of one.
- ``append_line`` opens with ``O_NOFOLLOW``: a link at the final name is refused.
- With ``within=ROOT`` both refuse a destination folder that, with links resolved, lies
  outside ``ROOT`` (a planted ``RUN_DIR/explain -> /home/me`` link).

Reading has one door too: :func:`open_regular` (and :func:`read_regular`) checks what a path
*is* before it opens it, and opens without blocking, so a FIFO, a device, a socket or a folder
planted where a file is expected is refused with a message naming what was found, instead of
hanging the reader or filling its memory.
"""

from __future__ import annotations

import os
import shutil
import stat
import uuid
from pathlib import Path

from toolkit.errors import ToolkitError, os_reason

_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"), (stat.S_ISLNK, "a symbolic link"))


def kind_of(mode: int) -> str:
    """What a ``st_mode`` says a path is, in words: "a regular file", "a named pipe (FIFO)", ..."""
    if stat.S_ISREG(mode):
        return "a regular file"
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def describe_path(path: str | Path) -> str:
    """What stands at ``path``, in words, for messages: "does not exist", "is a folder", "is a link to ..."."""
    try:
        info = os.lstat(path)
    except OSError as exc:
        return "does not exist" if isinstance(exc, FileNotFoundError) else f"cannot be examined ({os_reason(exc)})"
    if stat.S_ISLNK(info.st_mode):
        target = os.readlink(path)
        try:
            return f"is a symbolic link to {target}, which is {kind_of(os.stat(path).st_mode)}"
        except OSError:
            return f"is a symbolic link to {target}, which does not exist"
    return f"is {kind_of(info.st_mode)}"


def open_regular(path: str | Path, what: str, *, follow_links: bool = True):
    """``path`` opened for binary reading, or a ToolkitError if it is not a regular file.

    The path is examined before it is opened and the open does not block (``O_NONBLOCK``), so a
    FIFO cannot hang the reader even if it replaces the file between the two steps; the opened
    descriptor is checked again with ``fstat``. ``follow_links=False`` also refuses a symbolic
    link at ``path`` (the toolkit's own caches never follow a link they did not make).
    ``what`` names the expected content in messages ("a posts CSV", "a run's metrics.json").
    """
    path = Path(path)
    try:
        info = os.stat(path) if follow_links else os.lstat(path)
    except FileNotFoundError:
        raise ToolkitError(f"{path} not found: the path {describe_path(path)}. Expected {what}.") from None
    except OSError as exc:
        raise ToolkitError(f"{path} cannot be read as {what}: {os_reason(exc)}.") from None
    if not stat.S_ISREG(info.st_mode):
        raise ToolkitError(f"{path} {describe_path(path)}, not a regular file. Expected {what}.")
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    if not follow_links:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise ToolkitError(f"{path} cannot be read as {what}: {os_reason(exc)}.") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise ToolkitError(f"{path} is {kind_of(mode)}, not a regular file. Expected {what}.")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_regular(path: str | Path, limit: int, what: str, *, follow_links: bool = True) -> bytes:
    """The bytes of a regular file no larger than ``limit``, or a ToolkitError naming it.

    The size is checked before reading, and the read itself stops at the limit (a file that
    grows meanwhile cannot make it read more).
    """
    with open_regular(path, what, follow_links=follow_links) as fh:
        size = os.fstat(fh.fileno()).st_size
        if size > limit:
            raise ToolkitError(f"{path} is {size:,} bytes; {what} is at most {limit:,} bytes. "
                               "Was it replaced or copied from elsewhere?")
        try:
            data = fh.read(limit + 1)
        except OSError as exc:
            raise ToolkitError(f"{path} cannot be read as {what}: {os_reason(exc)}.") from None
    if len(data) > limit:
        raise ToolkitError(f"{path} is larger than {limit:,} bytes; expected {what}.")
    return data


def check_inside(folder: str | Path, root: str | Path) -> Path:
    """``folder`` with links resolved, refused unless it lies inside ``root`` (links resolved too)."""
    real, real_root = Path(os.path.realpath(folder)), Path(os.path.realpath(root))
    if real != real_root and real_root not in real.parents:
        raise ToolkitError(
            f"Refusing to write into {folder}: it leads to {real}, outside {root} "
            "(a symbolic link in the folder points elsewhere). Remove the link and try again.")
    return real


def make_folder(folder: str | Path, *, within: str | Path | None = None) -> Path:
    """Create ``folder`` (and its parents) and, with ``within``, check it stays inside that root."""
    folder = Path(folder)
    if within is not None:
        check_inside(folder.parent if not os.path.lexists(folder) else folder, within)
    folder.mkdir(parents=True, exist_ok=True)
    if within is not None:
        check_inside(folder, within)
    return folder


def remove_path(path: str | Path) -> None:
    """Remove a folder tree, or a link (never what it points to); nothing if it is not there."""
    if os.path.islink(path):
        os.unlink(path)
    else:
        shutil.rmtree(path, ignore_errors=True)


def atomic_write(path: str | Path, data: bytes | str, *, within: str | Path | None = None,
                 mode: int | None = None, encoding: str = "utf-8", fsync: bool = False) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename.

    ``mode`` sets the file's permission bits (default: 0o666 less the umask, as ``open`` would);
    ``fsync`` flushes the data to disk before the rename. A link at ``path`` is replaced, never
    followed. Returns ``path``.
    """
    path = Path(path)
    if within is not None:
        check_inside(path.parent, within)
    payload = data.encode(encoding) if isinstance(data, str) else bytes(data)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(tmp, flags, 0o666 if mode is None else mode)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
            if fsync:
                fh.flush()
                os.fsync(fh.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def open_atomic(path: str | Path, *, within: str | Path | None = None, mode: int | None = None,
                fsync: bool = False):
    """A context manager for streaming a large file atomically: yields a binary file object.

    On success the temporary file is (with ``fsync``, flushed to disk and) renamed over ``path``;
    on any exception it is removed.
    """
    return _AtomicFile(Path(path), within, mode, fsync)


class _AtomicFile:
    def __init__(self, path: Path, within, mode, fsync: bool = False):
        self.path, self.within, self.mode, self.fsync = path, within, mode, fsync
        self.tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}.tmp")

    def __enter__(self):
        if self.within is not None:
            check_inside(self.path.parent, self.within)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
        self.fh = os.fdopen(os.open(self.tmp, flags, 0o666 if self.mode is None else self.mode), "wb")
        return self.fh

    def __exit__(self, exc_type, exc, tb):
        try:
            if exc_type is None and self.fsync:
                self.fh.flush()
                os.fsync(self.fh.fileno())
            self.fh.close()
            if exc_type is None:
                if self.mode is not None:
                    os.chmod(self.tmp, self.mode)
                os.replace(self.tmp, self.path)
        finally:
            if exc_type is not None or os.path.lexists(self.tmp):
                self.tmp.unlink(missing_ok=True)
        return False


def append_line(path: str | Path, line: str, *, within: str | Path | None = None, fsync: bool = False) -> None:
    """Append one line (a newline is added) to ``path``; a symbolic link at ``path`` is refused.

    ``fsync`` flushes it to disk before returning (a ledger line must outlive a power loss).
    """
    path = Path(path)
    if within is not None:
        check_inside(path.parent, within)
    flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags, 0o666)
    except OSError:
        if os.path.islink(path):
            raise ToolkitError(f"Refusing to append to {path}: it is a symbolic link "
                               f"(to {os.readlink(path)}). Remove the link and try again.") from None
        raise
    with os.fdopen(fd, "a", encoding="utf-8") as fh:
        fh.write(line.rstrip("\n") + "\n")
        if fsync:
            fh.flush()
            os.fsync(fh.fileno())


def save_figure(fig, path: str | Path, *, within: str | Path | None = None, **options) -> Path:
    """A matplotlib figure written through :func:`atomic_write` (``savefig`` on a path follows links)."""
    import io

    buffer = io.BytesIO()
    fig.savefig(buffer, format=Path(path).suffix.lstrip(".") or "png", **options)
    return atomic_write(path, buffer.getvalue(), within=within)


def write_frame_csv(frame, path: str | Path, *, within: str | Path | None = None, **options) -> Path:
    """A pandas DataFrame streamed to CSV through :func:`open_atomic` (``to_csv`` on a path follows links)."""
    import io

    with open_atomic(path, within=within) as fh:
        text = io.TextIOWrapper(fh, encoding="utf-8", newline="")
        frame.to_csv(text, **options)
        text.flush()
        text.detach()  # the atomic file closes the underlying handle itself
    return Path(path)
