"""Matplotlib figures of the analysis reports (Agg backend: files only, no display needed)."""

from __future__ import annotations

import base64
import html
from pathlib import Path

import numpy as np

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


def embed_png(path: Path, alt: str | None = None) -> str:
    """An ``<img>`` whose source is the PNG itself, so an HTML report is one self-contained file.

    ``alt`` (default: the file's stem) is escaped, quotes included: it may hold text from data.
    """
    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    alt = Path(path).stem if alt is None else alt
    return f'<img alt="{html.escape(alt, quote=True)}" src="data:image/png;base64,{data}">'


def interval_bars(rows: list[dict], path: Path, *, title: str, xlabel: str, label_key: str = "name") -> Path:
    """Horizontal bars of ``mean`` with ``ci_low..ci_high`` whiskers, first row on top."""
    plt = pyplot()
    rows = list(rows)[::-1]
    fig, ax = plt.subplots(figsize=(7, 0.3 * len(rows) + 1.2))
    means = np.array([r["mean"] for r in rows])
    err = np.array([[r["mean"] - r["ci_low"] for r in rows], [r["ci_high"] - r["mean"] for r in rows]])
    ax.barh(range(len(rows)), means, xerr=np.clip(err, 0, None), color="#4C72B0", capsize=2)
    ax.set_yticks(range(len(rows)), [str(r[label_key]) for r in rows], fontsize=8)
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    return save(fig, path)
