"""Progress reporting: silent for library use, rich bars on the command line."""

from __future__ import annotations

import contextvars
import time
from contextlib import contextmanager
from typing import Callable, Iterator

#: the progress sink long work reports to when nobody passed one (see :meth:`Progress.activated`)
_active: contextvars.ContextVar["Progress | None"] = contextvars.ContextVar("toolkit_progress", default=None)

#: below this many items a counter is not worth a bar
MIN_COUNTED = 5000


class Progress:
    """Interface the runner reports to. Keeps every log line for ``run.log``."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def start(self, task: str, total: int) -> None:
        """(Re)start a task with ``total`` steps."""

    def advance(self, task: str, steps: int = 1) -> None:
        """Move a task forward."""

    def epoch(self, epoch: int, epochs: int, logs: dict) -> None:
        """Called by a head after each training epoch."""

    def log(self, message: str) -> None:
        self.lines.append(f"{time.strftime('%H:%M:%S')} {message}")

    def counter(self, task: str, total: int | None) -> Callable[[int], None]:
        """Start ``task`` and return a function advancing it by a count (rows, users, texts)."""
        self.start(task, total)
        return lambda steps: self.advance(task, steps)

    @contextmanager
    def activated(self) -> Iterator["Progress"]:
        """Make this the sink of :func:`counter_for` inside the block (data loading, tokenizing)."""
        token = _active.set(self)
        try:
            yield self
        finally:
            _active.reset(token)


NullProgress = Progress


def counter_for(task: str, total: int | None) -> Callable[[int], None] | None:
    """A counter on the active progress sink, or None when there is none or the work is small.

    Library functions deep in the data path (the loader, the tokenizer) call this
    rather than taking a progress argument through every layer; the CLI activates
    its rich bars, and ``--quiet`` activates nothing.
    """
    sink = _active.get()
    if sink is None or (total is not None and total < MIN_COUNTED):
        return None
    return sink.counter(task, total)


class RichProgress(Progress):
    """Progress bars for featurizing, folds and epochs on a rich console."""

    def __init__(self, console) -> None:
        super().__init__()
        from rich.progress import BarColumn, MofNCompleteColumn, Progress as Bars, TextColumn, TimeElapsedColumn

        self.console = console
        self.bars = Bars(TextColumn("{task.description:<12}"), BarColumn(), MofNCompleteColumn(),
                         _rate_column(), TimeElapsedColumn(), console=console, transient=False)
        self.tasks: dict[str, int] = {}
        self._activation = None

    def __enter__(self) -> "RichProgress":
        self.bars.start()
        self._activation = self.activated()
        self._activation.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self._activation.__exit__(*exc)
        self.bars.stop()

    def start(self, task: str, total: int) -> None:
        if task in self.tasks:
            self.bars.reset(self.tasks[task], total=total)
        else:
            self.tasks[task] = self.bars.add_task(task, total=total)

    def advance(self, task: str, steps: int = 1) -> None:
        if task in self.tasks:
            self.bars.advance(self.tasks[task], steps)

    def epoch(self, epoch: int, epochs: int, logs: dict) -> None:
        if "epochs" in self.tasks:
            self.bars.update(self.tasks["epochs"], completed=epoch, total=epochs)

    def log(self, message: str) -> None:
        super().log(message)
        self.bars.console.log(message, markup=False, highlight=False)


def _rate_column():
    """``12,345/s``: items per second of a task, once rich has measured a speed."""
    from rich.progress import ProgressColumn
    from rich.text import Text

    class RateColumn(ProgressColumn):
        def render(self, task) -> Text:
            speed = task.finished_speed or task.speed
            return Text(f"{speed:,.0f}/s" if speed else "", style="progress.data.speed")

    return RateColumn()
