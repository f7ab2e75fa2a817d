"""Was the crawler collecting? Coverage of label windows by the crawl's own daily volume.

A crawl is a sample in time: on days the crawler did not run, nobody posts in
the file, so a user whose label window falls in such a hole looks "not
retained" whatever they did. The rule (``label.coverage``), the same for
``run``, ``validate`` and ``eda``:

* the **reference day** is the ``reference_quantile`` (default 0.9) quantile of
  the posts per day over every day of the crawl's span (first..last post, days
  without a post included): what the crawler collected on its busy days. A
  median of the days *with* posts follows a collapsing crawl down (on a crawl
  whose volume falls from a 327-post day to a handful, that median is 5 and a
  one-post day counts as covered); a high quantile of the whole span stays
  anchored at the volume the crawler showed it can collect, while a single
  burst day (one day in ten or fewer) does not set it alone;
* a day is **covered** when its volume is at least ``min_daily_share`` times
  the reference; days outside the file's first..last post are not covered;
* a label window is covered when at least ``min_covered_days`` of its days are.

Users whose window is not covered are censored whatever their outcome: dropping
only the negatives would inflate the positive rate. The approximation: volume
alone cannot tell a crawler that stopped from users who left, so the rule errs
on censoring (fewer users, never a label made by the crawl's gap); when most of
the span is quiet the quantile falls with it, and the chart in ``validate``
shows what is left.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from toolkit.params import Interval


@dataclass(kw_only=True)
class CoverageRule:
    """``label.coverage: {min_daily_share: 0.2, min_covered_days: 0.8, reference_quantile: 0.9}`` (``null``: off)."""

    min_daily_share: float = 0.2  # of the reference day
    min_covered_days: float = 0.8  # share of a label window's days that must be covered
    reference_quantile: float = 0.9  # the reference day: this quantile of posts per day over the crawl's span
    param_paths = True
    param_constraints = {"min_daily_share": Interval(0, 1), "min_covered_days": Interval(0, 1),
                         "reference_quantile": Interval(0, 1)}

    def describe(self) -> str:
        return (f"a label window needs {self.min_covered_days:.0%} of its days at >= {self.min_daily_share:.0%} of "
                f"the reference day (the {self.reference_quantile:.0%} quantile of posts per day over the crawl)")


def reference_volume(volume: pd.Series, rule: CoverageRule | None = None) -> float:
    """The reference day's posts: ``rule.reference_quantile`` of ``volume`` over every day of it (0 when empty).

    ``volume`` comes from :func:`toolkit.data.crawl.daily_volume`, which keeps days without a post as 0.
    """
    if len(volume) == 0:
        return 0.0
    q = (rule or CoverageRule()).reference_quantile
    return float(np.quantile(volume.to_numpy(dtype=float), q))


def min_posts(volume: pd.Series, rule: CoverageRule) -> float:
    """Posts a day needs to count as covered (never less than one: a day without posts is never covered)."""
    return max(rule.min_daily_share * reference_volume(volume, rule), 1.0)


def covered_days(volume: pd.Series, rule: CoverageRule) -> pd.Series:
    """Per day of ``volume`` (from :func:`toolkit.data.crawl.daily_volume`): True when covered."""
    return (volume >= min_posts(volume, rule)) & (volume > 0)


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
