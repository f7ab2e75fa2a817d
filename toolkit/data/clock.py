"""One clock for every time in a run: ``data.timezone``.

A crawl writes most times without a zone (``1/14/2025 12:08``); a crawl of a
Chinese platform most likely records them on Beijing time (UTC+8), so that is
the default. Times that carry their own zone (epoch numbers, ISO 8601 with
``Z`` or an offset) and account creation times decoded from object ids (Unix
seconds) are converted to this clock, and calendar days (cohort, observation
and label windows, posting hours) are cut on it.

Accepted names: any IANA zone (``Asia/Shanghai``, ``America/New_York``,
``UTC``) or a fixed offset (``UTC+8``, ``UTC-05:30``, ``+08:00``).
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo

import numpy as np
import pandas as pd

from toolkit.data.times import is_absolute_time
from toolkit.errors import ToolkitError

DEFAULT_TIMEZONE = "Asia/Shanghai"
_OFFSET = re.compile(r"^(?:UTC|GMT)?\s*([+-])(\d{1,2})(?::?(\d{2}))?$", re.IGNORECASE)


def parse_timezone(name: str) -> dt.tzinfo:
    """The tzinfo a ``data.timezone`` value names; ToolkitError when it names none."""
    text = str(name).strip()
    if text.upper() in ("UTC", "GMT", "Z"):
        return dt.timezone.utc
    match = _OFFSET.match(text)
    if match:
        sign, hours, minutes = match.groups()
        offset = dt.timedelta(hours=int(hours), minutes=int(minutes or 0))
        if offset <= dt.timedelta(hours=14):
            return dt.timezone(-offset if sign == "-" else offset)
    else:
        try:
            return zoneinfo.ZoneInfo(text)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            pass
    raise ToolkitError(f"data.timezone must be an IANA time zone (e.g. 'Asia/Shanghai', 'UTC') or an offset "
                       f"(e.g. 'UTC+8'). Got {name!r} instead.")


def utc_to_clock(times: pd.Series, timezone: str) -> pd.Series:
    """Naive UTC times (or UTC-aware ones) as naive times on ``timezone``'s clock."""
    stamps = pd.to_datetime(pd.Series(times))
    if stamps.dt.tz is None:
        stamps = stamps.dt.tz_localize("UTC")
    return stamps.dt.tz_convert(parse_timezone(timezone)).dt.tz_localize(None).astype("datetime64[ns]")


def to_clock(times: pd.Series, raw: pd.Series, timezone: str) -> pd.Series:
    """Parsed post times on one clock.

    Args:
        times: naive times from :func:`toolkit.data.times.parse_times` (absolute
            values were converted to UTC there, naive ones kept as written).
        raw: the cells they were parsed from, to tell the two apart.
        timezone: the clock of the naive cells, and of the result.
    """
    times = pd.Series(times).reset_index(drop=True)
    absolute = np.asarray(is_absolute_time(pd.Series(raw).reset_index(drop=True)), dtype=bool)
    if not absolute.any():
        return times
    out = times.copy()
    out[absolute] = utc_to_clock(times[absolute], timezone).to_numpy()
    return out
