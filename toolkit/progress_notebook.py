"""Progress in a Jupyter notebook: plain text in one output, replaced in place (see :mod:`toolkit.progress`)."""

from __future__ import annotations

import sys
import time
from typing import Callable

from toolkit.progress import INNER_TASKS, OUTER_TASKS, Progress


def in_notebook() -> bool:
    """Whether this process is a Jupyter kernel (IPython over ZeroMQ: a notebook, JupyterLab, VS Code, Colab).

    IPython is never imported here: a kernel has already imported it.
    """
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    try:
        shell = ipython.get_ipython()
    except Exception:  # noqa: BLE001  (an IPython too old or half-initialised: no notebook display)
        return False
    return shell is not None and getattr(shell, "kernel", None) is not None


class NotebookProgress(Progress):
    """Progress in a Jupyter notebook: one plain-text output, updated in place, at most every ``interval`` s.

    Needs nothing beyond the kernel (no ipywidgets): the text goes to an IPython display handle
    and is replaced with ``update()``, so a run adds one output to the cell however many steps
    it takes, with no ANSI codes. It shows the log lines and, under them, one line per
    unfinished task with its count, elapsed time and time remaining. When the display cannot
    be used, it shows nothing and the run goes on.
    """

    def __init__(self, interval: float = 0.5, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.interval, self.clock = interval, clock
        self.tasks: dict[str, list] = {}  # task -> [done, total, started]
        self._handle = None
        self._shown = float("-inf")
        self._broken = False
        self._activation = None

    def __enter__(self) -> "NotebookProgress":
        self._activation = self.activated()
        self._activation.__enter__()
        self._show(force=True)
        return self

    def __exit__(self, exc_type, *exc) -> None:
        self._activation.__exit__(exc_type, *exc)
        if exc_type is None:
            self.tasks = {name: t for name, t in self.tasks.items() if name not in INNER_TASKS}
            for t in self.tasks.values():
                if t[1] is not None:
                    t[0] = t[1]
        self._show(force=True)

    def start(self, task: str, total: int) -> None:
        self.tasks[task] = [0, total, self.clock()]
        self._show()

    def advance(self, task: str, steps: int = 1) -> None:
        if task in self.tasks:
            self.tasks[task][0] += steps
        if task in OUTER_TASKS:
            for inner in INNER_TASKS:
                self.tasks.pop(inner, None)
        self._show()

    def epoch(self, epoch: int, epochs: int, logs: dict) -> None:
        if "epochs" in self.tasks:
            self.tasks["epochs"][:2] = [epoch, epochs]
            self._show()

    def log(self, message: str) -> None:
        super().log(message)
        self._show(force=True)

    def text(self) -> str:
        """What the output shows now: the log lines, then a line per task."""
        now = self.clock()
        bars = [_task_line(name, done, total, now - started) for name, (done, total, started) in self.tasks.items()]
        return "\n".join(self.lines + bars)

    def _show(self, force: bool = False) -> None:
        now = self.clock()
        if self._broken or (not force and now - self._shown < self.interval):
            return
        self._shown = now
        try:
            from IPython.display import display

            content = {"text/plain": self.text()}
            if self._handle is None:
                self._handle = display(content, raw=True, display_id=True)
            else:
                self._handle.update(content, raw=True)
        except Exception:  # noqa: BLE001  (no usable display: say nothing rather than break the run)
            self._broken = True


def _task_line(name: str, done: int, total: int | None, elapsed: float) -> str:
    """``folds        3/5  0:00:12 elapsed, about 0:00:08 left``"""
    count = f"{done:,}/{total:,}" if total is not None else f"{done:,}"
    line = f"{name:<12} {count}  {_clock(elapsed)} elapsed"
    if total is not None and done >= total:
        return line + ", done"
    if total and done > 0:
        line += f", about {_clock(elapsed / done * (total - done))} left"
    return line


def _clock(seconds: float) -> str:
    seconds = int(max(seconds, 0))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
