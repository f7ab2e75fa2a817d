"""The one exception type for user mistakes, and the one warning type for what a run found.

Everything a user can get wrong (a spec, a CSV, a label with too few positives, a
missing model) raises :class:`ToolkitError`. The command line catches it once,
prints the message without a traceback and exits with status 2.

What a finished run warns about (the model may be learning the calendar, the threshold fell
back, the data ends early) is printed by the command line as ``warning:`` lines and issued by
the Python API as a :class:`ToolkitWarning`.
"""


class ToolkitError(ValueError):
    """A mistake in the user's input, with a message that says what was expected
    and what was found."""


class ToolkitWarning(UserWarning):
    """Something a finished run found that weakens its numbers (issued once per warning by the Python API).

    Filter them as any warning: ``warnings.simplefilter("ignore", toolkit.ToolkitWarning)``,
    or turn them into errors with ``"error"``. The same texts are in ``run.warnings``.
    """


# errno -> what it means for someone writing results, in words
_OS_REASONS = {
    "ENOSPC": "the disk is full", "EDQUOT": "the disk quota is exhausted", "EROFS": "the file system is read-only",
    "EACCES": "permission denied", "EPERM": "operation not permitted",
    "ENAMETOOLONG": "a name is too long for the file system", "ENOTDIR": "part of the path is a file, not a folder",
    "EISDIR": "it is a folder, not a file", "EEXIST": "it already exists", "ENOENT": "no such file or folder",
    "EMFILE": "too many open files", "EIO": "an input/output error",
}


def os_reason(exc: OSError) -> str:
    """Why an operating-system call failed, in plain words, with the errno name: "the disk is full [ENOSPC]"."""
    import errno

    name = errno.errorcode.get(exc.errno or -1, "")
    reason = _OS_REASONS.get(name) or exc.strerror or str(exc) or type(exc).__name__
    return reason + (f" [{name}]" if name else "")


def describe_os_error(exc: OSError) -> str:
    """One line for an environment failure: the path and why, e.g. "cannot write results/x: the disk is full [ENOSPC]"."""
    path = f" {exc.filename}" if exc.filename else ""
    extra = f" -> {exc.filename2}" if getattr(exc, "filename2", None) else ""
    return f"cannot write or read{path}{extra}: {os_reason(exc)}"
