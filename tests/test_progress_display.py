"""What progress looks like: plain text updated in place in a notebook, finished bars in a terminal."""

from __future__ import annotations

import io

import pytest

from toolkit.api import progress_for
from toolkit.progress import RichProgress, SilentProgress
from toolkit.progress_notebook import NotebookProgress, in_notebook


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


class Display:
    """Stands in for IPython.display.display: counts the outputs made and the updates sent."""

    def __init__(self):
        self.outputs, self.updates = 0, []

    def __call__(self, content, raw=False, display_id=None):
        assert raw and display_id is True
        self.outputs += 1
        self.updates.append(content["text/plain"])
        return self

    def update(self, content, raw=False):
        assert raw
        self.updates.append(content["text/plain"])


@pytest.fixture
def display(monkeypatch):
    ipython_display = pytest.importorskip("IPython.display")
    fake = Display()
    monkeypatch.setattr(ipython_display, "display", fake)
    return fake


def _fit(progress, clock, folds=5, epochs=30, stopped_at=11, steps_per_second=50):
    with progress:
        progress.log("data: 300 users")
        progress.start("folds", folds)
        for _ in range(folds):
            progress.start("epochs", epochs)
            for e in range(1, stopped_at + 1):  # early stopping after stopped_at epochs
                clock.now += 1.0 / steps_per_second
                progress.epoch(e, epochs, {})
            progress.advance("folds")
            progress.log("fold done")


def test_the_notebook_shows_one_output_updated_in_place_and_throttled(display):
    clock = Clock()
    progress = NotebookProgress(interval=0.5, clock=clock)
    _fit(progress, clock)
    assert display.outputs == 1
    steps = 5 * 11  # epochs reported, each a chance to redraw
    assert len(display.updates) < steps / 2  # throttled: not one redraw per step
    final = display.updates[-1]
    assert "\x1b" not in "".join(display.updates)
    assert "folds" in final and "5/5" in final and "done" in final
    assert "epochs" not in final  # the fold's own bar went with the fold: no 11/30 left
    assert final.splitlines()[0].endswith("data: 300 users")


def test_the_notebook_line_says_elapsed_and_time_left(display):
    clock = Clock()
    progress = NotebookProgress(interval=0.0, clock=clock)
    with progress:
        progress.start("folds", 4)
        clock.now = 10.0
        progress.advance("folds")
        assert "0:00:10 elapsed, about 0:00:30 left" in progress.text()


def test_a_notebook_that_cannot_display_gets_nothing_and_the_run_goes_on(monkeypatch):
    ipython_display = pytest.importorskip("IPython.display")

    def broken(*args, **kwargs):
        raise RuntimeError("no frontend")

    monkeypatch.setattr(ipython_display, "display", broken)
    clock = Clock()
    progress = NotebookProgress(clock=clock)
    _fit(progress, clock, folds=2)
    assert progress.lines[-1].endswith("fold done")  # the log is still kept for run.log


def _rich(width=140):
    from rich.console import Console

    out = io.StringIO()
    return RichProgress(Console(file=out, width=width, force_terminal=False, log_path=False)), out


def test_terminal_bars_end_complete_and_an_early_stopped_epochs_bar_is_removed():
    progress, out = _rich()
    clock = Clock()
    progress.bars.get_time = clock
    _fit(progress, clock)
    text = out.getvalue()
    assert "folds" in text and "5/5" in text
    assert "11/30" not in text and "epochs" not in text
    assert "0/s" not in text  # five folds have no rate worth showing
    (folds,) = [t for t in progress.bars.tasks if t.description == "folds"]
    assert folds.finished


def test_a_bar_stopped_short_is_shown_complete_at_the_end():
    progress, out = _rich()
    with progress:
        progress.start("permutations", 398)  # the sequential test may stop after 40 shuffles
        progress.advance("permutations", 40)
    assert "398/398" in out.getvalue()


def test_terminal_bars_show_the_time_remaining_while_unfinished():
    from toolkit.progress import _eta_column

    progress, _ = _rich()
    clock = Clock()
    progress.bars.get_time = clock
    with progress:
        progress.start("folds", 5)
        for _ in range(2):
            clock.now += 10.0
            progress.advance("folds")
        (task,) = progress.bars.tasks
        assert _eta_column().render(task).plain.startswith("ETA 0:00:")
    assert _eta_column().render(task).plain == ""  # finished: elapsed says it


def test_counters_of_many_items_show_a_rate_and_small_counts_none():
    from toolkit.progress import _rate_column

    progress, _ = _rich()
    clock = Clock()
    progress.bars.get_time = clock
    with progress:
        progress.start("tokenize", 100_000)
        progress.start("folds", 5)
        for _ in range(3):
            clock.now += 1.0
            progress.advance("tokenize", 20_000)
            progress.advance("folds")
        rates = {t.description: _rate_column().render(t).plain for t in progress.bars.tasks}
    assert rates["tokenize"].endswith("/s") and rates["folds"] == ""


def test_the_python_api_picks_silence_or_bars_outside_a_notebook():
    assert not in_notebook()  # pytest is no Jupyter kernel
    assert isinstance(progress_for(True), SilentProgress)
    assert isinstance(progress_for(False), RichProgress)
    with progress_for(True) as silent:
        silent.start("folds", 3)
        silent.advance("folds")
