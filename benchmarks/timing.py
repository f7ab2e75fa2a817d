"""Side-by-side timing for the ratio checks of the benchmark suites.

Speed targets are ratios measured in one run, never absolute times: both sides
see the same machine, load and library versions. The two sides are timed in
alternation and each keeps its best (smallest) time, so a burst of load from
another process slows one attempt of each rather than one side only.
"""

from __future__ import annotations

import time
from typing import Any, Callable


def best_times(baseline: Callable[[], Any], toolkit: Callable[[], Any], *, repeats: int = 3) -> tuple[float, float]:
    """Best wall time in seconds of each callable over ``repeats`` alternating runs.

    Args:
        baseline: the simple reference doing comparable work.
        toolkit: the toolkit's path.
        repeats: attempts per side; the minimum is kept.

    Returns:
        ``(baseline_seconds, toolkit_seconds)``.
    """
    best_baseline = best_toolkit = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        baseline()
        best_baseline = min(best_baseline, time.perf_counter() - start)
        start = time.perf_counter()
        toolkit()
        best_toolkit = min(best_toolkit, time.perf_counter() - start)
    return best_baseline, best_toolkit


def speedup(baseline: Callable[[], Any], toolkit: Callable[[], Any], *, repeats: int = 3) -> float:
    """How many times faster the toolkit's path is than the baseline (baseline time / toolkit time)."""
    slow, fast = best_times(baseline, toolkit, repeats=repeats)
    ratio = slow / fast
    # Shown with -s or on failure: the measured figure, not only pass/fail.
    print(f"baseline {slow:.4f}s, toolkit {fast:.4f}s, speedup {ratio:.2f}x")
    return ratio
