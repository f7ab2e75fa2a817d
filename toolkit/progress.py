"""Progress reporting: silent for library use, rich bars on the command line."""

from __future__ import annotations

import time


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


NullProgress = Progress


class RichProgress(Progress):
    """Progress bars for featurizing, folds and epochs on a rich console."""

    def __init__(self, console) -> None:
        super().__init__()
        from rich.progress import BarColumn, MofNCompleteColumn, Progress as Bars, TextColumn, TimeElapsedColumn

        self.console = console
        self.bars = Bars(TextColumn("{task.description:<12}"), BarColumn(), MofNCompleteColumn(),
                         TimeElapsedColumn(), console=console, transient=False)
        self.tasks: dict[str, int] = {}

    def __enter__(self) -> "RichProgress":
        self.bars.start()
        return self

    def __exit__(self, *exc) -> None:
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
