"""Parse post times: the crawl's ``M/D/YYYY H:MM`` and the forms other crawls use.

Every time comes back as a naive :class:`pandas.Timestamp`. Times written
without a zone (``1/14/2025 12:08``, ``2025-01-14T12:08:00``) are kept as
written; epoch numbers and ISO times with ``Z`` or an offset are converted to
UTC first, because a naive time must mean one clock across the whole column.

Slash dates are the one ambiguous form: ``3/1/2025`` is March 1st month-first
and January 3rd day-first. ``data.date_format`` says which (``month_first``,
``day_first``, or a :func:`~datetime.datetime.strptime` pattern such as
``%d.%m.%Y %H:%M``, which then replaces the slash form; epoch and ISO times,
which cannot be misread, are accepted whatever it says). Without it the slash
form is read month-first, the crawl's order, and :class:`DateOrderCheck`
watches the whole file: a date that can only be day-first (``14/01/2025``)
refuses the file, because reading it month-first would drop that row and
silently swap day and month in every row with a day of 12 or less. A file
whose every slash date reads validly both ways is read month-first with one
warning naming ``data.date_format``, rather than refused: a short crawl in the
crawl's own order (all in the first 12 days of a month) is the common case,
and the warning says how to choose the other order.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, field
from typing import Any, Iterable

import numpy as np
import pandas as pd

from toolkit.errors import ToolkitError

_OTHER_FORMS = ("epoch seconds (9-10 digits), epoch milliseconds (12-13 digits) or ISO 8601 (2025-01-14, "
                "2025-01-14T12:08:00, with an optional Z or +08:00)")
#: what the error message lists as accepted forms
EXPECTED = f"a time as M/D/YYYY H:MM or M/D/YYYY H:MM:SS (24-hour), {_OTHER_FORMS}"
#: ``data.date_format``'s names for the two orders of a slash date
DATE_ORDERS = ("month_first", "day_first")
_SLASH_FORMATS = {"month_first": ("%m/%d/%Y %H:%M", "%m/%d/%Y %H:%M:%S"),
                  "day_first": ("%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S")}
_DIRECTIVES = {"a day": "dj", "a month": "mbBj", "a year": "Yy"}
MAX_FORMAT_LENGTH = 100


def expected(date_format: str | None = None) -> str:
    """The accepted forms under ``date_format``, for messages."""
    if date_format in (None, "month_first"):
        return EXPECTED
    if date_format == "day_first":
        return f"a time as D/M/YYYY H:MM or D/M/YYYY H:MM:SS (24-hour, data.date_format: day_first), {_OTHER_FORMS}"
    return f"a time in the form {date_format!r} (data.date_format), {_OTHER_FORMS}"


def check_date_format(value: Any, where: str = "data.date_format") -> str | None:
    """``value`` if it is a valid ``data.date_format``, else a ToolkitError saying what was expected.

    A pattern must name a day, a month and a year (``%d``, ``%m``/``%b``/``%B``, ``%Y``/``%y``,
    or ``%j`` for day and month) and no zone (``%z``/``%Z``): a naive time's clock is
    ``data.timezone``'s, and zoned times are written as ISO 8601 with an offset.
    """
    if value is None or value in DATE_ORDERS:
        return value
    want = (f"{where} must be month_first, day_first or a strptime pattern with a day, a month and a year "
            "(e.g. '%d/%m/%Y %H:%M')")
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_FORMAT_LENGTH:
        shown = value if not isinstance(value, str) else value[:MAX_FORMAT_LENGTH + 1]
        raise ToolkitError(f"{want}, at most {MAX_FORMAT_LENGTH} characters. Got {shown!r} instead.")
    codes = [token[1] for token in re.findall(r"%%|%.", value) if token != "%%"]
    missing = [name for name, letters in _DIRECTIVES.items() if not set(codes) & set(letters)]
    if missing:
        raise ToolkitError(f"{want}. Got {value!r} instead: it has no directive for {' or '.join(missing)}.")
    if set(codes) & {"z", "Z"}:
        raise ToolkitError(f"{want}. Got {value!r} instead: a zone (%z, %Z) is not read from the pattern; set "
                           "data.timezone for naive times, or write zoned times as ISO 8601 (2025-01-14T12:08+08:00).")
    sample = dt.datetime(2025, 1, 14, 9, 46, 30)
    try:
        back = dt.datetime.strptime(sample.strftime(value), value)
    except ValueError as exc:
        raise ToolkitError(f"{want}. Got {value!r} instead: {exc}.") from None
    if back.date() != sample.date():
        raise ToolkitError(f"{want}. Got {value!r} instead: 2025-01-14 written with it reads back as {back.date()}.")
    return value

_MDY_RE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})\s+(\d{1,2}):(\d{2})(?::(\d{2}))?$")
# A trailing ".0" appears when a spreadsheet or pandas wrote the epoch as a float.
_EPOCH_RE = re.compile(r"^(\d{9,10}|\d{12,13})(?:\.0*)?$")
_ISO_RE = re.compile(
    r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?(?:Z|[+-]\d{2}:?\d{2})?$"
)


MIN_TIME, MAX_TIME = pd.Timestamp.min.ceil("D"), pd.Timestamp.max.floor("D")


def _from_epoch(number: float, original: Any, forms: str = EXPECTED) -> pd.Timestamp:
    """Read an epoch number by its digit count: 12-13 digits are ms, 9-10 are s."""
    if number.is_integer():
        digits = len(str(int(abs(number))))
        if digits in (12, 13):
            return pd.Timestamp(int(number), unit="ms")
        if digits in (9, 10):
            return pd.Timestamp(int(number), unit="s")
    raise ValueError(f"Expected {forms}. Got the number {original!r} instead.")


def parse_time(text: Any, date_format: str | None = None) -> pd.Timestamp:
    """Parse one post time.

    Args:
        text: the cell as read from the CSV, or an int/float epoch.
        date_format: ``data.date_format`` (see the module docstring); None reads slash dates month-first.

    Returns:
        A naive :class:`pandas.Timestamp`.

    Raises:
        ValueError: the value is empty, in none of the accepted forms (the
            message lists them), or outside the dates pandas can hold.
    """
    stamp = _parse_time(text, date_format)
    # pandas keeps post times in nanoseconds: 1677-09-21 to 2262-04-11. A date
    # outside that (a typo such as 9999) is a bad value, not a crash later on.
    if not MIN_TIME <= stamp <= MAX_TIME:
        raise ValueError(f"Expected {expected(date_format)}. Got {text!r} instead: outside the supported dates "
                         f"{MIN_TIME:%Y-%m-%d} to {MAX_TIME:%Y-%m-%d}.")
    return stamp


def _parse_time(text: Any, date_format: str | None = None) -> pd.Timestamp:
    """parse_time without the range check."""
    forms = expected(date_format)
    if isinstance(text, (bool, np.bool_)):
        raise ValueError(f"Expected {forms}. Got the boolean {text!r} instead.")
    if isinstance(text, (int, float, np.integer, np.floating)):
        number = float(text)
        if math.isnan(number) or math.isinf(number):
            raise ValueError(f"Expected {forms}. Got an empty value instead.")
        return _from_epoch(number, text, forms)
    if text is None:
        raise ValueError(f"Expected {forms}. Got an empty value instead.")
    if not isinstance(text, str):
        raise ValueError(f"Expected {forms}. Got a {type(text).__name__} ({text!r}) instead.")
    stripped = text.strip()
    if not stripped:
        raise ValueError(f"Expected {forms}. Got an empty value instead.")
    try:
        stamp = _written_date(stripped, date_format)
        if stamp is not None:
            return stamp
        if _EPOCH_RE.match(stripped):
            return _from_epoch(float(stripped), text, forms)
        if _ISO_RE.match(stripped):
            stamp = pd.Timestamp(stripped)
            if stamp.tzinfo is not None:
                stamp = stamp.tz_convert("UTC").tz_localize(None)
            return stamp
    except (ValueError, OverflowError) as exc:  # OutOfBoundsDatetime is a ValueError
        raise ValueError(f"Expected {forms}. Got {text!r} instead ({exc}).") from None
    raise ValueError(f"Expected {forms}. Got {text!r} instead.")


def _written_date(text: str, date_format: str | None) -> pd.Timestamp | None:
    """``text`` read in the slash form (in the declared order) or the declared pattern; None if not in it."""
    if date_format not in (None, *DATE_ORDERS):
        try:
            return pd.Timestamp(dt.datetime.strptime(text, date_format))
        except ValueError:
            return None  # not in the pattern: epoch and ISO may still read it
    match = _MDY_RE.match(text)
    if not match:
        return None
    first, second, year, hour, minute, sec = match.groups()
    month, day = (second, first) if date_format == "day_first" else (first, second)
    # The Timestamp constructor rejects 2/30 or hour 25 with its own ValueError,
    # which the caller turns into our message.
    return pd.Timestamp(int(year), int(month), int(day), int(hour), int(minute), int(sec or 0))


def _parse_each(values: pd.Series, date_format: str | None = None) -> tuple[pd.Series, np.ndarray]:
    """The slow path: parse each distinct value with :func:`parse_time`."""
    cache: dict[Any, Any] = {}
    out = []
    for value in values:
        key = value if not (isinstance(value, float) and math.isnan(value)) else None
        if key not in cache:
            try:
                cache[key] = parse_time(value, date_format)
            except ValueError:
                cache[key] = pd.NaT
        out.append(cache[key])
    parsed = pd.to_datetime(pd.Series(out, index=values.index, dtype=object))
    return parsed, parsed.isna().to_numpy()


def parse_times(values: Iterable[Any], date_format: str | None = None) -> tuple[pd.Series, np.ndarray]:
    """Parse a column of post times.

    The crawl's ``M/D/YYYY H:MM`` (or the form ``date_format`` declares) goes
    through one vectorized :func:`pandas.to_datetime` call with an explicit
    format; only what that misses is parsed value by value, so the common case
    stays fast.

    Args:
        values: a pandas Series, list or array of cells.
        date_format: ``data.date_format``, as in :func:`parse_time`.

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
        parsed, bad = _parse_each(series.astype(object), date_format)
        return parsed.astype("datetime64[ns]"), bad
    # Parse each distinct string once: posts made in the same minute share a time.
    codes, uniques = pd.factorize(series.astype(object), use_na_sentinel=True)
    uniques = pd.Series(uniques, dtype=object)
    parsed = pd.Series(pd.NaT, index=uniques.index, dtype="datetime64[ns]")
    remaining = np.ones(len(uniques), dtype=bool)
    for fmt in _SLASH_FORMATS.get(date_format or "month_first", (date_format,)):
        if not remaining.any():
            break
        where = np.flatnonzero(remaining)
        # Only strings go to the fast path; stray numbers fall through to parse_time.
        try:
            fast = pd.to_datetime(uniques.iloc[where].where(uniques.iloc[where].map(type) == str),
                                  format=fmt, errors="coerce")
        except ValueError:  # a directive pandas does not take: the per-value path reads it with strptime
            break
        # pandas returns microseconds for dates past 2262; those go to parse_time, which explains them.
        hit = (fast.notna() & (fast >= MIN_TIME) & (fast <= MAX_TIME)).to_numpy()
        parsed.iloc[where[hit]] = fast[hit].astype("datetime64[ns]").to_numpy()
        remaining[where[hit]] = False
    if remaining.any():
        # Whitespace, epochs, ISO and the values that are simply bad end up here.
        slow, _ = _parse_each(uniques[remaining], date_format)
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


_SLASH_DATE_RE = r"^\s*(\d{1,2})/(\d{1,2})/\d{2,4}(?:\s|$)"
#: rows quoted by name in a date-order message
SHOWN_ROWS = 3


@dataclass
class _Rows:
    """Rows of one kind: how many, and the first few as ``(line, value)``."""

    count: int = 0
    first: list = field(default_factory=list)

    def add(self, lines: np.ndarray, values: np.ndarray) -> None:
        self.count += len(lines)
        for line, value in zip(lines[: SHOWN_ROWS - len(self.first)], values):
            self.first.append((int(line), value))

    def quoted(self) -> str:
        shown = ", ".join(f"line {line} {str(value)[:40]!r}" for line, value in self.first)
        more = self.count - len(self.first)
        return shown + (f" and {more:,} more row{'s' if more > 1 else ''}" if more else "")


@dataclass
class DateOrderCheck:
    """Which order the slash dates of a column allow, gathered chunk by chunk over the whole file.

    A date whose first field is 13-31 and second 1-12 can only be day-first; the reverse only
    month-first; both fields 1-12 (and different) read validly either way. Used when
    ``data.date_format`` is not set (see the module docstring for what is decided).
    """

    day_only: _Rows = field(default_factory=_Rows)
    month_only: _Rows = field(default_factory=_Rows)
    either: _Rows = field(default_factory=_Rows)

    def add(self, values: pd.Series, lines: np.ndarray) -> None:
        """Look at one chunk's raw cells; ``lines`` are their line numbers in the file."""
        codes, uniques = pd.factorize(pd.Series(values, dtype=object), use_na_sentinel=True)
        if len(uniques) == 0:
            return
        fields = pd.Series(uniques, dtype=object).astype(str).str.extract(_SLASH_DATE_RE)
        first = pd.to_numeric(fields[0], errors="coerce").to_numpy()
        second = pd.to_numeric(fields[1], errors="coerce").to_numpy()
        with np.errstate(invalid="ignore"):
            small_first, small_second = (first >= 1) & (first <= 12), (second >= 1) & (second <= 12)
            kinds = [(self.day_only, (first > 12) & (first <= 31) & small_second),
                     (self.month_only, (second > 12) & (second <= 31) & small_first),
                     (self.either, small_first & small_second & (first != second))]
        cells = np.asarray(values, dtype=object)
        for rows, by_unique in kinds:
            hit = np.append(by_unique, False)[codes]  # code -1 (a missing cell) is no date
            if hit.any():
                rows.add(np.asarray(lines)[hit], cells[hit])

    def refusal(self, where: str, column: str) -> str | None:
        """The message refusing the file when some dates can only be day-first; None when none can."""
        if not self.day_only.count:
            return None
        text = (f"{where}: the dates in column {column!r} are not all month-first: {self.day_only.quoted()} can "
                "only be day/month/year (there is no month 13 or above)")
        if self.month_only.count:
            text += f", while {self.month_only.quoted()} can only be month/day/year"
        return (text + ". Read month-first, the default, the day-first rows would be bad rows and every day 1-12 "
                "silently read as a month. Expected one order for the file: set data.date_format: day_first "
                "(D/M/YYYY H:MM), month_first (M/D/YYYY H:MM, the crawl's order) or a strptime pattern such as "
                "'%d/%m/%Y %H:%M'; rows that do not fit the order chosen are then bad rows (data.on_bad_rows).")

    def warning(self, column: str) -> str | None:
        """A note when every slash date reads validly both ways and they were read month-first."""
        if self.day_only.count or self.month_only.count or not self.either.count:
            return None
        return (f"the slash dates in column {column!r} all have both fields 12 or less, so each reads as a valid "
                f"date month-first and day-first (these read differently: {self.either.quoted()}); they were read "
                "month-first (M/D/YYYY, the crawl's order). If the file writes the day first, set data.date_format: "
                "day_first; data.date_format: month_first says the order is known and silences this.")
