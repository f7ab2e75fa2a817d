"""The EDA report's time-to-return section: Kaplan-Meier curves by group and the log-rank test.

Only for a spec whose label has ``time_to_return``. The users are the label's (censored users
kept, :func:`toolkit.data.time_to_return_users.build_time_to_return_users`); risk sets, masked bins and
interval-censored returns are :mod:`toolkit.evaluation.logrank`'s. Curves are of "not yet
returned" over days since ``after_days``, each bin's step at its last day, with Greenwood's
pointwise 95% band on the log-minus-log scale. Groupings: all users, week of day 0 (first
seen), and the NMF topic eda fits; a grouping's figure draws each group in its own panel beside
the all-users curve (overlaid bands of a dozen groups cannot be told apart).

**Too few returns to read.** A group with fewer than ``MIN_RETURNS`` returns seen gets its
counts and curve but no interval at the horizons, and is left out of its grouping's log-rank
test: a test on such a group says where its one or two returns fell. With fewer than two
groups left, the grouping has no test.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from toolkit.analysis.eda.figures import data_label
from toolkit.analysis.figures import pyplot, save
from toolkit.data.time_to_return import TimeToReturn
from toolkit.evaluation.logrank import curves, logrank_test, risk_sets

#: fewer returns seen than this in a group: no interval, and left out of the log-rank test
MIN_RETURNS = 5
TOO_FEW_RETURNS = "too few returns to read"
#: the groupings of the section, with the name of their figure (``<name>.png``)
GROUPINGS = {"all": "km_all", "first-seen week": "km_by_week", "topic": "km_by_topic"}


def first_seen_weeks(first_seen: pd.Series) -> np.ndarray:
    """Monday of the week of each user's day 0, as text."""
    return pd.to_datetime(first_seen).dt.to_period("W").dt.start_time.dt.strftime("%Y-%m-%d").to_numpy()


def group_rows(label: TimeToReturn, group: np.ndarray, horizons: list[int]) -> tuple[list[dict], dict]:
    """Per group: users, returns, censored and ``S`` at each horizon; and the group's curves."""
    sets = risk_sets(label, group)
    by = curves(sets)
    rows = []
    for i, value in enumerate(sets.groups):
        mine = group == value
        returns = int(label.event[mine].sum())
        at = {}
        for h in horizons:
            k = label.horizon_bin(h)
            c = by[value]
            at[str(h)] = {"s": float(c.survival[k]), "ci_low": float(c.ci_low[k]), "ci_high": float(c.ci_high[k])}
        rows.append({"group": value.item() if hasattr(value, "item") else value, "users": int(mine.sum()),
                     "returns": returns, "interval_censored": int(label.interval[mine].sum()),
                     "censored": int((~label.event[mine]).sum()), "readable": returns >= MIN_RETURNS, "at": at})
    return rows, {"sets": sets, "curves": by}


def grouping_test(rows: list[dict], sets) -> dict:
    """The log-rank test over the groups with enough returns; which were left out and why."""
    keep = np.array([r["readable"] for r in rows])
    left_out = [r["group"] for r in rows if not r["readable"]]
    if keep.sum() < 2:
        return {"tested": False, "groups": int(keep.sum()), "left_out": left_out,
                "reason": f"fewer than two groups with {MIN_RETURNS} or more returns"}
    test = logrank_test(sets.events[keep], sets.at_risk[keep])
    return {"tested": True, "groups": int(keep.sum()), "left_out": left_out, "statistic": test["statistic"],
            "df": test["df"], "p_value": test["p_value"]}


#: the most groups drawn as panels of one figure; the rest (the smallest) are left to the table
MAX_PANELS = 9
#: the x axis of every curve: bins count from ``after_days``, which is the observation window's end by default
XLABEL = "days after the observation window"


def _panel(ax, days: np.ndarray, c, row: dict, reference=None) -> None:
    """One group's step curve, its band (only when readable) and its censoring ticks; ``reference`` in grey."""
    if reference is not None:
        ax.step(days, np.concatenate([[1.0], reference.survival]), where="post", color="grey", linewidth=1,
                alpha=0.7, label="all users")
    line, = ax.step(days, np.concatenate([[1.0], c.survival]), where="post", color="#4C72B0", linewidth=1.6,
                    label=data_label(f"{row['group']} ({row['users']})"))
    if row["readable"]:  # a band on one or two returns says where they fell, not how sure the curve is
        ax.fill_between(days, np.concatenate([[1.0], c.ci_low]), np.concatenate([[1.0], c.ci_high]),
                        step="post", color=line.get_color(), alpha=0.15)
    cut = c.censored > 0
    ax.plot(days[1:][cut], c.survival[cut], "|", color=line.get_color(), markersize=6)


def km_figure(label: TimeToReturn, curves_by: dict, rows: list[dict], path: Path, *, title: str,
              xlabel: str = XLABEL, reference=None) -> Path:
    """Step curves of "not yet returned": one panel per group (the largest :data:`MAX_PANELS`), never overlaid.

    Each panel shows its group's curve with its 95% band (none where the group has too few
    returns), ticks where users were censored, and ``reference`` (all users) in grey; the panels
    share both axes, so groups compare by position, not by colour.
    """
    plt = pyplot()
    days = np.concatenate([[0], label.edges[1:] - label.edges[0]])
    order = sorted(range(len(rows)), key=lambda i: -rows[i]["users"])[:MAX_PANELS]
    fitted = list(curves_by.values())  # in the order of ``rows``: both follow the risk sets' groups
    shown = [(rows[i], fitted[i]) for i in order]
    cols = min(3, len(shown))
    lines = -(-len(shown) // cols)
    fig, axes = plt.subplots(lines, cols, figsize=(8 if cols == 1 else 10.5, 3.4 if lines == 1 else 2.5 * lines + 0.6),
                             sharex=True, sharey=True, squeeze=False)
    for ax, (row, c) in zip(axes.flat, shown):
        _panel(ax, days, c, row, reference if len(shown) > 1 else None)
        if len(shown) > 1:
            mark = "" if row["readable"] else f" - {TOO_FEW_RETURNS}"
            ax.set_title(data_label(f"{row['group']}: {row['users']} users, {row['returns']} returns{mark}", 60),
                         fontsize=8)
        ax.grid(True, alpha=0.3)
    for ax in list(axes.flat)[len(shown):]:
        ax.set_visible(False)
    # Returns are rare: the curves' own range, not 0..1, or they all lie on the top edge.
    lowest = min((float(np.min(c.ci_low if r["readable"] else c.survival)) for r, c in shown if len(c.survival)),
                 default=0.0)
    axes[0, 0].set_ylim(max(0.0, lowest - 0.05), 1.01)
    for i, ax in enumerate(list(axes.flat)[:len(shown)]):
        if i + cols >= len(shown):  # the lowest panel of its column: its own ticks, the panel below is hidden
            ax.xaxis.set_tick_params(labelbottom=True)
            ax.set_xlabel(xlabel, fontsize=8)
    for ax in axes[:, 0]:
        ax.set_ylabel("not yet returned", fontsize=8)
    left_out = len(rows) - len(shown)
    fig.suptitle(title + (f" (the {len(shown)} largest groups; {left_out} more in the table)" if left_out else ""),
                 fontsize=10)
    if len(shown) > 1:
        axes[0, 0].legend(handles=axes[0, 0].get_lines()[:1], fontsize=7, loc="lower left")
    return save(fig, path)


def km_section(users: pd.DataFrame, label: TimeToReturn, topic: np.ndarray, horizons: list[int],
               folder: Path, xlabel: str = XLABEL) -> tuple[dict, dict]:
    """The section's numbers and its figures (written into ``folder``): ``(section, {key: path})``."""
    groups = {"all": np.array(["all users"] * len(users), dtype=object),
              "first-seen week": first_seen_weeks(users["first_seen"]), "topic": np.asarray(topic)}
    section, files = {"horizons": list(horizons), "min_returns": MIN_RETURNS, "groupings": {}}, {}
    reference = None
    for name, group in groups.items():
        rows, fitted = group_rows(label, group, horizons)
        test = grouping_test(rows, fitted["sets"]) if name != "all" else None
        key = GROUPINGS[name]
        section["groupings"][name] = {"rows": rows, "logrank": test, "figure": f"{key}.png"}
        if name == "all":
            reference = fitted["curves"][rows[0]["group"]]
        files[key] = km_figure(label, fitted["curves"], rows, folder / f"{key}.png", xlabel=xlabel,
                               title=f"Not yet returned, by {name}" if name != "all" else "Not yet returned",
                               reference=reference)
    return section, files
