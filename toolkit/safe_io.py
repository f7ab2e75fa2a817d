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

A path the *user* named for output (``--out``) goes through :func:`open_output` (or
:func:`write_output`): a regular file or a new path is written atomically as above, but a named
pipe, a character device (``/dev/null``, a terminal) or one of this process's descriptors
(``/dev/stdout``, ``/dev/fd/N``) is written to in place, never created, truncated or replaced;
a folder, a socket or a block device is refused. A rename is right for a file and wrong for a
device: as root it would turn ``/dev/null`` into a regular file.

An operating-system error while writing (a full disk, an I/O error, a permission refused) is
raised again as the same ``OSError`` naming the file the caller asked for, not the temporary
file or none (a failed ``write`` names no file at all).
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import sys
import uuid
from dataclasses import dataclass
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


def naming(path: str | Path, exc: OSError) -> OSError:
    """``exc`` again (the same ``OSError`` subclass and errno) naming ``path``, the file the caller asked for.

    A failed ``write`` or ``close`` (a full disk, an I/O error) names no file, and a failed
    ``open`` or ``rename`` names the temporary file; a message should name the file the user knows.
    """
    renamed = type(exc)(exc.errno, exc.strerror or str(exc) or type(exc).__name__, str(path))
    renamed.__cause__ = exc
    return renamed


def _temporary(path: Path) -> Path:
    return path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}.tmp")


_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


def atomic_write(path: str | Path, data: bytes | str, *, within: str | Path | None = None,
                 mode: int | None = None, encoding: str = "utf-8", fsync: bool = False) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename.

    ``mode`` sets the file's permission bits (default: 0o666 less the umask, as ``open`` would);
    ``fsync`` flushes the data to disk before the rename. A link at ``path`` is replaced, never
    followed. Returns ``path``.

    Raises:
        OSError: the write failed (a full disk, ...); the error names ``path`` (see :func:`naming`).
    """
    payload = data.encode(encoding) if isinstance(data, str) else bytes(data)
    with open_atomic(path, within=within, mode=mode, fsync=fsync) as fh:
        fh.write(payload)
    return Path(path)


def open_atomic(path: str | Path, *, within: str | Path | None = None, mode: int | None = None,
                fsync: bool = False):
    """A context manager for streaming a large file atomically: yields a binary file object.

    On success the temporary file is (with ``fsync``, flushed to disk and) renamed over ``path``;
    on any exception it is removed. An ``OSError`` that names no file (a ``write`` into the
    object that hit a full disk) or the temporary one is raised again naming ``path``.
    """
    return _AtomicFile(Path(path), within, mode, fsync)


class _AtomicFile:
    def __init__(self, path: Path, within, mode, fsync: bool = False):
        self.path, self.within, self.mode, self.fsync = path, within, mode, fsync
        self.tmp = _temporary(path)

    def __enter__(self):
        if self.within is not None:
            check_inside(self.path.parent, self.within)
        try:
            self.fh = os.fdopen(os.open(self.tmp, _NEW_FILE, 0o666 if self.mode is None else self.mode), "wb")
        except OSError as exc:
            raise naming(self.path, exc) from exc
        return self.fh

    def __exit__(self, exc_type, exc, tb):
        try:
            self._finish(exc_type is None)
        except OSError as failed:
            if exc_type is None:
                raise naming(self.path, failed) from failed
        finally:
            if exc_type is not None or os.path.lexists(self.tmp):
                self.tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError) and exc.filename in (None, str(self.tmp)):
            raise naming(self.path, exc) from exc  # a write into the file failed
        return False

    def _finish(self, complete: bool) -> None:
        try:
            if complete and self.fsync:
                self.fh.flush()
                os.fsync(self.fh.fileno())
        finally:
            self.fh.close()
        if complete:
            if self.mode is not None:
                os.chmod(self.tmp, self.mode)
            os.replace(self.tmp, self.path)


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
    except OSError as exc:
        if os.path.islink(path):
            raise ToolkitError(f"Refusing to append to {path}: it is a symbolic link "
                               f"(to {os.readlink(path)}). Remove the link and try again.") from None
        raise naming(path, exc) from exc
    try:
        with os.fdopen(fd, "a", encoding="utf-8") as fh:
            fh.write(line.rstrip("\n") + "\n")
            if fsync:
                fh.flush()
                os.fsync(fh.fileno())
    except OSError as exc:
        raise naming(path, exc) from exc


# ---------------------------------------------------------------------------
# Outputs the user named (--out): a file is replaced atomically, a pipe or device is written to.
# ---------------------------------------------------------------------------

#: /dev/stdout leads to /proc/self/fd/1; /dev/fd/N is the same descriptor on Linux and the BSDs
_DESCRIPTOR = re.compile(r"/(?:dev/fd|proc/(self|thread-self|\d+)/fd)/(\d+)")
_MAX_LINKS = 40  # Linux's own limit on links followed in one path


@dataclass(frozen=True)
class OutputTarget:
    """What a ``--out`` path is, and so how it is written (see :func:`output_target`)."""

    kind: str  # in words: "a new file", "a regular file", "a named pipe (FIFO)", "descriptor 1 (...)"
    stream: bool  # written in place, never replaced (a pipe, a device, a descriptor of this process)
    descriptor: int | None = None  # this process's descriptor the path names (/dev/stdout: 1)


def _own_descriptor(path: str | Path) -> int | None:
    """The descriptor of this process that ``path`` names through its links (``/dev/stdout``: 1), if any."""
    current = os.path.abspath(path)
    for _ in range(_MAX_LINKS):
        match = _DESCRIPTOR.fullmatch(current)
        if match and match[1] in (None, "self", "thread-self", str(os.getpid())):
            return int(match[2])
        if not os.path.islink(current):
            return None
        current = os.path.normpath(os.path.join(os.path.dirname(current), os.readlink(current)))
    return None


def output_target(path: str | Path, what: str = "--out") -> OutputTarget:
    """How :func:`open_output` would write ``path``, or a ToolkitError for a path it refuses.

    A new path, a regular file, or a link to one (or to nothing) is written atomically (a link is
    replaced, not followed); a named pipe or a character device, or a link to one, is streamed
    to; so is a descriptor of this process (``/dev/stdout``, ``/dev/fd/3``, whatever it is open on).
    A folder, a socket or a block device is refused. Cheap: call it before expensive work.
    """
    fd = _own_descriptor(path)
    if fd is not None:
        try:
            mode = os.fstat(fd).st_mode
        except OSError:
            raise ToolkitError(f"{what} {path} names descriptor {fd} of this process, which is not open.") from None
        if stat.S_ISDIR(mode):
            raise ToolkitError(f"{what} {path} names descriptor {fd}, which is open on a folder; expected a file.")
        return OutputTarget(f"descriptor {fd} of this process ({kind_of(mode)})", True, fd)
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return OutputTarget("a new file", False)
    except OSError as exc:
        raise ToolkitError(f"{what} {path} cannot be written: {os_reason(exc)}.") from None
    if stat.S_ISREG(mode):
        return OutputTarget("a regular file", False)
    if stat.S_ISFIFO(mode) or stat.S_ISCHR(mode):
        return OutputTarget(kind_of(mode), True)
    expected = "a CSV file path" if stat.S_ISDIR(mode) else "a file path, a named pipe or a character device"
    raise ToolkitError(f"{what} {path} {describe_path(path)}; expected {expected} to write to.")


def open_output(path: str | Path, what: str = "--out"):
    """A context manager for a file the user named for output: yields a binary file object.

    A regular file or a new path is written atomically (:func:`open_atomic`: readers see the old
    file or the new one; a link there is replaced). A named pipe, a character device
    (``/dev/null``, a terminal) or a descriptor of this process (``/dev/stdout``) is written to in
    place: opened without creating or truncating it, never replaced (a FIFO blocks until a reader
    opens it, as for any writer). A folder, a socket or a block device is refused with a
    ToolkitError (:func:`output_target`). An ``OSError`` while writing names ``path``.
    """
    target = output_target(path, what)
    return _StreamFile(Path(path), target) if target.stream else _AtomicFile(Path(path), None, None)


def write_output(path: str | Path, data: bytes | str, what: str = "--out", encoding: str = "utf-8") -> OutputTarget:
    """Write ``data`` to a path the user named, through :func:`open_output`; returns what the path was."""
    target = output_target(path, what)
    with (_StreamFile(Path(path), target) if target.stream else _AtomicFile(Path(path), None, None)) as fh:
        fh.write(data.encode(encoding) if isinstance(data, str) else bytes(data))
    return target


class _StreamFile:
    """A pipe, device or descriptor written in place: never created, truncated or replaced."""

    def __init__(self, path: Path, target: OutputTarget):
        self.path, self.target = path, target

    def __enter__(self):
        try:
            if self.target.descriptor is not None:
                for stream in (sys.stdout, sys.stderr):  # what was printed before comes first
                    if stream is not None:
                        stream.flush()
                fd = os.dup(self.target.descriptor)  # shares the shell's offset and append mode
            else:
                fd = os.open(self.path, os.O_WRONLY | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0))
        except OSError as exc:
            raise naming(self.path, exc) from exc
        mode = os.fstat(fd).st_mode
        if self.target.descriptor is None and not (stat.S_ISFIFO(mode) or stat.S_ISCHR(mode)):
            os.close(fd)  # replaced between the check and the open: write nothing into it
            raise ToolkitError(f"{self.path} changed while it was opened (it is now {kind_of(mode)}); try again.")
        self.fh = os.fdopen(fd, "wb")
        return self.fh

    def __exit__(self, exc_type, exc, tb):
        try:
            self.fh.close()
        except OSError as failed:
            if exc_type is None:
                raise naming(self.path, failed) from failed
        if isinstance(exc, OSError) and exc.filename is None:
            raise naming(self.path, exc) from exc
        return False


def save_figure(fig, path: str | Path, *, within: str | Path | None = None, **options) -> Path:
    """A matplotlib figure written through :func:`atomic_write` (``savefig`` on a path follows links)."""
    import io

    buffer = io.BytesIO()
    fig.savefig(buffer, format=Path(path).suffix.lstrip(".") or "png", **options)
    return atomic_write(path, buffer.getvalue(), within=within)


def write_frame_csv(frame, path: str | Path, *, within: str | Path | None = None, user_named: bool = False,
                    **options) -> Path:
    """A pandas DataFrame streamed to CSV through :func:`open_atomic` (``to_csv`` on a path follows links).

    ``user_named``: ``path`` is an output the user named (``--out``), opened with :func:`open_output`
    (a pipe or device there is written to, not replaced).
    """
    import io

    with (open_output(path) if user_named else open_atomic(path, within=within)) as fh:
        text = io.TextIOWrapper(fh, encoding="utf-8", newline="")
        frame.to_csv(text, **options)
        text.flush()
        text.detach()  # the file object closes the underlying handle itself
    return Path(path)
