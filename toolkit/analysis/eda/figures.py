"""The EDA report's figures (matplotlib, PNG)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from toolkit.analysis.figures import pyplot, save
from toolkit.data.schema import COUNT_COLUMNS
from toolkit.sanitize import strip_controls

#: post types shown one by one in the report and its figure; the rest are pooled as "other"
TOP_TYPES = 10


def top_types(types: dict[str, float]) -> dict[str, float]:
    """The :data:`TOP_TYPES` most common post types (``types`` is sorted, most common first), the rest pooled."""
    items = list(types.items())
    top = dict(items[:TOP_TYPES])
    if len(items) > TOP_TYPES:
        top[f"other ({len(items) - TOP_TYPES} types)"] = float(sum(v for _, v in items[TOP_TYPES:]))
    return top


def data_label(text: str, width: int = 30) -> str:
    """A tick label from data: one line, at most ``width`` characters, ``$`` not read as mathtext."""
    text = " ".join(strip_controls(str(text), " ").split())
    text = text if len(text) <= width else text[:width - 1] + "…"
    return text.replace("$", r"\$")


def volume_figure(volume: pd.Series, windows: list[tuple[str, object, object]], path: Path) -> Path:
    """Posts per day; each window ``(name, start, end)`` shaded (a line when start == end)."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(9, 3.2))
    days = pd.to_datetime(pd.Index(volume.index))
    ax.bar(days, volume.to_numpy(), width=1.0, color="#4C72B0")
    colors = ["#DD8452", "#55A868", "#C44E52", "#8172B3"]
    for (name, start, end), color in zip(windows, colors):
        start, end = pd.Timestamp(start), pd.Timestamp(end)
        if start == end:
            ax.axvline(start, color=color, linestyle="--", label=name)
        else:
            ax.axvspan(start, end + pd.Timedelta(days=1), color=color, alpha=0.2, label=name)
    ax.set_ylabel("posts per day")
    ax.set_title("Crawl volume per day")
    if windows:
        ax.legend(fontsize=7, loc="upper right")
    fig.autofmt_xdate()
    return save(fig, path)


def rate_figure(table: pd.DataFrame, group: str, path: Path, *, title: str, xlabel: str) -> Path:
    """Retention rate per group with its interval, and the group sizes as a light bar behind."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(8, 3.2))
    x = np.arange(len(table))
    rate, low, high = table["rate"].to_numpy(), table["ci_low"].to_numpy(), table["ci_high"].to_numpy()
    ax.errorbar(x, rate, yerr=[np.clip(rate - low, 0, None), np.clip(high - rate, 0, None)], fmt="o", capsize=2)
    ax.set_xticks(x, [str(v) for v in table[group]], rotation=60, fontsize=7)
    ax.set_ylabel("retention rate (95% Wilson)")
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    sizes = ax.twinx()
    sizes.bar(x, table["users"].to_numpy(), color="grey", alpha=0.15)
    sizes.set_ylabel("users", color="grey")
    return save(fig, path)


def engagement_figure(posts: pd.DataFrame, path: Path) -> Path:
    """Histograms of each engagement count per post on log1p scale."""
    plt = pyplot()
    fig, axes = plt.subplots(1, len(COUNT_COLUMNS), figsize=(11, 2.8))
    for ax, column in zip(axes, COUNT_COLUMNS):
        ax.hist(np.log1p(posts[column].clip(lower=0)), bins=30, color="#4C72B0")
        ax.set_yscale("log")
        ax.set_title(column, fontsize=9)
        ax.set_xlabel("log(1 + count)", fontsize=8)
    return save(fig, path)


def note_figure(path: Path, title: str, note: str) -> Path:
    """A short figure that says why nothing is drawn (the table beside it says the same)."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 1.3))
    ax.text(0.5, 0.45, note, ha="center", va="center", transform=ax.transAxes, color="#555", fontsize=9, wrap=True)
    ax.set_axis_off()
    ax.set_title(title, fontsize=10)
    return save(fig, path)


def correlation_figure(table: pd.DataFrame, path: Path) -> Path:
    """Each column's r with its interval; only a note where the table says there are too few positives to read."""
    from toolkit.analysis.eda.stats import MIN_POSITIVES, TOO_FEW
    from toolkit.analysis.figures import interval_bars

    title = "Correlation with retention (95% interval)"
    if len(table) and not bool(table["readable"].all()):
        return note_figure(path, title, f"{TOO_FEW}: fewer than {MIN_POSITIVES} labelled users in the smaller "
                                        "class, so no interval is drawn (see the table's counts)")
    rows = [{"name": r.column, "mean": r.r, "ci_low": r.ci_low, "ci_high": r.ci_high}
            for r in table.itertuples() if np.isfinite(r.r)]
    return interval_bars(rows, path, title=title, xlabel="Pearson r")


def hazard_ratio_figure(table: pd.DataFrame, path: Path) -> Path:
    """Forest plot of the univariate Cox hazard ratios per SD (log axis, 1 = no effect); a note when too few returns."""
    from toolkit.analysis.eda.hazard import MIN_RETURNS, TOO_FEW_RETURNS

    title = "Hazard ratio of a return per SD of each column (univariate Cox, 95% interval)"
    shown = table[table["readable"] & np.isfinite(table["hr"])] if len(table) else table
    if not len(shown):
        return note_figure(path, title, f"{TOO_FEW_RETURNS}: fewer than {MIN_RETURNS} returns seen, so no "
                                        "ratio is drawn (see the table's counts)")
    plt = pyplot()
    shown = shown.iloc[::-1]
    fig, ax = plt.subplots(figsize=(7.5, 0.28 * len(shown) + 1.5))
    y = np.arange(len(shown))
    hr = shown["hr"].to_numpy()
    err = [np.clip(hr - shown["ci_low"].to_numpy(), 0, None), np.clip(shown["ci_high"].to_numpy() - hr, 0, None)]
    colors = np.where(hr >= 1, "#4C72B0", "#C44E52")
    ax.errorbar(hr, y, xerr=err, fmt="none", ecolor="grey", capsize=2, zorder=1)
    ax.scatter(hr, y, c=colors, zorder=2, s=18)
    ax.axvline(1.0, color="black", linewidth=0.8)
    ax.set_xscale("log")
    from toolkit.bench.plots import plain_log_axis

    plain_log_axis(ax.xaxis, float(shown["ci_low"].min()), float(shown["ci_high"].max()))
    ax.set_yticks(y, [data_label(c) for c in shown["column"]], fontsize=8)
    ax.set_xlabel("hazard ratio per SD (log scale; above 1: returns sooner, below 1: later)", fontsize=9)
    ax.set_title(title, fontsize=10)
    ax.grid(True, axis="x", which="both", alpha=0.3)
    return save(fig, path)


def mix_figure(mix: dict, zh_share: pd.Series, path: Path) -> Path:
    """Posting hour, post type and the share of Chinese characters per user."""
    plt = pyplot()
    fig, (hours, types, zh) = plt.subplots(1, 3, figsize=(11, 2.8))
    hours.bar(range(24), mix["hours"], color="#4C72B0")
    hours.set_title("posts by hour of day", fontsize=9)
    shown = top_types(mix["types"])
    types.bar(range(len(shown)), list(shown.values()), color="#55A868")
    types.set_xticks(range(len(shown)), [data_label(t) for t in shown], rotation=30, fontsize=7, ha="right")
    types.set_title("post type (share of posts)", fontsize=9)
    zh.hist(zh_share.to_numpy(dtype=float), bins=20, range=(0, 1), color="#C44E52")
    zh.set_title("share of Chinese characters per user", fontsize=9)
    return save(fig, path)
