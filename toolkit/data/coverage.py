"""Was the crawler collecting? Coverage of label windows, decided without looking at the outcome.

A crawl is a sample in time: on days the crawler did not run, nobody posts in
the file, so a user whose label window falls in such a hole looks "not
retained" whatever they did. The rule (``label.coverage``), the same for
``run``, ``validate`` and ``eda``, decides which calendar days the crawl
covered in one of two ways:

* **stated** (``days``): the user says when the crawler ran, as a list of dates
  and ``[first, last]`` ranges (inclusive), e.g.
  ``days: [[2025-01-10, 2025-02-03], 2025-02-05, [2025-02-07, 2025-03-31]]``.
  Those days are covered and no other; the posts are not read for it. This is
  the one to use whenever the crawler's log is at hand.
* **heuristic** (no ``days``): coverage read off the posts that cannot be a
  cohort user's return, the **reference posts**: every post by a user outside
  the cohort, and each cohort user's posts inside their first posting week
  (their first ``observe_days`` days from their first post; under
  ``observe_until``, the days every user is observed). Day ``d``'s *reference*
  is the ``reference_quantile`` (default 0.5) quantile of reference posts per
  day over the days with a reference post among the ``reference_days``
  (default 15) days centred on it; ``d`` is a **gap** when it holds fewer than
  ``min_daily_share`` of its reference. Where
  the reference is below ``min_reference_posts`` (default 5) a quiet day is
  chance, not evidence (a running crawler shows no post on a day that expects
  5 with probability about e^-5 < 1%), so the day is *not judged* and counts as
  covered; the report says how many label-window days that was. Days outside
  the file's first..last post are not covered.

A label window is covered when at least ``min_covered_days`` of its days are.
Users whose window is not covered are censored whatever their outcome: dropping
only the negatives would inflate the positive rate.

Why these posts. The earlier rule judged a day by the crawl's *total* volume
against the 90% quantile of the whole span; but total volume falls when
people stop posting, which is what is measured: on the generator's gap-free
crawl it censored every arrival after January 19 (a third of the cohort), and
the censoring then moved with the other users' retention. A cohort user's
first-week posts precede any return and hold none, and users outside the
cohort are not the outcome, so their volume does not move with who in the
cohort comes back. First posts alone would do too but hold less than half as
many posts, and a gap must be seen against a count. The reference is local
because arrivals follow a migration wave up and down over weeks while a
crawler that stops leaves a hole of days; the median of the days around a
day follows the wave, and leaving out the days without a reference post keeps
a gap's own days from pulling it down. The price: where nobody new arrives and nobody outside the cohort
posts, a stopped crawler cannot be told from quiet days; state ``days`` then.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from toolkit.errors import ToolkitError
from toolkit.params import Interval

# Stated crawl days outside these are typos; within them every day fits a pandas Timestamp.
_EARLIEST, _LATEST = dt.date(2000, 1, 1), dt.date(2100, 12, 31)


@dataclass(kw_only=True)
class CoverageRule:
    """``label.coverage: {days: [...]}`` (stated) or ``{min_daily_share: 0.2, ...}`` (heuristic); ``null``: off."""

    days: list[dt.date | tuple[dt.date, dt.date]] | None = None  # the days the crawler ran (dates, [first, last])
    min_daily_share: float = 0.2  # of the day's reference: fewer reference posts make it a gap
    min_covered_days: float = 0.8  # share of a label window's days that must be covered
    reference_quantile: float = 0.5  # the reference: this quantile of reference posts per day around the day
    reference_days: int = 15  # the days, centred on a day, its reference is taken over
    min_reference_posts: float = 5.0  # a day whose reference is below this is not judged (counted covered)
    param_paths = True
    param_constraints = {"min_daily_share": Interval(0, 1), "min_covered_days": Interval(0, 1),
                         "reference_quantile": Interval(0, 1), "reference_days": Interval(1, 366),
                         "min_reference_posts": Interval(0, None)}

    def validate(self, where: str) -> None:
        if self.days is not None and not self.days:
            raise ToolkitError(f"{where}.days must name at least one day the crawler ran (a date or a "
                               "[first, last] range). Got [] instead; write label.coverage: null to turn coverage off.")
        for item in self.days or []:
            first, last = (item, item) if isinstance(item, dt.date) else item
            if last < first:
                raise ToolkitError(f"{where}.days: the range [{first}, {last}] ends before it starts; "
                                   "expected [first, last] with first <= last.")
            if first < _EARLIEST or last > _LATEST:
                raise ToolkitError(f"{where}.days must lie within {_EARLIEST}..{_LATEST} (a crawl's dates). "
                                   f"Got {first}{'' if first == last else f'..{last}'} instead.")

    @property
    def stated(self) -> bool:
        return self.days is not None

    def stated_days(self) -> set[dt.date]:
        """Every day ``days`` names, ranges expanded."""
        out: set[dt.date] = set()
        for item in self.days or []:
            if isinstance(item, dt.date):
                out.add(item)
            else:
                out.update(d.date() for d in pd.date_range(item[0], item[1], freq="D"))
        return out

    def describe(self, week_days: int | None = None) -> str:
        """The rule in words; ``week_days``: the first posting week's length, when known."""
        need = f"a label window needs {self.min_covered_days:.0%} of its days covered"
        if self.stated:
            days = sorted(self.stated_days())
            span = f", {days[0]}..{days[-1]}" if days else ""
            return f"stated crawl days (label.coverage.days: {len(days)} days{span}); {need}"
        week = f"first {week_days} day(s)" if week_days else "first posting week"
        return (f"heuristic (label.coverage.days not given): a day is a crawl gap when the posts that are no cohort "
                f"user's return (users outside the cohort; each cohort user's {week} from their first post) fall "
                f"below {self.min_daily_share:.0%} of their {self.reference_quantile:.0%} quantile over the days with "
                f"such posts among the {self.reference_days} around it, judged where that is >= "
                f"{self.min_reference_posts:g} posts; "
                f"{need}")


@dataclass
class Coverage:
    """Which calendar days the crawl covered, and how that was decided."""

    rule: CoverageRule
    covered: pd.Series  # bool per day (index: datetime.date), the crawl's span and any stated day
    judged: pd.Series  # bool per day: decided by the evidence (always True when stated)

    def covered_set(self) -> set[dt.date]:
        return {day for day, flag in self.covered.items() if flag}

    def gaps(self, first: dt.date, last: dt.date) -> list[dt.date]:
        """The days from ``first`` to ``last`` the crawl did not cover (days outside the crawl included)."""
        days = [d.date() for d in pd.date_range(first, last, freq="D")] if first <= last else []
        return [d for d in days if not bool(self.covered.get(d, False))]


def reference_posts(dates: pd.Series, user_ids: pd.Series, cohort_first: pd.Series, week_days: int) -> pd.Series:
    """Posts per day that cannot be a cohort user's return, every day of the crawl's span (int64, date index).

    Args:
        dates: each post's calendar day (day Timestamps on the data's clock).
        user_ids: each post's user, aligned with ``dates``.
        cohort_first: the cohort users' first post days (index: user_id); other users' posts all count.
        week_days: the first posting week's length in days.
    """
    days = pd.to_datetime(pd.Series(dates)).dt.normalize()
    if days.dt.tz is not None:
        days = days.dt.tz_localize(None)
    first = pd.Series(user_ids).map(pd.to_datetime(cohort_first).dt.normalize())
    first = first.dt.tz_localize(None) if first.dt.tz is not None else first
    keep = first.isna().to_numpy() | ((days - first).dt.days < week_days).to_numpy()
    span = days.dropna()
    if span.empty:
        return pd.Series([], index=pd.Index([], name="date", dtype=object), dtype="int64", name="posts")
    every_day = pd.date_range(span.min(), span.max(), freq="D")
    counts = days[keep].value_counts().reindex(every_day, fill_value=0).astype("int64")
    counts.index = pd.Index(every_day.date, name="date")
    return counts.rename("posts")


def crawl_coverage(reference: pd.Series, rule: CoverageRule) -> Coverage:
    """The covered days under ``rule``, from :func:`reference_posts`' series (unread when ``days`` are stated)."""
    if rule.stated:
        stated = rule.stated_days()
        index = pd.Index(sorted(stated | set(reference.index)), name="date")
        covered = pd.Series([d in stated for d in index], index=index, dtype=bool)
        return Coverage(rule, covered, pd.Series(True, index=index))
    counts = reference.astype(float)
    # Days without a reference post are left out of the reference, so a gap's own days do not pull it down.
    ref = counts.where(counts > 0).rolling(rule.reference_days, center=True, min_periods=1).quantile(
        rule.reference_quantile).fillna(0.0)
    threshold = rule.min_daily_share * ref
    judged = ref >= rule.min_reference_posts
    covered = ~judged | ((counts >= threshold) & (counts > 0))
    return Coverage(rule, covered.astype(bool), judged.astype(bool))


def window_share(coverage: Coverage, starts: pd.Series, ends: pd.Series) -> np.ndarray:
    """The share of covered days in each window ``[start, end]`` (inclusive day Timestamps); 1 when empty."""
    if len(starts) == 0:
        return np.zeros(0, dtype=float)
    index = coverage.covered.index
    first = min(pd.Timestamp(min(index)) if len(index) else starts.min(), starts.min())
    last = max(ends.max(), first)
    days = pd.date_range(first, last, freq="D")
    flags = pd.Series(coverage.covered.to_numpy(), index=pd.DatetimeIndex(pd.to_datetime(list(index)))).reindex(
        days, fill_value=False).to_numpy(dtype=np.int64)
    cum = np.concatenate(([0], np.cumsum(flags)))
    lo = ((starts - first).dt.days).to_numpy()
    hi = np.maximum(((ends - first).dt.days).to_numpy() + 1, lo)
    # A window that ends before it starts holds no day to miss.
    return np.where(hi > lo, (cum[hi] - cum[lo]) / np.maximum(hi - lo, 1), 1.0)


def windows_covered(coverage: Coverage, starts: pd.Series, ends: pd.Series) -> np.ndarray:
    """True for each window ``[start, end]`` with at least ``min_covered_days`` of its days covered."""
    return window_share(coverage, starts, ends) >= coverage.rule.min_covered_days


def runs(days: list[dt.date]) -> list[list[str]]:
    """Consecutive days as ``[first, last]`` ISO pairs."""
    out: list[list[str]] = []
    for day in sorted(days):
        if out and dt.date.fromisoformat(out[-1][1]) + dt.timedelta(days=1) == day:
            out[-1][1] = str(day)
        else:
            out.append([str(day), str(day)])
    return out
