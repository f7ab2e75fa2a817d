"""Signals on the Ray path: SIGTERM or Ctrl-C during ``bench --executor ray`` stop it as on the
local one (exit 1, the toolkit's "interrupted" line, no traceback) and leave no Ray process
of this run behind: no ``gcs_server``, ``raylet``, dashboard, agents or workers.

The processes of the run are the driver's descendants, taken once configurations are running,
plus any process naming the run's Ray session folder (a process Ray re-parented or renamed).
Two quick tests check the same hand-over of SIGTERM against a stand-in for ``ray.init``.
"""

from __future__ import annotations

import os
import re
import signal
import sys
import time
from pathlib import Path

import pytest
import yaml

from hostile import tree
from specs import BASE
from test_hostile_signals import alive, descendants, start, wait_until

needs_proc = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
# cheap configurations, more than two workers finish before the signal lands
GRID = {"head": [{"type": "logreg", "C": c} for c in (0.05, 0.1, 0.2, 0.3, 0.5, 1.0, 2.0, 4.0)]}
SESSION = re.compile(r"session_\d{4}-\d\d-\d\d_\d\d-\d\d-\d\d_\d+_\d+")


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
    except OSError:
        return ""


def naming(session: str) -> set[int]:
    """Live processes whose command line names the Ray session folder."""
    return {int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit() and session in cmdline(int(p.name))
            and alive(int(p.name))}


def start_ray_bench(tmp_path: Path):
    pytest.importorskip("ray")
    (tmp_path / "base.yaml").write_text(yaml.safe_dump(BASE))
    (tmp_path / "sweep.yaml").write_text(yaml.safe_dump({"name": "mini", "base": "base.yaml", "grid": GRID}))
    proc = start(tmp_path, "bench", "sweep.yaml", "--executor", "ray", "--workers", "2", "--quiet",
                 "--results-dir", "r", "--cache-dir", "c")
    ledger = lambda: [p for p in tmp_path.glob("r/mini/*/ledger.jsonl") if p.read_text().strip()]  # noqa: E731
    wait_until(lambda: ledger() or proc.poll() is not None, 400, "the first configuration to finish")
    assert proc.poll() is None, proc.communicate()
    ours = descendants(proc.pid)
    sessions = {m.group(0) for pid in ours for m in [SESSION.search(cmdline(pid))] if m}
    assert len(sessions) == 1 and len(ours) >= 4, (sessions, [cmdline(p)[:80] for p in ours])
    return proc, ours, sessions.pop(), ledger()[0]


@pytest.mark.slow
@needs_proc
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_stops_a_ray_sweep_and_its_ray_instance(tmp_path, sig):
    proc, ours, session, ledger = start_ray_bench(tmp_path)
    sent = time.monotonic()
    os.killpg(proc.pid, sig) if sig == signal.SIGINT else proc.send_signal(sig)  # Ctrl-C hits the whole group
    out, err = proc.communicate(timeout=120)
    took = time.monotonic() - sent
    assert proc.returncode == 1, err
    assert "interrupted" in err and "Traceback" not in out + err, err
    assert "bug in Ray" not in err
    assert took < 60, f"took {took:.0f} s to stop"
    wait_until(lambda: not any(alive(p) for p in ours) and not naming(session), 30, "Ray's processes to exit")
    assert len(ledger.read_text().splitlines()) < len(GRID["head"]), "the sweep ran to the end instead of stopping"
    leftovers = [p for p in tree(tmp_path) if p.endswith(".partial") or "toolkit-config-" in p]
    assert leftovers == [], leftovers


class FakeRay:
    """What ``ray.init`` does to the driver's signals: installs its own SIGTERM handler (``sys.exit``)."""

    def __init__(self, fail_with=None):
        self.fail_with, self.calls = fail_with, []

    def init(self, **kwargs):
        self.calls.append("init")
        signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(signum))
        if self.fail_with:
            raise self.fail_with

    def shutdown(self):
        self.calls.append("shutdown")


def test_ray_init_leaves_the_toolkits_sigterm_handler_in_place():
    from toolkit.bench.ray_local import _init
    from toolkit.interrupts import sigterm_as_interrupt

    fake = FakeRay()
    with pytest.raises(KeyboardInterrupt):  # leaving the block raises again: the first raise was caught
        with sigterm_as_interrupt():
            ours = signal.getsignal(signal.SIGTERM)
            _init(fake)
            assert signal.getsignal(signal.SIGTERM) is ours
            with pytest.raises(KeyboardInterrupt):
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(1)  # the handler runs between bytecodes; the sleep is cut short
    assert fake.calls == ["init"]


def test_sigterm_while_ray_starts_is_an_interrupt_and_stops_ray():
    from toolkit.bench.ray_local import _init

    fake = FakeRay(fail_with=SystemExit(15))  # Ray's handler ran while init was still starting processes
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(KeyboardInterrupt):
        _init(fake)
    assert fake.calls == ["init", "shutdown"]
    assert signal.getsignal(signal.SIGTERM) is before


class CancelLog:
    def __init__(self):
        self.cancelled = []

    def cancel(self, ref, force=False):
        self.cancelled.append((ref, force))


def test_tasks_of_a_session_about_to_shut_down_are_not_force_cancelled():
    # force-cancelling while a task's reply arrives aborts Ray's core worker; shutdown stops them instead
    from toolkit.bench.ray_local import stop_tasks

    fake = CancelLog()
    stop_tasks(fake, ["a", "b"], session_is_ours=True)
    assert fake.cancelled == []
    stop_tasks(fake, ["a", "b"], session_is_ours=False)  # the caller's session lives on: its tasks must stop
    assert fake.cancelled == [("a", True), ("b", True)]
