"""The EDA report's time-to-return section: Kaplan-Meier curves by group and the log-rank test.

Only for a spec whose label has ``time_to_return``. The users are the label's (censored users
kept, :func:`toolkit.data.survival_users.build_survival_users`); risk sets, masked bins and
interval-censored returns are :mod:`toolkit.evaluation.logrank`'s. Curves are of "not yet
returned" over days since ``after_days``, each bin's step at its last day, with Greenwood's
pointwise 95% band on the log-minus-log scale. Groupings: all users, week of day 0 (first
seen), and the NMF topic eda fits.

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


def km_figure(label: TimeToReturn, curves_by: dict, rows: list[dict], path: Path, *, title: str) -> Path:
    """Step curves of "not yet returned" with their bands and a mark where users were censored."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(8, 3.6))
    days = np.concatenate([[0], label.edges[1:] - label.edges[0]])
    for row, (value, c) in zip(rows, curves_by.items()):
        name = data_label(f"{value} ({row['users']})" + ("" if row["readable"] else " *"))
        line, = ax.step(days, np.concatenate([[1.0], c.survival]), where="post", label=name)
        ax.fill_between(days, np.concatenate([[1.0], c.ci_low]), np.concatenate([[1.0], c.ci_high]),
                        step="post", color=line.get_color(), alpha=0.12)
        cut = c.censored > 0
        ax.plot(days[1:][cut], c.survival[cut], "|", color=line.get_color(), markersize=8)
    ax.set_xlabel("days since after_days")
    ax.set_ylabel("not yet returned (95% band)")
    ax.set_title(title)
    # Returns are rare: the curves' own range, not 0..1, or they all lie on the top edge.
    lowest = min((float(c.ci_low.min()) for c in curves_by.values() if len(c.ci_low)), default=0.0)
    ax.set_ylim(max(0.0, lowest - 0.05), 1.01)
    ax.legend(fontsize=7, loc="lower left", ncol=2, title=None if all(r["readable"] for r in rows)
              else f"* fewer than {MIN_RETURNS} returns", title_fontsize=7)
    return save(fig, path)


def km_section(users: pd.DataFrame, label: TimeToReturn, topic: np.ndarray, horizons: list[int],
               folder: Path) -> tuple[dict, dict]:
    """The section's numbers and its figures (written into ``folder``): ``(section, {key: path})``."""
    groups = {"all": np.array(["all users"] * len(users), dtype=object),
              "first-seen week": first_seen_weeks(users["first_seen"]), "topic": np.asarray(topic)}
    section, files = {"horizons": list(horizons), "min_returns": MIN_RETURNS, "groupings": {}}, {}
    for name, group in groups.items():
        rows, fitted = group_rows(label, group, horizons)
        test = grouping_test(rows, fitted["sets"]) if name != "all" else None
        key = GROUPINGS[name]
        section["groupings"][name] = {"rows": rows, "logrank": test, "figure": f"{key}.png"}
        files[key] = km_figure(label, fitted["curves"], rows, folder / f"{key}.png",
                               title=f"Not yet returned, by {name}" if name != "all" else "Not yet returned")
    return section, files
