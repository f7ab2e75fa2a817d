"""Was the crawler collecting? Coverage of label windows by the crawl's own daily volume.

A crawl is a sample in time: on days the crawler did not run, nobody posts in
the file, so a user whose label window falls in such a hole looks "not
retained" whatever they did. The rule (``label.coverage``):

* the **reference day** is the median volume of the days on which the file has
  any post (days without any post are the holes being looked for, so they do
  not drag the reference down);
* a day is **covered** when its volume is at least ``min_daily_share`` times
  the reference; days outside the file's first..last post are not covered;
* a label window is covered when at least ``min_covered_days`` of its days are.

Users whose window is not covered are censored whatever their outcome: dropping
only the negatives would inflate the positive rate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from toolkit.params import Interval


@dataclass(kw_only=True)
class CoverageRule:
    """``label.coverage: {min_daily_share: 0.2, min_covered_days: 0.8}`` (``null`` turns the check off)."""

    min_daily_share: float = 0.2  # of the median day with posts
    min_covered_days: float = 0.8  # share of a label window's days that must be covered
    param_paths = True
    param_constraints = {"min_daily_share": Interval(0, 1), "min_covered_days": Interval(0, 1)}

    def describe(self) -> str:
        return (f"a label window needs {self.min_covered_days:.0%} of its days at >= "
                f"{self.min_daily_share:.0%} of the median crawl day")


def reference_volume(volume: pd.Series) -> float:
    """The median posts per day over the days with any post (0 when there is none)."""
    active = volume[volume > 0]
    return float(active.median()) if len(active) else 0.0


def covered_days(volume: pd.Series, rule: CoverageRule) -> pd.Series:
    """Per day of ``volume`` (from :func:`toolkit.data.crawl.daily_volume`): True when covered."""
    return (volume >= rule.min_daily_share * reference_volume(volume)) & (volume > 0)


def windows_covered(volume: pd.Series, starts: pd.Series, ends: pd.Series, rule: CoverageRule) -> np.ndarray:
    """True for each window ``[start, end]`` (inclusive dates) whose days are covered often enough.

    Args:
        volume: posts per calendar day, indexed by ``datetime.date``.
        starts, ends: window bounds as Timestamps (one pair per user).
        rule: the coverage rule.
    """
    if len(starts) == 0:
        return np.zeros(0, dtype=bool)
    first = min(pd.Timestamp(min(volume.index)) if len(volume) else starts.min(), starts.min())
    last = max(ends.max(), first)
    days = pd.date_range(first, last, freq="D")
    ok = covered_days(volume, rule) if len(volume) else pd.Series(dtype=bool)
    flags = pd.Series(ok.to_numpy(), index=pd.DatetimeIndex(pd.to_datetime(list(ok.index)))).reindex(
        days, fill_value=False).to_numpy(dtype=np.int64)
    cum = np.concatenate(([0], np.cumsum(flags)))
    lo = ((starts - first).dt.days).to_numpy()
    hi = ((ends - first).dt.days).to_numpy() + 1
    share = (cum[hi] - cum[lo]) / np.maximum(hi - lo, 1)
    return share >= rule.min_covered_days
