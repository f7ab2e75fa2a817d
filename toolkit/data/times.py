"""Parse post times: the crawl's ``M/D/YYYY H:MM`` and the forms other crawls use.

Every time comes back as a naive :class:`pandas.Timestamp`. Times written
without a zone (``1/14/2025 12:08``, ``2025-01-14T12:08:00``) are kept as
written; epoch numbers and ISO times with ``Z`` or an offset are converted to
UTC first, because a naive time must mean one clock across the whole column.
"""

from __future__ import annotations

import math
import re
from typing import Any, Iterable

import numpy as np
import pandas as pd

#: what the error message lists as accepted forms
EXPECTED = (
    "a time as M/D/YYYY H:MM or M/D/YYYY H:MM:SS (24-hour), epoch seconds (9-10 digits), "
    "epoch milliseconds (12-13 digits) or ISO 8601 (2025-01-14, 2025-01-14T12:08:00, "
    "with an optional Z or +08:00)"
)

_MDY_RE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})\s+(\d{1,2}):(\d{2})(?::(\d{2}))?$")
# A trailing ".0" appears when a spreadsheet or pandas wrote the epoch as a float.
_EPOCH_RE = re.compile(r"^(\d{9,10}|\d{12,13})(?:\.0*)?$")
_ISO_RE = re.compile(
    r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?(?:Z|[+-]\d{2}:?\d{2})?$"
)


MIN_TIME, MAX_TIME = pd.Timestamp.min.ceil("D"), pd.Timestamp.max.floor("D")


def _from_epoch(number: float, original: Any) -> pd.Timestamp:
    """Read an epoch number by its digit count: 12-13 digits are ms, 9-10 are s."""
    if number.is_integer():
        digits = len(str(int(abs(number))))
        if digits in (12, 13):
            return pd.Timestamp(int(number), unit="ms")
        if digits in (9, 10):
            return pd.Timestamp(int(number), unit="s")
    raise ValueError(f"Expected {EXPECTED}. Got the number {original!r} instead.")


def parse_time(text: Any) -> pd.Timestamp:
    """Parse one post time.

    Args:
        text: the cell as read from the CSV, or an int/float epoch.

    Returns:
        A naive :class:`pandas.Timestamp`.

    Raises:
        ValueError: the value is empty, in none of the accepted forms (the
            message lists them), or outside the dates pandas can hold.
    """
    stamp = _parse_time(text)
    # pandas keeps post times in nanoseconds: 1677-09-21 to 2262-04-11. A date
    # outside that (a typo such as 9999) is a bad value, not a crash later on.
    if not MIN_TIME <= stamp <= MAX_TIME:
        raise ValueError(f"Expected {EXPECTED}. Got {text!r} instead: outside the supported dates "
                         f"{MIN_TIME:%Y-%m-%d} to {MAX_TIME:%Y-%m-%d}.")
    return stamp


def _parse_time(text: Any) -> pd.Timestamp:
    """parse_time without the range check."""
    if isinstance(text, (bool, np.bool_)):
        raise ValueError(f"Expected {EXPECTED}. Got the boolean {text!r} instead.")
    if isinstance(text, (int, float, np.integer, np.floating)):
        number = float(text)
        if math.isnan(number) or math.isinf(number):
            raise ValueError(f"Expected {EXPECTED}. Got an empty value instead.")
        return _from_epoch(number, text)
    if text is None:
        raise ValueError(f"Expected {EXPECTED}. Got an empty value instead.")
    if not isinstance(text, str):
        raise ValueError(f"Expected {EXPECTED}. Got a {type(text).__name__} ({text!r}) instead.")
    stripped = text.strip()
    if not stripped:
        raise ValueError(f"Expected {EXPECTED}. Got an empty value instead.")
    match = _MDY_RE.match(stripped)
    try:
        if match:
            month, day, year, hour, minute, second = match.groups()
            # The Timestamp constructor rejects 2/30 or hour 25 with its own
            # ValueError, which the except below turns into our message.
            return pd.Timestamp(
                int(year), int(month), int(day), int(hour), int(minute), int(second or 0)
            )
        if _EPOCH_RE.match(stripped):
            return _from_epoch(float(stripped), text)
        if _ISO_RE.match(stripped):
            stamp = pd.Timestamp(stripped)
            if stamp.tzinfo is not None:
                stamp = stamp.tz_convert("UTC").tz_localize(None)
            return stamp
    except (ValueError, OverflowError) as exc:  # OutOfBoundsDatetime is a ValueError
        raise ValueError(f"Expected {EXPECTED}. Got {text!r} instead ({exc}).") from None
    raise ValueError(f"Expected {EXPECTED}. Got {text!r} instead.")


def _parse_each(values: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """The slow path: parse each distinct value with :func:`parse_time`."""
    cache: dict[Any, Any] = {}
    out = []
    for value in values:
        key = value if not (isinstance(value, float) and math.isnan(value)) else None
        if key not in cache:
            try:
                cache[key] = parse_time(value)
            except ValueError:
                cache[key] = pd.NaT
        out.append(cache[key])
    parsed = pd.to_datetime(pd.Series(out, index=values.index, dtype=object))
    return parsed, parsed.isna().to_numpy()


def parse_times(values: Iterable[Any]) -> tuple[pd.Series, np.ndarray]:
    """Parse a column of post times.

    The crawl's ``M/D/YYYY H:MM`` goes through one vectorized
    :func:`pandas.to_datetime` call with an explicit format; only what that
    misses is parsed value by value, so the common case stays fast.

    Args:
        values: a pandas Series, list or array of cells.

    Returns:
        ``(times, bad)``: a ``datetime64[ns]`` Series aligned with ``values``
        (NaT where parsing failed) and a bool array, True where it failed
        (empty cells included).
    """
    series = values if isinstance(values, pd.Series) else pd.Series(list(values), dtype=object)
    if len(series) == 0:
        return pd.Series([], dtype="datetime64[ns]", index=series.index), np.zeros(0, dtype=bool)
    if pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype):
        # Epoch columns read as numbers: the per-value path handles the digit rule.
        parsed, bad = _parse_each(series.astype(object))
        return parsed.astype("datetime64[ns]"), bad
    # Parse each distinct string once: posts made in the same minute share a time.
    codes, uniques = pd.factorize(series.astype(object), use_na_sentinel=True)
    uniques = pd.Series(uniques, dtype=object)
    parsed = pd.Series(pd.NaT, index=uniques.index, dtype="datetime64[ns]")
    remaining = np.ones(len(uniques), dtype=bool)
    for fmt in ("%m/%d/%Y %H:%M", "%m/%d/%Y %H:%M:%S"):
        if not remaining.any():
            break
        where = np.flatnonzero(remaining)
        # Only strings go to the fast path; stray numbers fall through to parse_time.
        fast = pd.to_datetime(uniques.iloc[where].where(uniques.iloc[where].map(type) == str),
                              format=fmt, errors="coerce")
        # pandas returns microseconds for dates past 2262; those go to parse_time, which explains them.
        hit = (fast.notna() & (fast >= MIN_TIME) & (fast <= MAX_TIME)).to_numpy()
        parsed.iloc[where[hit]] = fast[hit].astype("datetime64[ns]").to_numpy()
        remaining[where[hit]] = False
    if remaining.any():
        # Whitespace, epochs, ISO and the values that are simply bad end up here.
        slow, _ = _parse_each(uniques[remaining])
        parsed.iloc[np.flatnonzero(remaining)] = slow.astype("datetime64[ns]").to_numpy()
    # Code -1 (a missing cell) indexes the NaT appended at the end.
    values = np.append(parsed.to_numpy(), np.datetime64("NaT", "ns"))[codes]
    result = pd.Series(values, index=series.index, dtype="datetime64[ns]")
    return result, result.isna().to_numpy()



_ZONED_RE = re.compile(r"(?:Z|[+-]\d{2}:?\d{2})$")


def is_absolute_time(values: pd.Series) -> np.ndarray:
    """True where a cell names an instant by itself: an epoch number, or ISO 8601 with ``Z`` or an offset.

    Those are the cells :func:`parse_time` converts to UTC; the others are naive
    times kept as written, whose clock only the spec can say (``data.timezone``).
    """
    def absolute(value) -> bool:
        if isinstance(value, (bool, np.bool_)) or value is None:
            return False
        if isinstance(value, (int, float, np.integer, np.floating)):
            return math.isfinite(float(value))
        if not isinstance(value, str):
            return False
        text = value.strip()
        return bool(_EPOCH_RE.match(text) or (_ISO_RE.match(text) and _ZONED_RE.search(text)))

    return np.fromiter((absolute(v) for v in pd.Series(values, dtype=object)), dtype=bool, count=len(values))
