"""Helpers for the hostile-input battery: run the real command line, check how it failed."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]


@dataclass
class Result:
    rc: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err


def toolkit(*args: str, cwd: Path, env: dict | None = None, timeout: float = 120) -> Result:
    """``python -m toolkit ARGS`` in a subprocess: the real exit status, stdout and stderr."""
    full_env = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
    done = subprocess.run([sys.executable, "-m", "toolkit", *args], cwd=cwd, env=full_env, capture_output=True,
                          text=True, timeout=timeout)
    return Result(done.returncode, done.stdout, done.stderr)


def assert_refused(result: Result, rc: int, *fragments: str) -> None:
    """Exit ``rc``, one ``error:`` line holding every fragment, and no traceback."""
    assert result.rc == rc, result.text
    assert "Traceback" not in result.text, result.text
    lines = [line for line in result.err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, result.err
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def write_yaml(path: Path, data) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def tree(folder: Path) -> list[str]:
    """Every path under ``folder``, relative, sorted: what is on disk."""
    return sorted(str(p.relative_to(folder)) for p in Path(folder).rglob("*")) if Path(folder).exists() else []
