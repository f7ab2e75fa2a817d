"""Who is left after censoring, against who was in the cohort, by arrival date.

Censoring (by ``data_end`` and by crawl coverage) is never random in time: on a
crawl whose volume collapses after a migration wave, every user of the wave can
be censored while later arrivals stay. The results then describe the later
arrivals only. This module counts, per week of day 0 (the cohort's
"first seen" date), the users in the cohort and the labelled ones, and words a
warning for every stretch of consecutive arrival days that holds a noticeable
part of the cohort (``MIN_SHARE``) and no labelled user at all.

A stretch censored by ``data_end`` alone is not warned about: the last
``horizon`` days of any cohort are, by construction (their label window runs
past the data); the table still lists them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: a stretch of arrival days with no labelled user is warned about when it holds at least this share of the cohort
MIN_SHARE = 0.05


def arrival_table(day0: pd.Series, censored: np.ndarray, uncovered: np.ndarray) -> list[dict]:
    """Per Monday-started week of day 0: ``week, cohort, labelled, censored_by_data_end, censored_by_coverage``."""
    frame = _frame(day0, censored, uncovered)
    frame["week"] = frame["day"].dt.to_period("W").dt.start_time.dt.strftime("%Y-%m-%d")
    table = frame.groupby("week")[["cohort", "labelled", "censored_by_data_end", "censored_by_coverage"]].sum()
    return [{"week": week, **{k: int(v) for k, v in row.items()}} for week, row in table.iterrows()]


def unlabelled_stretches(day0: pd.Series, censored: np.ndarray, uncovered: np.ndarray) -> list[str]:
    """One warning per stretch of consecutive arrival days with cohort users, none of them labelled."""
    daily = _frame(day0, censored, uncovered).groupby("day").sum().sort_index()
    total = int(daily["cohort"].sum())
    empty = (daily["labelled"] == 0).to_numpy()
    starts = np.flatnonzero(empty & ~np.concatenate(([False], empty[:-1])))
    out = []
    for start in starts:
        stop = start
        while stop + 1 < len(empty) and empty[stop + 1]:
            stop += 1
        part = daily.iloc[start:stop + 1]
        users, by_coverage = int(part["cohort"].sum()), int(part["censored_by_coverage"].sum())
        if users < MIN_SHARE * total or by_coverage == 0:
            continue
        first, last = part.index[0].date(), part.index[-1].date()
        out.append(f"no labelled user among the {users} cohort users ({users / total:.0%}) with day 0 on "
                   f"{first}..{last}: {int(part['censored_by_data_end'].sum())} censored by data_end, {by_coverage} "
                   "by crawl coverage. The results say nothing about these arrivals; see the labelled-by-week counts.")
    return out


def arrival_text(rows: list[dict]) -> str:
    """One terminal line: labelled / cohort users per week of day 0."""
    cells = ", ".join(f"{r['week'][5:]} {r['labelled']}/{r['cohort']}" for r in rows)
    return f"labelled / cohort by day-0 week (Monday): {cells or 'none'}"


def _frame(day0: pd.Series, censored: np.ndarray, uncovered: np.ndarray) -> pd.DataFrame:
    censored, uncovered = np.asarray(censored, dtype=bool), np.asarray(uncovered, dtype=bool)
    return pd.DataFrame({"day": pd.to_datetime(day0.to_numpy()).normalize(), "cohort": 1,
                         "labelled": (~censored & ~uncovered).astype(int), "censored_by_data_end": censored.astype(int),
                         "censored_by_coverage": uncovered.astype(int)})
