"""Nothing goes to the network at run time: no host-name lookup, no connection off this machine.

Every Python process of the command (Ray's included) starts with ``tests/netguard`` on its
path, whose ``sitecustomize`` records and refuses each lookup of a name and each connection
to an address other than loopback. Where ``strace`` can follow the processes, native code
(Ray's C++ core, TensorFlow) is watched too, at the ``connect``/``sendto`` system calls.
The CI markers that make MLflow switch its telemetry off by itself are removed from the
environment, so the command runs as it would on a user's machine.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from hostile import REPO
from specs import BASE

GUARD = Path(__file__).resolve().parent / "netguard"
# markers MLflow and others read as "in CI, telemetry off": a user's machine has none of them
CI_MARKERS = ("PYTEST_CURRENT_TEST", "CI", "GITHUB_ACTIONS", "GITLAB_CI", "JENKINS_URL", "TRAVIS", "BUILDKITE",
              "CIRCLECI", "TF_BUILD", "TEAMCITY_VERSION", "CODEBUILD_BUILD_ARN", "BITBUCKET_BUILD_NUMBER")
SWITCHES = ("MLFLOW_DISABLE_TELEMETRY", "DO_NOT_TRACK", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE",
            "HF_HUB_DISABLE_TELEMETRY", "RAY_USAGE_STATS_ENABLED", "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER")
ADDRESS = re.compile(r'inet_addr\("([^"]+)"\)|inet_pton\(AF_INET6, "([^"]+)"')


def user_env(tmp_path: Path, **extra: str) -> dict:
    """The environment of a user who set none of the switches, with the guard on the path."""
    env = {k: v for k, v in os.environ.items() if k not in CI_MARKERS + SWITCHES}
    env.update(PYTHONPATH=f"{GUARD}{os.pathsep}{REPO}", NETGUARD_LOG=str(tmp_path / "net.log"),
               OMP_NUM_THREADS="1", TF_NUM_INTEROP_THREADS="1", TF_NUM_INTRA_OP_THREADS="1", **extra)
    return env


def strace_works() -> bool:
    if not shutil.which("strace"):
        return False
    probe = subprocess.run(["strace", "-f", "-qq", "--seccomp-bpf", "-e", "trace=connect", "-o", os.devnull, "true"],
                           capture_output=True)
    return probe.returncode == 0


def guarded(tmp_path: Path, *args: str, env: dict | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    """``python -m toolkit ARGS`` under the guard (and strace, where it works)."""
    cmd = [sys.executable, "-m", "toolkit", *args]
    if strace_works():
        cmd = ["strace", "-f", "-qq", "--seccomp-bpf", "-e", "trace=connect,sendto,sendmsg",
               "-o", str(tmp_path / "syscalls.txt"), *cmd]
    return subprocess.run(cmd, cwd=tmp_path, env=env or user_env(tmp_path), capture_output=True, text=True,
                          timeout=timeout)


def off_machine(tmp_path: Path) -> list[str]:
    """What the guard and strace saw leave loopback."""
    seen = []
    log = tmp_path / "net.log"
    if log.exists():
        seen += log.read_text().splitlines()
    calls = tmp_path / "syscalls.txt"
    if calls.exists():
        for line in calls.read_text().splitlines():
            if "AF_INET" not in line:
                continue
            for v4, v6 in ADDRESS.findall(line):
                address = v4 or v6
                if not (address.startswith("127.") or address in ("::1", "::") or address.startswith("::ffff:127.")):
                    seen.append(line[:300])
    return seen


def test_the_guard_sees_a_lookup_and_a_connection(tmp_path):
    """The check can fail: a name lookup and a connection off the machine are both recorded."""
    code = ("import socket\n"
            "for call in (lambda: socket.getaddrinfo('example.invalid', 80),\n"
            "             lambda: socket.create_connection(('192.0.2.1', 9), timeout=0.1),\n"
            "             lambda: socket.create_connection(('127.0.0.1', 9), timeout=0.1)):\n"
            "    try:\n"
            "        call()\n"
            "    except OSError:\n"
            "        pass\n")
    subprocess.run([sys.executable, "-c", code], env=user_env(tmp_path), check=True, timeout=60)
    seen = off_machine(tmp_path)
    assert len(seen) == 2 and "example.invalid" in seen[0] and "192.0.2.1" in seen[1], seen


def test_the_toolkit_switches_telemetry_off_before_mlflow_starts(tmp_path):
    code = ("from toolkit.environment import quiet_backends\n"
            "quiet_backends()\n"
            "from mlflow.telemetry.utils import is_telemetry_disabled\n"
            "print(is_telemetry_disabled())\n")
    pytest.importorskip("mlflow")
    out = subprocess.run([sys.executable, "-c", code], env=user_env(tmp_path), capture_output=True, text=True,
                         timeout=300)
    assert out.stdout.strip() == "True", out.stderr
    # a user who opts in keeps their choice
    out = subprocess.run([sys.executable, "-c", code], env=user_env(tmp_path, MLFLOW_DISABLE_TELEMETRY="false"),
                         capture_output=True, text=True, timeout=300)
    assert out.stdout.strip() == "False", out.stderr


def test_the_proxy_given_to_ray_refuses_without_a_lookup(tmp_path):
    """Ray's dashboard asks cloud metadata services over HTTP; under the toolkit's proxy that fails at once."""
    pytest.importorskip("requests")
    code = ("import time, requests\n"
            "from toolkit.bench.ray_local import _environment, _refusing_proxy\n"
            "with _refusing_proxy() as env, _environment(env):\n"
            "    for url in ('http://metadata.google.internal/computeMetadata/v1',\n"
            "                'http://169.254.169.254/latest/meta-data/'):\n"
            "        start = time.monotonic()\n"
            "        try:\n"
            "            requests.get(url, timeout=5)\n"
            "        except requests.exceptions.ConnectionError:\n"
            "            print(round(time.monotonic() - start, 2))\n"
            "    print('done')\n")
    env = user_env(tmp_path, http_proxy="http://proxy.example:3128", no_proxy="169.254.169.254")  # a user's own
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    lines = out.stdout.split()
    assert lines[-1] == "done" and len(lines) == 3, out.stdout + out.stderr
    assert all(float(s) < 1.0 for s in lines[:2]), lines  # refused, not timed out
    assert off_machine(tmp_path) == []


@pytest.mark.slow
def test_run_with_mlflow_tracking_and_a_transformer_looks_nothing_up(tmp_path):
    pytest.importorskip("mlflow")
    from tiny_distilbert import build_tiny_distilbert

    model = build_tiny_distilbert(tmp_path / "tiny-bert")
    spec = dict(BASE, data={"synthetic": {"users": 150, "seed": 1, "positive_rate": 0.3}},
                featurizers=[{"type": "distilbert", "model": str(model), "batch_size": 16}, {"type": "behavior"}],
                evaluation={"cv": {"folds": 2, "repeats": 1}, "bootstrap": 100})
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(spec))
    done = guarded(tmp_path, "run", "spec.yaml", "--results-dir", "r", "--cache-dir", "c", "--quiet",
                   "--track", "mlflow")
    assert done.returncode == 0, done.stderr[-3000:]
    assert "mlflow: run" in done.stdout
    assert off_machine(tmp_path) == []


@pytest.mark.slow
def test_a_local_ray_sweep_looks_nothing_up(tmp_path):
    pytest.importorskip("ray")
    (tmp_path / "base.yaml").write_text(yaml.safe_dump(BASE))
    grid = {"head": [{"type": "logreg", "C": c} for c in (0.1, 1.0)]}
    (tmp_path / "sweep.yaml").write_text(yaml.safe_dump({"name": "net", "base": "base.yaml", "grid": grid}))
    done = guarded(tmp_path, "bench", "sweep.yaml", "--executor", "ray", "--workers", "2", "--quiet",
                   "--results-dir", "r", "--cache-dir", "c")
    assert done.returncode == 0, done.stderr[-3000:]
    assert len(list(tmp_path.glob("r/net/*/configs/*/metrics.json"))) == 2
    assert off_machine(tmp_path) == []
