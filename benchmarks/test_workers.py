"""--workers 2 against --workers 1 on a six-configuration sweep, in the same session, as a ratio.

On 2 cores the target is a speed-up of at least 1.5x. Each run starts from an
empty feature cache so neither side reads the other's features.
"""

import subprocess
import sys
import time
from pathlib import Path

import yaml

BASE = {
    "name": "workers",
    "data": {"synthetic": {"users": 1500, "seed": 2, "positive_rate": 0.2}},
    "label": {"cohort": {"first_seen": ["2025-01-01", "2025-02-14"]}, "observe_days": 7,
              "retained_if": {"returns_after_days": 7, "horizon_days": 28}},
    "featurizers": [{"type": "behavior"}, {"type": "temporal"}],
    "head": {"type": "hybrid"},
    "training": {"epochs": 8, "early_stopping_patience": 8},
    "evaluation": {"cv": {"folds": 3, "repeats": 1}, "bootstrap": 200},
}
SWEEP = {"name": "six", "base": "base.yaml", "grid": {"seed": [0, 1, 2, 3, 4, 5]}}


def _bench(folder: Path, workers: int) -> float:
    cmd = [sys.executable, "-m", "toolkit", "bench", "sweep.yaml", "--quiet", "--workers", str(workers),
           "--results-dir", f"r{workers}", "--cache-dir", f"cache{workers}"]
    start = time.perf_counter()
    subprocess.run(cmd, cwd=folder, check=True, capture_output=True, timeout=1200)
    return time.perf_counter() - start


def test_two_workers_at_least_one_and_a_half_times_faster(tmp_path):
    (tmp_path / "base.yaml").write_text(yaml.safe_dump(BASE))
    (tmp_path / "sweep.yaml").write_text(yaml.safe_dump(SWEEP))
    # warm the synthetic data so both sides start from the same files
    subprocess.run([sys.executable, "-m", "toolkit", "validate", "base.yaml", "--cache-dir", "cache1"],
                   cwd=tmp_path, check=True, capture_output=True)
    subprocess.run([sys.executable, "-m", "toolkit", "validate", "base.yaml", "--cache-dir", "cache2"],
                   cwd=tmp_path, check=True, capture_output=True)
    one = _bench(tmp_path, 1)
    two = _bench(tmp_path, 2)
    ratio = one / two
    print(f"--workers 1: {one:.1f} s, --workers 2: {two:.1f} s, speed-up {ratio:.2f}x")
    assert ratio >= 1.5, f"--workers 2 was only {ratio:.2f}x faster ({one:.1f} s vs {two:.1f} s)"
