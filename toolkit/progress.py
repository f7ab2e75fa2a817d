"""Progress reporting: silent for library use, rich bars in a terminal, plain text in a notebook.

Three sinks share one interface (:class:`Progress`): the silent base (``--quiet``,
``toolkit.run(..., quiet=True)``), :class:`RichProgress` (bars on a terminal) and
:class:`~toolkit.progress_notebook.NotebookProgress` (one plain-text output updated in place, for a Jupyter kernel, where
rich's live display needs ipywidgets and would otherwise warn on every refresh).
:func:`toolkit.api.progress_for` picks one for the Python API.
"""

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


#: tasks that belong to one fold (or one configuration): their bar goes when the outer task moves on
INNER_TASKS = ("featurize", "epochs")
#: the tasks whose step finishes the inner ones
OUTER_TASKS = ("folds", "configurations")
#: a bar shows its rate only from this many items (rows, texts): "1/s" folds say nothing
RATE_FROM = 100


class RichProgress(Progress):
    """Progress bars for featurizing, folds and epochs on a rich console.

    Long bars show the time remaining once rich has measured a speed. The bars of one fold
    (``featurize``, ``epochs``) are removed when the fold is done, so an early-stopped
    "epochs 11/30" is never left on screen, and every other bar is shown complete when the
    work ends without an error (a permutation test that stopped early, a counter whose total
    was an estimate).
    """

    def __init__(self, console) -> None:
        super().__init__()
        from rich.progress import BarColumn, MofNCompleteColumn, Progress as Bars, TextColumn, TimeElapsedColumn

        self.console = console
        self.bars = Bars(TextColumn("{task.description:<12}"), BarColumn(), MofNCompleteColumn(),
                         _rate_column(), TimeElapsedColumn(), _eta_column(), console=console, transient=False)
        self.tasks: dict[str, int] = {}
        self._activation = None

    def __enter__(self) -> "RichProgress":
        self.bars.start()
        self._activation = self.activated()
        self._activation.__enter__()
        return self

    def __exit__(self, exc_type, *exc) -> None:
        self._activation.__exit__(exc_type, *exc)
        if exc_type is None:  # after an error the bars stay where the work stopped
            for task in list(self.tasks):
                self._finish(task)
        self.bars.stop()

    def start(self, task: str, total: int) -> None:
        if task in self.tasks:
            self.bars.reset(self.tasks[task], total=total)
        else:
            self.tasks[task] = self.bars.add_task(task, total=total)

    def advance(self, task: str, steps: int = 1) -> None:
        if task in self.tasks:
            self.bars.advance(self.tasks[task], steps)
        if task in OUTER_TASKS:
            for inner in INNER_TASKS:
                if inner in self.tasks:
                    self._finish(inner)

    def epoch(self, epoch: int, epochs: int, logs: dict) -> None:
        if "epochs" in self.tasks:
            self.bars.update(self.tasks["epochs"], completed=epoch, total=epochs)

    def log(self, message: str) -> None:
        super().log(message)
        self.bars.console.log(message, markup=False, highlight=False)

    def _finish(self, task: str) -> None:
        """Remove a fold's own bar; show any other as complete."""
        if task in INNER_TASKS:
            self.bars.remove_task(self.tasks.pop(task))
            return
        bar = next(t for t in self.bars.tasks if t.id == self.tasks[task])
        if bar.total is not None:
            self.bars.update(bar.id, completed=bar.total)
        self.bars.stop_task(bar.id)


def _rate_column():
    """``12,345/s``: items per second of a counter (rows, texts), once rich has measured a speed.

    Folds, epochs and configurations are too few for a rate ("0/s" after the first fold); the
    time remaining says more there.
    """
    from rich.progress import ProgressColumn
    from rich.text import Text

    class RateColumn(ProgressColumn):
        def render(self, task) -> Text:
            speed = task.finished_speed or task.speed
            counted = task.total is None or task.total >= RATE_FROM
            return Text(f"{speed:,.0f}/s" if speed and counted and speed >= 1 else "", style="progress.data.speed")

    return RateColumn()


def _eta_column():
    """``ETA 0:01:05`` on an unfinished bar with a total, once rich has measured a speed; blank otherwise."""
    from rich.progress import TimeRemainingColumn
    from rich.text import Text

    class EtaColumn(TimeRemainingColumn):
        def render(self, task) -> Text:
            if task.finished or task.total is None or task.time_remaining is None:
                return Text("")
            return Text("ETA ") + super().render(task)

    return EtaColumn()


class SilentProgress(Progress):
    """The silent sink as a context manager, so callers need not ask which one they have."""

    def __enter__(self) -> "SilentProgress":
        return self

    def __exit__(self, *exc) -> None:
        return None
