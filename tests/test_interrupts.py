"""A SIGTERM or Ctrl-C cannot be lost: its KeyboardInterrupt may be swallowed where the handler
happened to run (a ``__del__``, a weakref callback), but the request is recorded, the next safe
point raises it again, and the command's block raises it on the way out."""

from __future__ import annotations

import gc
import os
import signal
import time
import weakref
from concurrent.futures import Future

import pytest
import yaml
from fake_encoders import fake_engines  # noqa: F401  (fixture)

from toolkit import interrupts
from toolkit.interrupts import check_stop, deferred, sigterm_as_interrupt, stop_requested

# the swallowed KeyboardInterrupts below are the point: pytest would report each as a warning
pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")


class _Swallower:
    """Receives the signal in its finalizer, where Python prints the exception and goes on."""

    def __init__(self, signum=signal.SIGTERM):
        self.signum = signum

    def __del__(self):
        signal.getsignal(self.signum)(self.signum, None)  # the installed handler, as if it landed here


def _swallow_in_del(signum=signal.SIGTERM) -> None:
    victim = _Swallower(signum)
    del victim  # "Exception ignored in ... __del__": the KeyboardInterrupt does not reach this frame


def test_a_stop_swallowed_in_a_finalizer_is_raised_at_the_next_safe_point():
    with pytest.raises(KeyboardInterrupt, match="SIGTERM"):
        with sigterm_as_interrupt():
            _swallow_in_del()
            assert stop_requested() == "SIGTERM"  # this line runs: the first raise was lost
            with pytest.raises(KeyboardInterrupt, match="SIGTERM"):
                check_stop()
            # the block ends normally, as a sweep that ran on would: leaving it raises once more
    assert stop_requested() is None  # nothing leaks into later work in this process
    check_stop()


def test_a_stop_swallowed_in_a_weakref_callback_still_ends_the_block():
    class Key:
        pass

    def callback(ref):
        signal.getsignal(signal.SIGTERM)(signal.SIGTERM, None)

    with pytest.raises(KeyboardInterrupt):
        with sigterm_as_interrupt():
            key = Key()
            ref = weakref.ref(key, callback)
            del key
            gc.collect()
            assert ref() is None


def test_ctrl_c_swallowed_in_a_finalizer_is_recorded_too():
    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        pytest.skip("Ctrl-C is not Python's default here (a background job)")
    with pytest.raises(KeyboardInterrupt, match="SIGINT"):
        with sigterm_as_interrupt():
            _swallow_in_del(signal.SIGINT)
            assert stop_requested() == "SIGINT"
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_real_sigterm_raises_at_once_and_the_handlers_come_back():
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(KeyboardInterrupt):
        with sigterm_as_interrupt():
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(1)  # the handler runs between bytecodes; the sleep is cut short
    assert signal.getsignal(signal.SIGTERM) is before


def test_during_clean_up_a_second_signal_is_recorded_not_raised():
    with pytest.raises(KeyboardInterrupt):
        with sigterm_as_interrupt():
            with deferred():
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(0.2)  # not cut short: clean-up (stopping workers) goes on
                finished = True
            assert finished and stop_requested() == "SIGTERM"


def test_outside_a_block_a_stop_is_not_recorded():
    from toolkit.bench.ray_local import _init

    class RayStoppedWhileStarting:
        def init(self, **kwargs):
            raise SystemExit(15)

        def shutdown(self):
            pass

    with pytest.raises(KeyboardInterrupt):
        _init(RayStoppedWhileStarting())
    check_stop()  # an API caller's later runs in this process are not stopped by it
    assert interrupts._requested is None


def test_the_executors_wait_loop_raises_a_swallowed_stop_while_nothing_finishes():
    from toolkit.bench.workers import WAIT_S, as_finished

    never = Future()  # a configuration that runs on for minutes
    with pytest.raises(KeyboardInterrupt):
        with sigterm_as_interrupt():
            waiting = as_finished([never])
            _swallow_in_del()
            started = time.monotonic()
            with pytest.raises(KeyboardInterrupt):
                next(waiting)
            assert time.monotonic() - started <= WAIT_S + 0.5


def test_the_fold_loop_is_a_safe_point(monkeypatch, tmp_path):
    from specs import spec_dict

    from toolkit.experiment import runner
    from toolkit.experiment.spec import parse_spec
    from toolkit.tasks import binary

    calls = []
    real = binary.featurize

    def featurize(*args, **kwargs):  # the first fold's featurizing swallows a SIGTERM
        calls.append(1)
        _swallow_in_del()
        return real(*args, **kwargs)

    monkeypatch.setattr(binary, "featurize", featurize)
    with pytest.raises(KeyboardInterrupt):
        with sigterm_as_interrupt():
            runner.run(parse_spec(spec_dict()), results_dir=tmp_path / "r", cache_dir=str(tmp_path / "c"), save=False)
    assert calls == [1]  # the second fold never started


def test_interrupted_embed_says_its_finished_shards_are_kept(fake_engines, tmp_path, monkeypatch, capsys):
    from specs import spec_dict

    from toolkit import cli
    from toolkit.features.rows import RowStore
    from toolkit.featurizers.use import UseFeaturizer

    engine, real, calls = fake_engines["use"], fake_engines["use"].embed, []

    def embed(texts, **options):  # the second chunk is stopped by Ctrl-C
        calls.append(len(texts))
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(texts)

    monkeypatch.setattr(engine, "embed", embed)
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(spec_dict(featurizers=[{"type": "use"}, {"type": "behavior"}])))
    rc = cli.main(["embed", str(tmp_path / "spec.yaml"), "--cache-dir", str(tmp_path / "c"), "--quiet"])
    err = capsys.readouterr().err
    assert rc == 1
    assert "interrupted" in err and "no results were written" not in err
    assert "kept in the row cache" in err and "reuses" in err
    known, _ = RowStore(tmp_path / "c", UseFeaturizer()).read()
    assert len(known) == calls[0] > 0  # what the message promises is on disk



def test_a_workers_sigterm_lost_in_a_finalizer_is_raised_at_its_next_safe_point(monkeypatch):
    """In a bench worker SIGTERM raises SystemExit; lost in a ``__del__``, the run's next fold raises it again."""
    from toolkit.bench import workers

    monkeypatch.setattr(workers, "_terminating", workers.threading.Event())
    monkeypatch.setattr(workers, "_in_task", workers.threading.Event())
    workers._in_task.set()  # a configuration is running: the handler raises instead of exiting
    previous = signal.signal(signal.SIGTERM, workers._on_sigterm)
    try:
        _swallow_in_del()
        with pytest.raises(KeyboardInterrupt, match="SIGTERM"):
            check_stop()
    finally:
        signal.signal(signal.SIGTERM, previous)
        interrupts._requested = None  # a worker exits after; this test's process goes on


@pytest.mark.slow
def test_an_interrupted_pool_leaves_no_run_in_progress_in_scratch(tmp_path):
    """What a worker killed after its grace period left in the scratch folder, the driver removes."""
    from toolkit.bench.executors import run_local

    scratch = tmp_path / ".scratch"
    stale = scratch / "toolkit-config-killed" / "c01" / ".20250101-000000.partial"
    stale.mkdir(parents=True)
    from specs import BASE

    raw = dict(BASE, data={"path": "missing.csv"})  # parses; refused when it runs
    tasks = [(f"c{i}", raw, str(tmp_path), 0, None, str(scratch)) for i in range(4)]
    outcomes = run_local(tasks, 2)
    config_id, outcome = next(outcomes)
    assert outcome["status"] == "skipped", outcome  # a missing data file is a skip, not a raise
    outcomes.close()  # as the harness does on Ctrl-C or SIGTERM
    assert not list(scratch.glob("toolkit-config-*"))
