"""Figures of a comparison: ROC-AUC against cost, ROC and PR curves of the front, and where the time goes.

Each function writes one PNG and returns its path. They draw from the rows of
:func:`toolkit.bench.table.build_rows` (or the front's run folders) and cope with
a single configuration, with skipped rows, and with nothing finished at all.
"""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; must precede the pyplot import so no display is ever needed

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.metrics import precision_recall_curve, roc_curve  # noqa: E402

from toolkit.bench.records import ConfigResult  # noqa: E402
from toolkit.bench.table import load_scores  # noqa: E402
from toolkit.safe_io import save_figure  # noqa: E402
from toolkit.sanitize import strip_controls  # noqa: E402

_MIN_COST_S = 1e-3  # a log axis cannot show zero; a run this cheap is drawn at this floor
_FRONT = "tab:orange"


def _text(label: str, width: int = 40) -> str:
    """A label safe for matplotlib: "$" would start mathtext, and long labels crowd the axes."""
    label = strip_controls(label)  # a received label's newlines and escape bytes are not drawn
    label = label if len(label) <= width else label[: width - 1] + "…"
    return label.replace("$", r"\$")


def _save(fig, path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:  # atomically: a link planted at the figure's name in a received sweep folder is replaced, not followed
        save_figure(fig, path, within=path.parent, dpi=110, bbox_inches="tight")
    finally:
        plt.close(fig)  # a sweep draws many figures; open ones would pile up in memory
    return path


def _nothing(ax, message: str) -> None:
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes, color="grey")
    ax.set_xticks([])
    ax.set_yticks([])


def _finite(x) -> bool:
    return isinstance(x, (int, float)) and math.isfinite(x)


def pareto_plot(rows: list[dict], path) -> Path:
    """ROC-AUC (with its interval) against total cost on a log scale; the Pareto front highlighted and labelled."""
    return _save(pareto_figure(rows), path)


def plain_log_axis(axis, low: float | None = None, high: float | None = None) -> None:
    """Tick labels on a log axis as plain numbers (0.2, 1, 50), spaced so they never overlap.

    Matplotlib's default labels minor ticks as ``2 x 10^-1`` when the data spans less than a
    decade, and those crowd each other; here the ticks per decade depend on how many decades the
    data ``low .. high`` spans (9 under one and a half, 1-2-5 up to four, one beyond).
    """
    from matplotlib.ticker import LogLocator, NullFormatter, StrMethodFormatter

    decades = math.log10(high / low) if low and high and high > low > 0 else 2.0
    subs = (1.0,) if decades > 4 else (1.0, 2.0, 5.0) if decades > 1.5 else tuple(float(k) for k in range(1, 10))
    axis.set_major_locator(LogLocator(base=10, subs=subs))
    axis.set_major_formatter(StrMethodFormatter("{x:g}"))
    axis.set_minor_locator(LogLocator(base=10, subs=tuple(float(k) for k in range(1, 10))))
    axis.set_minor_formatter(NullFormatter())


#: the most dominated configurations named on the Pareto plot (the best by ROC-AUC); the rest are dots
MAX_DOMINATED_LABELS = 12


def _label_points(ax, group: list[dict], x: np.ndarray, y: np.ndarray, *, front: bool, middle: float) -> list:
    """Name each point beside it: to its left in the right half of the axis, so no name runs off the plot."""
    order = np.argsort(-y)
    named = order if front else order[:MAX_DOMINATED_LABELS]
    out = []
    for i in sorted(named, key=lambda k: -y[k]):
        left = math.log10(x[i]) > middle
        out.append(ax.annotate(_text(group[i]["label"]), (x[i], y[i]), xytext=(-7 if left else 7, 4),
                               textcoords="offset points", fontsize=8 if front else 7, ha="right" if left else "left",
                               va="bottom", color="black" if front else "dimgrey", zorder=4,
                               arrowprops={"arrowstyle": "-", "color": "silver", "linewidth": 0.6, "shrinkA": 0,
                                           "shrinkB": 4}))
    return out


def _unclash(fig, names: list) -> None:
    """Move a name a line up or down, nearest first, while it overlaps a name placed before it.

    A moved name keeps a thin line to its point. Only the text's own box counts (the line may cross).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.text import Text

    renderer = FigureCanvasAgg(fig).get_renderer()  # the figure is closed in pyplot: lay it out on its own canvas
    placed = []
    for name in names:
        dx, dy = name.xyann
        for step in (0, -12, 12, -24, 24, -36, 36, -48, 48):
            name.xyann = (dx, dy + step)
            name.update_positions(renderer)
            box = Text.get_window_extent(name, renderer)
            if not any(box.overlaps(other) for other in placed):
                break
        if step == 0:
            name.arrow_patch.set_visible(False)  # beside its point: no line needed
        placed.append(box)


def pareto_figure(rows: list[dict]):
    """The figure of :func:`pareto_plot`, not saved (closed in pyplot, so it is kept only by the caller)."""
    fig, ax = plt.subplots(figsize=(8, 5))
    plt.close(fig)
    points = [r for r in rows if r["status"] == "done" and r["kind"] == "config"
              and _finite(r["roc_auc"]) and _finite(r["total_cost_s"])]
    if not points:
        _nothing(ax, "no finished configuration")
        return fig
    costs = [max(r["total_cost_s"], _MIN_COST_S) for r in points]
    low, high = min(costs), max(costs)
    middle = (math.log10(low) + math.log10(high)) / 2
    names: list = []
    for front in (False, True):
        group = [r for r in points if r["pareto"] == front]
        if not group:
            continue
        x = np.array([max(r["total_cost_s"], _MIN_COST_S) for r in group])
        y = np.array([r["roc_auc"] for r in group])
        lo = np.nan_to_num(y - np.array([r["roc_auc_ci_low"] for r in group], dtype=float)).clip(0)
        hi = np.nan_to_num(np.array([r["roc_auc_ci_high"] for r in group], dtype=float) - y).clip(0)
        ax.errorbar(x, y, yerr=[lo, hi], fmt="D" if front else "o", color=_FRONT if front else "grey",
                    capsize=3, label="Pareto front" if front else "dominated", zorder=3 if front else 2,
                    alpha=1.0 if front else 0.7)
        if front:
            order = np.argsort(x)
            ax.step(x[order], y[order], where="post", color=_FRONT, alpha=0.5, zorder=1)
        names += _label_points(ax, group, x, y, front=front, middle=middle)
    for r in rows:
        if r["kind"] == "oracle" and _finite(r["roc_auc"]):
            ax.axhline(r["roc_auc"], color="green", linestyle="--", linewidth=1,
                       label=f"oracle {r['roc_auc']:.3f}")
    ax.set_xscale("log")
    ax.set_xlim(low / 1.5, high * 1.5)  # room for the names beside the outermost points
    plain_log_axis(ax.xaxis, low / 1.5, high * 1.5)
    ax.set_xlabel("total cost, s (log scale; featurize + train per fold + predict per 1,000 users)")
    ax.set_ylabel("ROC-AUC (mean and interval)")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    _unclash(fig, names[::-1])  # the front's names were made last: they keep their place
    return fig


def curves_plot(results_front: list[ConfigResult], path) -> Path:
    """ROC and precision-recall curves of the given configurations, all repeats pooled."""
    fig, (ax_roc, ax_pr) = plt.subplots(1, 2, figsize=(11, 4.8))
    # ROC and PR curves need yes/no labels and scores: a task without a threshold (time to return) has none
    done = [r for r in results_front if r.status == "done" and r.task_class.target == "binary"]
    if not done:
        _nothing(ax_roc, "no finished configuration")
        _nothing(ax_pr, "no finished configuration")
        return _save(fig, path)
    rate = None
    for result in done:
        _, y, scores = load_scores(result)
        # Every repeat scores every user once, so pooling weights the repeats equally.
        y_all, s_all = np.tile(y, scores.shape[0]), scores.ravel()
        metrics = result.record.metrics
        fpr, tpr, _ = roc_curve(y_all, s_all)
        ax_roc.plot(fpr, tpr, label=f"{_text(result.label)} ({metrics['roc_auc'].mean:.3f})")
        precision, recall, _ = precision_recall_curve(y_all, s_all)
        ax_pr.step(recall, precision, where="post", label=f"{_text(result.label)} ({metrics['pr_auc'].mean:.3f})")
        rate = y.mean() if rate is None else rate
    ax_roc.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1, label="chance")
    ax_pr.axhline(rate, color="grey", linestyle="--", linewidth=1, label=f"no skill ({rate:.3f})")
    ax_roc.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC (ROC-AUC)",
               xlim=(0, 1), ylim=(0, 1.02))
    ax_pr.set(xlabel="recall", ylabel="precision", title="precision-recall (PR-AUC)", xlim=(0, 1), ylim=(0, 1.02))
    for ax in (ax_roc, ax_pr):
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7, loc="lower right" if ax is ax_roc else "upper right")
    return _save(fig, path)


def cost_plot(rows: list[dict], path) -> Path:
    """Horizontal stacked bars of featurize, train and predict seconds per configuration."""
    configs = [r for r in rows if r["kind"] == "config"]
    fig, ax = plt.subplots(figsize=(7.5, max(2.5, 0.45 * len(configs) + 1.2)))
    if not configs:
        _nothing(ax, "no configuration")
        return _save(fig, path)
    ypos = np.arange(len(configs))[::-1]  # first configuration on top, as in the table
    done = [r["status"] == "done" for r in configs]
    parts = {
        "featurize (per fold)": [r["featurize_s"] if ok else 0.0 for r, ok in zip(configs, done)],
        "train (per fold)": [r["train_s"] if ok else 0.0 for r, ok in zip(configs, done)],
        "predict (per 1,000 users)": [r["infer_ms_per_1k"] / 1000.0 if ok else 0.0 for r, ok in zip(configs, done)],
    }
    left = np.zeros(len(configs))
    for (name, seconds), color in zip(parts.items(), ("tab:blue", "tab:orange", "tab:green")):
        ax.barh(ypos, seconds, left=left, color=color, label=name)
        left += np.asarray(seconds, dtype=float)
    for y, r, ok in zip(ypos, configs, done):
        if not ok:
            ax.text(0, y, f" {r['status']}", va="center", color="grey", fontsize=8)
    ax.set_yticks(ypos, [_text(r["label"]) for r in configs], fontsize=8)
    ax.set_xlabel("seconds")
    ax.grid(True, axis="x", alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))  # outside: bars may reach any corner
    return _save(fig, path)
