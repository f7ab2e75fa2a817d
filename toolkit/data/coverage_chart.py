"""The crawl's posts per day, drawn in the terminal and as a PNG, with the label's windows marked.

Both views answer one question before any result is trusted: was the crawler
collecting while the label was looking? The days the coverage rule
(:mod:`toolkit.data.coverage`) found uncovered inside the label windows are
marked as gaps (``g``), whether they were stated or found by the heuristic.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from toolkit.safe_io import save_figure

_BLOCKS = " ▁▂▃▄▅▆▇█"
_MARKS = (("cohort", "c"), ("observation", "o"), ("label", "l"))


def _span(windows: dict, name: str) -> tuple[dt.date, dt.date] | None:
    pair = windows.get(name)
    return (dt.date.fromisoformat(pair[0]), dt.date.fromisoformat(pair[1])) if pair else None


def _gaps(windows: dict) -> list[tuple[dt.date, dt.date]]:
    """The coverage rule's gaps in the label windows, as ``(first, last)`` runs (none when it is off)."""
    return [(dt.date.fromisoformat(a), dt.date.fromisoformat(b)) for a, b in windows.get("gaps") or []]


def text_chart(volume: pd.Series, windows: dict, *, width: int = 100) -> list[str]:
    """Lines of a sparkline of posts per day (one character per day, or per few days when long).

    Below it, one row per window (``c`` cohort, ``o`` observation, ``l`` label)
    with the days it spans, and the first and last dates.
    """
    if volume is None or len(volume) == 0:
        return ["posts per day: no dated posts"]
    days = list(volume.index)
    per = max(1, -(-len(days) // width))  # days per character
    groups = [days[i:i + per] for i in range(0, len(days), per)]
    values = [float(volume.loc[g].sum()) for g in groups]
    peak = max(values) or 1.0
    line = "".join(_BLOCKS[0] if v == 0 else _BLOCKS[max(1, round(v / peak * 8))] for v in values)
    unit = "day" if per == 1 else f"{per} days"
    out = [f"posts per {unit}, {days[0]} .. {days[-1]} (peak {int(peak)}; blank = no post)", f"  {line}"]
    for name, mark in _MARKS:
        span = _span(windows, name)
        if span:
            row = "".join(mark if any(span[0] <= d <= span[1] for d in g) else " " for g in groups)
            out.append(f"  {row}  {name} {span[0]}..{span[1]}")
    gaps = _gaps(windows)
    if gaps:
        row = "".join("g" if any(a <= d <= b for d in g for a, b in gaps) else " " for g in groups)
        days_in = sum((b - a).days + 1 for a, b in gaps)
        out.append(f"  {row}  crawl gaps: {days_in} day(s) the coverage rule found uncovered")
    return out


def write_png(volume: pd.Series, windows: dict, path: str | Path, *, threshold: float | None = None) -> Path:
    """Bar chart of posts per day with the windows shaded; ``threshold``: the coverage rule's line."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    fig, ax = plt.subplots(figsize=(10, 3.2))
    if volume is not None and len(volume):
        ax.bar(pd.to_datetime(list(volume.index)), volume.to_numpy(), width=0.9, color="#4a6fa5")
    colours = {"cohort": "#f2c14e", "observation": "#7bc47f", "label": "#e07a5f"}
    for name, _ in _MARKS:
        span = _span(windows, name)
        if span:
            ax.axvspan(pd.Timestamp(span[0]) - pd.Timedelta(hours=12), pd.Timestamp(span[1]) + pd.Timedelta(hours=12),
                       alpha=0.18, color=colours[name], label=f"{name} window")
    for k, (a, b) in enumerate(_gaps(windows)):
        ax.axvspan(pd.Timestamp(a) - pd.Timedelta(hours=12), pd.Timestamp(b) + pd.Timedelta(hours=12), alpha=0.35,
                   color="#333", label="crawl gap" if k == 0 else None)
    if threshold:
        ax.axhline(threshold, color="#555", linestyle="--", linewidth=0.8, label="coverage threshold")
    ax.set_ylabel("posts per day")
    ax.set_title("Crawl volume per day")
    ax.legend(loc="upper right", fontsize=8)
    fig.autofmt_xdate()
    fig.tight_layout()
    try:
        save_figure(fig, path, within=path.parent, dpi=110)
    finally:
        plt.close(fig)
    return path
