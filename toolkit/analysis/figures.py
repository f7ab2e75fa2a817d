"""Matplotlib figures of the analysis reports (Agg backend: files only, no display needed)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from toolkit.report_page import embed_png  # noqa: F401  (kept here for callers of the analysis layer)
from toolkit.safe_io import save_figure


def pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save(fig, path: Path, within: Path | None = None) -> Path:
    """Write the figure atomically (a link planted at ``path`` is replaced, never followed), then close it."""
    fig.tight_layout()
    try:
        save_figure(fig, path, within=within if within is not None else Path(path).parent, dpi=110)
    finally:
        pyplot().close(fig)
    return path


#: under every permutation-importance chart: what a bar below zero means
BELOW_ZERO = "below 0: shuffling the feature raised the score, i.e. the model read noise in it"


def interval_bars(rows: list[dict], path: Path, *, title: str, xlabel: str, label_key: str = "name",
                  note: str | None = None) -> Path:
    """Horizontal bars of ``mean`` with ``ci_low..ci_high`` whiskers, first row on top.

    ``note`` goes under the axis label (what a negative bar means, say); where some bar is below
    zero, that side of the axis is shaded so the eye finds them.
    """
    plt = pyplot()
    rows = list(rows)[::-1]
    fig, ax = plt.subplots(figsize=(7, 0.3 * len(rows) + 1.5))
    means = np.array([r["mean"] for r in rows])
    err = np.array([[r["mean"] - r["ci_low"] for r in rows], [r["ci_high"] - r["mean"] for r in rows]])
    colors = ["#C44E52" if m < 0 else "#4C72B0" for m in means]
    ax.barh(range(len(rows)), means, xerr=np.clip(err, 0, None), color=colors, capsize=2)
    ax.set_yticks(range(len(rows)), [str(r[label_key]) for r in rows], fontsize=8)
    ax.axvline(0, color="black", linewidth=0.8)
    if len(rows) and (lows := min(float(np.nanmin(means)), min(r["ci_low"] for r in rows))) < 0:
        ax.axvspan(lows * 1.05, 0, color="#C44E52", alpha=0.07, zorder=0)
    ax.set_xlabel(xlabel if note is None else f"{xlabel}\n({note})", fontsize=9)
    ax.set_title(title)
    return save(fig, path)
