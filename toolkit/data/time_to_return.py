"""The time-to-return label: when a user came back, if the crawl saw it, in discrete time bins.

Days count from each user's day 0. The **event** is the user's first post on or after day
``after_days`` and after their first posting week (``entry``: under ``day0: account_created``
day 0 is the sign-up, and posts of the first week of posting are not a return); **follow-up**
runs from that day to ``follow_days`` (inclusive) or to ``data_end``, whichever comes first;
the days before ``entry`` are masked like days out of view (delayed entry). Follow-up is cut
into bins by ``edges`` (bin ``k`` holds days ``edges[k] .. edges[k+1] - 1``; daily bins by
default).

Days the crawl did not cover (the coverage rule, :mod:`toolkit.data.coverage`) are not days of
"no return": nobody is at risk of an *observed* return on them. So each user gets:

* ``at_risk[k]``: the user was seen through bin ``k`` without a return; every day of the bin
  is covered and inside follow-up, and before the return. In the likelihood such a bin
  contributes ``log(1 - h_k)``. Bins with an uncovered day, or past the end of follow-up,
  are masked: they contribute nothing, as if the user were out of view then.
* a seen return on day ``r``: if the days just before ``r`` are uncovered (back to day ``L``,
  the day after the last covered day, or ``after_days``), the return happened somewhere in
  ``L .. r`` (interval-censored); the event covers bins ``event_first .. event_last`` (one bin
  when it is exact) and contributes ``log(1 - prod_{k in those bins} (1 - h_k))``.
* no seen return: right-censored; ``censor_bin`` is the last bin the user was seen through.

Masking assumes the gaps tell nothing about the return: a return hidden in a gap and followed
by silence on covered days cannot be told from no return, so a gap before covered days without
a post is skipped rather than counted either way. With no gap, this is the usual discrete-time
likelihood (Singer and Willett, 1993): survival through every bin before the event, then the
event's hazard.

Worked example (``after_days: 7, follow_days: 14``, daily bins 0..7 for days 7..14; the
crawl missed days 9 and 10 of these users' follow-up; ``data_end`` at day 14):

=====  ===========  ===============  ==================  ===========
user   posts (day)  at_risk bins      event bins          censor_bin
=====  ===========  ===============  ==================  ===========
A      11           0, 1              2..4 (days 9..11)   -
B      8            0                 1..1 (exact)        -
C      none         0, 1, 4..7        -                   7
D      13           0, 1, 4, 5        6..6 (exact)        -
=====  ===========  ===============  ==================  ===========

A's return was first seen on day 11, right after the gap: it may have happened on day 9, 10
or 11. D's gap is followed by two covered days without a post, so day 13 is taken as seen.
For the metrics (:mod:`toolkit.evaluation.survival`), ``time`` is ``event_last`` for a return
(the bin it was seen in) and ``censor_bin`` otherwise.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from toolkit.data.coverage import Coverage
from toolkit.errors import ToolkitError


@dataclass
class TimeToReturn:
    """Per user (rows) and bin (columns) of one cohort; see the module docstring."""

    edges: np.ndarray  # (K + 1,) day offsets: bin k holds days edges[k] .. edges[k+1] - 1
    at_risk: np.ndarray  # (n, K) bool: seen through bin k without a return
    event_first: np.ndarray  # (n,) int: first bin the seen return may lie in, -1 when none was seen
    event_last: np.ndarray  # (n,) int: bin the return was seen in, -1 when none was seen
    censor_bin: np.ndarray  # (n,) int: last bin seen through (censored users), -1 when none

    @property
    def event(self) -> np.ndarray:
        return self.event_last >= 0

    @property
    def interval(self) -> np.ndarray:
        """True where the seen return may have happened in an earlier, uncovered bin."""
        return self.event & (self.event_first < self.event_last)

    @property
    def time(self) -> np.ndarray:
        """The metrics' time: the bin a return was seen in, else the last bin seen through."""
        return np.where(self.event, self.event_last, self.censor_bin)

    @property
    def in_analysis(self) -> np.ndarray:
        """Users who tell the likelihood anything: a seen return or a bin seen through."""
        return self.event | self.at_risk.any(axis=1)

    def rows(self, index) -> "TimeToReturn":
        """The label of a subset of users (row positions or a boolean mask)."""
        return TimeToReturn(self.edges, self.at_risk[index], self.event_first[index], self.event_last[index],
                            self.censor_bin[index])

    def horizon_bin(self, days_after: float) -> int:
        """The bin ending ``days_after`` days into follow-up: "returned by then" is ``time <= that bin``."""
        hit = np.flatnonzero(self.edges == self.edges[0] + days_after)
        if not len(hit) or hit[0] == 0:
            raise ToolkitError(f"a horizon of {days_after:g} days after after_days must end a bin; the bins end at "
                               f"{(self.edges[1:] - self.edges[0]).tolist()} days.")
        return int(hit[0]) - 1


def bin_edges(after_days: int, follow_days: int, edges=None) -> np.ndarray:
    """Bin edges over days ``after_days .. follow_days``: daily without ``edges``.

    ``edges`` (day offsets, increasing) must start at ``after_days`` and end at ``follow_days + 1``.
    """
    if int(after_days) != after_days or int(follow_days) != follow_days or not 0 <= after_days <= follow_days:
        raise ToolkitError(f"time_to_return needs whole days 0 <= after_days <= follow_days. "
                           f"Got after_days={after_days!r}, follow_days={follow_days!r}.")
    if edges is None:
        return np.arange(after_days, follow_days + 2)
    e = np.asarray(edges)
    if (e.ndim != 1 or len(e) < 2 or not np.issubdtype(e.dtype, np.integer) or (np.diff(e) <= 0).any()
            or e[0] != after_days or e[-1] != follow_days + 1):
        raise ToolkitError(f"bin edges must be increasing whole days from after_days ({after_days}) to "
                           f"follow_days + 1 ({follow_days + 1}). Got {list(np.atleast_1d(edges))!r} instead.")
    return e.astype(np.int64)


def covered_dates(coverage: Coverage | None, data_end: dt.date) -> set[dt.date] | None:
    """The calendar days up to ``data_end`` the crawl covered (None: coverage is off, every day counts)."""
    if coverage is None:
        return None
    return {day for day in coverage.covered_set() if day <= data_end}


def first_return(post_user, post_day, n_users: int, after_days: int, entry=None) -> np.ndarray:
    """Each user's first post day on or after ``after_days`` and ``entry`` (a large number when there is none).

    Args:
        post_user: (m,) row index of each post's user, in ``0 .. n_users - 1``.
        post_day: (m,) the post's day offset from its user's day 0.
        entry: (n_users,) the first day offset a return may count on (None: ``after_days`` for all).
    """
    users, days = np.asarray(post_user, dtype=np.int64), np.asarray(post_day, dtype=np.int64)
    if users.shape != days.shape or (len(users) and (users.min() < 0 or users.max() >= n_users)):
        raise ToolkitError(f"post_user and post_day must be equal-length, with users in 0..{n_users - 1}.")
    out = np.full(n_users, np.iinfo(np.int64).max)
    keep = days >= np.maximum(after_days, _entry(entry, n_users, after_days)[users])
    np.minimum.at(out, users[keep], days[keep])
    return out


def _entry(entry, n: int, after_days: int) -> np.ndarray:
    """(n,) int: the first day offset each user's return may count on, never before ``after_days``."""
    if entry is None:
        return np.full(n, after_days, dtype=np.int64)
    out = np.asarray(entry, dtype=np.int64)
    if out.shape != (n,):
        raise ToolkitError(f"entry must hold one day offset per user ({n}). Got shape {out.shape} instead.")
    return np.maximum(out, after_days)


def _day_grid(day0, offsets: np.ndarray, data_end: dt.date, covered: set[dt.date] | None, entry=None):
    """(n, D) masks over follow-up days: covered by the crawl and past ``entry``, and inside the data."""
    start = pd.to_datetime(pd.Series(day0)).dt.normalize().to_numpy().astype("datetime64[D]")
    calendar = start[:, None] + offsets[None, :].astype("timedelta64[D]")
    inside = calendar <= np.datetime64(data_end, "D")
    entered = offsets[None, :] >= _entry(entry, len(start), int(offsets[0]) if len(offsets) else 0)[:, None]
    if covered is None:
        return inside & entered, inside
    days = np.array(sorted(covered), dtype="datetime64[D]")
    return np.isin(calendar, days) & inside & entered, inside


def time_to_return(day0, post_user, post_day, *, after_days: int, follow_days: int, data_end: dt.date,
                   covered: set[dt.date] | None, edges=None, entry=None) -> TimeToReturn:
    """The label of every user, as the module docstring describes.

    Args:
        day0: (n,) each user's day 0 (dates or Timestamps).
        post_user, post_day: every post as (user row, day offset from that user's day 0).
        after_days, follow_days: follow-up runs over days ``after_days .. follow_days``.
        data_end: the last day the crawl may be read for.
        covered: the covered calendar days (:func:`covered_dates`), or None when every day counts.
        edges: bin edges in days (:func:`bin_edges`); daily bins when None.
        entry: (n,) the first day offset a return may count on (the day after the first posting week);
            None: ``after_days`` for every user.
    """
    edges = bin_edges(after_days, follow_days, edges)
    offsets = np.arange(after_days, follow_days + 1)
    n = len(day0)
    cov, inside = _day_grid(day0, offsets, data_end, covered, entry)
    seen = first_return(post_user, post_day, n, after_days, entry) - after_days  # index into offsets
    event = seen < inside.sum(axis=1)  # inside is a prefix of the days: its length is the follow-up
    cols = np.arange(len(offsets))[None, :]
    # L: the day after the last covered day before the return (the entry day when there is none).
    before = cov & (cols < seen[:, None])
    last_covered = np.where(before.any(axis=1), len(offsets) - 1 - np.argmax(before[:, ::-1], axis=1), -1)
    start = np.where(event, np.maximum(last_covered + 1, _entry(entry, n, after_days) - after_days), len(offsets))
    survived = cov & (cols < start[:, None])
    day_bin = np.searchsorted(edges, offsets, side="right") - 1
    firsts = edges[:-1] - after_days
    full = np.add.reduceat(survived.astype(np.int64), firsts, axis=1) == np.diff(edges)[None, :]
    clipped = np.minimum(np.where(event, seen, 0), len(offsets) - 1)
    event_first = np.where(event, day_bin[np.minimum(start, len(offsets) - 1)], -1)
    event_last = np.where(event, day_bin[clipped], -1)
    censor = np.where(~event & full.any(axis=1), full.shape[1] - 1 - np.argmax(full[:, ::-1], axis=1), -1)
    return TimeToReturn(edges, full, event_first, event_last, censor)


def from_posts(posts: pd.DataFrame, day0: pd.Series, coverage: Coverage | None, *,
               after_days: int, follow_days: int, data_end: dt.date, edges=None, entry=None) -> TimeToReturn:
    """The label of the users in ``day0`` (index: user_id, rows in that order) from a posts frame.

    Args:
        posts: with ``user_id`` and ``create_time`` (the data's clock).
        day0: each user's day 0 as a day Timestamp, indexed by user_id.
        coverage: the days the crawl covered (:func:`toolkit.data.coverage.crawl_coverage`; None: every day).
        entry: as for :func:`time_to_return`.
    """
    rows = pd.Series(np.arange(len(day0)), index=day0.index)
    mine = posts[posts["user_id"].isin(day0.index)]
    user = mine["user_id"].map(rows).to_numpy()
    days = (mine["create_time"].dt.normalize().dt.tz_localize(None) if mine["create_time"].dt.tz is not None
            else mine["create_time"].dt.normalize())
    offset = (days - mine["user_id"].map(day0)).dt.days.to_numpy()
    return time_to_return(day0.to_numpy(), user, offset, after_days=after_days, follow_days=follow_days,
                          data_end=data_end, covered=covered_dates(coverage, data_end), edges=edges, entry=entry)


def follow_up_in_gap(day0, *, after_days: int, follow_days: int, data_end: dt.date,
                     covered: set[dt.date] | None, entry=None) -> np.ndarray:
    """(n,) bool: the user's follow-up (from ``entry``), inside the data, holds a day the crawl did not cover."""
    offsets = np.arange(after_days, follow_days + 1)
    cov, inside = _day_grid(day0, offsets, data_end, covered, entry)
    entered, _ = _day_grid(day0, offsets, data_end, None, entry)
    return (entered & ~cov).any(axis=1)
