"""survival_calibration.png: predicted versus observed chance of returning over time, one colour per risk group.

Each group's predicted curve (dashed) is drawn over its Kaplan-Meier curve (solid steps, the
shaded band its interval), so a model whose dashed lines leave their bands is off for that group
at that time; the horizons are marked. A step plot, because the observed curve only changes at
the end of a bin.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from toolkit.evaluation.calibration_over_time import GroupCurves
from toolkit.safe_io import save_figure

_COLOURS = ("#4a6fa5", "#e0a030", "#c0504d", "#6a9f58", "#8064a2", "#4bacc6")


def write_calibration_png(curves: GroupCurves, days, horizons, path: str | Path, *, confidence: float = 0.95) -> Path:
    """Draw ``curves`` against ``days`` (each bin's end, in days after after_days) into ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    x = np.concatenate([[0.0], np.asarray(days, dtype=float)])  # every curve starts at 0 on day 0 of follow-up

    def line(values):
        return np.concatenate([[0.0], values])

    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    for g in range(len(curves.users)):
        colour = _COLOURS[g % len(_COLOURS)]
        label = f"group {g + 1} ({curves.users[g]} users)"
        ax.step(x, line(curves.observed[g]), where="post", color=colour, linewidth=1.6, label=f"{label}: observed")
        ax.fill_between(x, line(curves.observed_low[g]), line(curves.observed_high[g]), step="post", color=colour, alpha=0.15,
                        linewidth=0)
        ax.plot(x, line(curves.predicted[g]), color=colour, linestyle="--", linewidth=1.4, label=f"{label}: predicted")
    for h in horizons:
        ax.axvline(float(h), color="#888", linewidth=0.7, linestyle=":")
    ax.set_xlabel("days after after_days")
    ax.set_ylabel("share returned")
    ax.set_xlim(0, x[-1])
    ax.set_ylim(0, max(1e-3, float(np.nanmax([curves.observed_high.max(), curves.predicted.max()]))) * 1.05)
    ax.set_title(f"Predicted (dashed) vs Kaplan-Meier (solid, {confidence:.0%} band) by risk group, "
                 "lowest risk first", fontsize=9)
    ax.legend(fontsize=7, loc="upper left", ncol=2)
    fig.tight_layout()
    try:
        save_figure(fig, path, within=path.parent, dpi=110)
    finally:
        plt.close(fig)
    return path
