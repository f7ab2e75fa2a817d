"""What the crawl itself says: posts per day, and when each account was created.

RedNote user ids are MongoDB-style object ids: 24 hex digits whose first 8 are
the creation time in Unix seconds (big-endian). Decoding them gives an account's
creation date without any extra column, which tells "new on RedNote during the
migration" apart from "old account". Ids in any other form decode to ``NaT``
rather than raising, because crawls mix sources.
"""

from __future__ import annotations

import pandas as pd

_OBJECT_ID = r"^[0-9a-fA-F]{24}$"


def daily_volume(times: pd.Series) -> pd.Series:
    """Posts per calendar day, every day from the first to the last.

    Days without a post are kept with a count of 0 so a plot or a coverage
    check sees the gaps in the crawl; times that are ``NaT`` are dropped.

    Args:
        times: post times (``datetime64``; naive or zoned, the date is taken as written).

    Returns:
        An ``int64`` Series named ``posts``, indexed by :class:`datetime.date`
        (index name ``date``); empty when there is no time.
    """
    stamps = pd.to_datetime(pd.Series(times)).dropna()
    if stamps.empty:
        return pd.Series([], index=pd.Index([], name="date", dtype=object), dtype="int64", name="posts")
    days = stamps.dt.normalize()
    if days.dt.tz is not None:
        days = days.dt.tz_localize(None)
    counts = days.value_counts()
    every_day = pd.date_range(days.min(), days.max(), freq="D")
    counts = counts.reindex(every_day, fill_value=0).astype("int64")
    counts.index = pd.Index(every_day.date, name="date")
    return counts.rename("posts")


def is_object_id(user_ids: pd.Series) -> pd.Series:
    """True where the id is a 24-hex-digit object id (either case, no spaces)."""
    ids = pd.Series(user_ids)
    return ids.map(lambda v: isinstance(v, str)).astype(bool) & ids.astype(str).str.fullmatch(_OBJECT_ID)


def account_created(user_ids: pd.Series) -> pd.Series:
    """Account creation time decoded from object ids.

    Args:
        user_ids: user ids as read from the posts file.

    Returns:
        A ``datetime64[ns, UTC]`` Series aligned with ``user_ids``; ``NaT``
        where the id is not an object id.
    """
    ids = pd.Series(user_ids)
    ok = is_object_id(ids)
    seconds = pd.Series(pd.NA, index=ids.index, dtype="Int64")
    seconds[ok] = ids[ok].str[:8].map(lambda h: int(h, 16)).astype("Int64")
    return pd.to_datetime(seconds, unit="s", utc=True).astype("datetime64[ns, UTC]")
