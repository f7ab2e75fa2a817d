"""Load a posts CSV into the canonical posts frame (see :mod:`toolkit.data.schema`).

The file is read with the :mod:`csv` module rather than :func:`pandas.read_csv`
because a bad row must be reported by the physical line where its record
starts, and quoted content spans several lines; ``csv.reader.line_num`` tracks
exactly that. The file is streamed and its values parsed column-wise a chunk
of records at a time, which keeps 100k rows at about a second and a 1 GB file
within a few times its size in memory.
"""

from __future__ import annotations

import csv
import io
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from toolkit.data.counts import parse_count, parse_counts
from toolkit.data.schema import COUNT_COLUMNS, DEFAULT_COLUMNS, LOWER_BOUND_COLUMNS, REQUIRED_COLUMNS
from toolkit.data.times import DateOrderCheck, check_date_format, parse_time, parse_times
from toolkit.errors import ToolkitError
from toolkit.progress import counter_for
from toolkit.safe_io import open_regular
from toolkit.sanitize import strip_controls

ON_BAD_ROWS = ("error", "skip")
TEXT_COLUMNS = ("user_name", "title", "content", "hashtags", "ip_location")
#: records parsed at a time (see :class:`_RecordStream`)
CHUNK_ROWS = 100_000
#: bad rows a skip report quotes, and header names a missing-column message shows
SHOWN_ROWS, SHOWN_COLUMNS = 3, 20  # 20: a whole crawl header (15 columns) still shows


class DataWarning(UserWarning):
    """Something about the rows the user must know before reading any result: rows skipped, ids merged, dates doubted."""


@dataclass
class LoadReport:
    """What :func:`load_posts` read, kept and dropped."""

    path: Path
    #: data records in the file (the header and blank lines not counted)
    rows_read: int = 0
    #: rows in the returned frame
    rows_kept: int = 0
    #: rows dropped because a value could not be parsed (``on_bad_rows: skip``)
    rows_skipped: int = 0
    #: reason -> rows; each skipped row counts once, under its first bad column
    skip_reasons: dict[str, int] = field(default_factory=dict)
    #: rows dropped because their post_id repeated an earlier row's
    duplicates_dropped: int = 0
    #: the first skipped rows, in file order: ``line 5: create_time '14/01/2025 9:46' (unparseable create_time)``
    skipped_first: list[str] = field(default_factory=list)
    #: what the loader doubts about rows it kept (user ids merged by whitespace, an ambiguous date order)
    warnings: list[str] = field(default_factory=list)

    def skip_text(self) -> str:
        """``skipped 2 of 120 rows (...): 2 unparseable create_time; first: line 5: ...``."""
        reasons = ", ".join(f"{n:,} {r}" for r, n in sorted(self.skip_reasons.items()))
        return (f"skipped {self.rows_skipped:,} of {self.rows_read:,} rows (data.on_bad_rows: skip): {reasons}; "
                f"first: {'; '.join(self.skipped_first)}")

    def summary(self) -> str:
        """One line for logs: ``posts.csv: read 120, kept 117, skipped 2 (...), 1 duplicate``, then any warnings."""
        text = f"{self.path}: read {self.rows_read} rows, kept {self.rows_kept}"
        if self.rows_skipped:
            reasons = ", ".join(f"{n} {r}" for r, n in sorted(self.skip_reasons.items()))
            text += f", skipped {self.rows_skipped} ({reasons}; first: {'; '.join(self.skipped_first)})"
        if self.duplicates_dropped:
            text += f", dropped {self.duplicates_dropped} duplicate post_id"
        return text + "".join(f"; warning: {w}" for w in self.warnings)


def _check_file(path: Path) -> None:
    """Refuse a path that is not a regular file (a FIFO would hang the reader), saying what it is."""
    try:
        open_regular(path, "a posts CSV").close()
    except ToolkitError as exc:  # its messages start with the path
        raise ToolkitError(f"Data file {exc}") from None


def _not_utf8(path: Path) -> ToolkitError:
    """The message for a file that is not UTF-8, naming the first bad byte and its line.

    Only called once streaming has hit a bad byte, so reading the whole file again here costs
    nothing on the normal path.
    """
    data = path.read_bytes()
    try:
        data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        return ToolkitError(
            f"Data file {path} is not valid UTF-8: expected UTF-8 text (with or without a BOM), "
            f"found byte 0x{data[exc.start]:02x} at byte offset {exc.start} (line {line}). "
            "Re-save the file as UTF-8."
        )
    return ToolkitError(f"Data file {path} could not be decoded as UTF-8; re-save the file as UTF-8.")


def column_mapping(columns: dict[str, str] | None) -> dict[str, str]:
    """Canonical column -> the file's column: the defaults with ``data.columns`` merged over them."""
    mapping = dict(DEFAULT_COLUMNS)
    for canonical, file_column in (columns or {}).items():
        if canonical not in DEFAULT_COLUMNS:
            raise ToolkitError(
                f"Unknown posts column {canonical!r} in data.columns. "
                f"Expected one of: {', '.join(DEFAULT_COLUMNS)}."
            )
        if not isinstance(file_column, str) or not file_column:
            raise ToolkitError(
                f"data.columns.{canonical} must be a column name (a non-empty string). Got {file_column!r} instead."
            )
        mapping[canonical] = file_column
    return mapping


def check_delimiter(value: object, where: str = "data.delimiter") -> str:
    """``value`` if it can separate the fields of a CSV, else a ToolkitError saying what was expected."""
    if not isinstance(value, str) or len(value) != 1 or value.isalnum() or value in "\"\r\n":
        raise ToolkitError(f"{where} must be one character that separates the fields (',', ';', '|' or a tab "
                           f"written \"\\t\"), not a letter, digit, quote or line break. Got {value!r} instead.")
    return value


def load_posts(
    path: str | Path, *, columns: dict[str, str] | None = None, on_bad_rows: str = "error",
    timezone: str | None = None, date_format: str | None = None, delimiter: str = ",",
) -> tuple[pd.DataFrame, LoadReport]:
    """Read a posts CSV in the public crawl's format (or a mapped variant).

    Args:
        path: the CSV file; UTF-8 with or without a byte-order mark.
        columns: canonical column -> the file's column name, merged over
            :data:`~toolkit.data.schema.DEFAULT_COLUMNS` (``{"like_count": "liked_count"}``).
        on_bad_rows: ``"error"`` raises on the first row with a value that cannot
            be parsed; ``"skip"`` drops such rows and counts them in the report.
        date_format: ``data.date_format`` (``month_first``, ``day_first`` or a strptime
            pattern; see :mod:`toolkit.data.times`). None reads slash dates month-first
            and refuses a file where some can only be day-first.
        delimiter: ``data.delimiter``, the character between fields.

    Returns:
        ``(posts, report)``: the canonical posts frame and a :class:`LoadReport`.

    Raises:
        ToolkitError: the file is missing, not UTF-8 or empty; it lacks a
            required column or one named in ``columns``; its dates are day-first
            and ``date_format`` is not set (the message quotes the rows); or (with
            ``"error"``) a row is bad: the message names the file, the line where
            the record starts, the column and the value.

    Rows skipped (with the first reasons), ids merged by stripping spaces and slash dates
    that could be day-first are announced at once as a :class:`DataWarning` and kept in ``summary()``.

    With ``timezone`` (the spec's ``data.timezone``), naive times are read as
    that clock's and zoned or epoch times are converted to it
    (:func:`toolkit.data.clock.to_clock`); without, zoned times stay in UTC.
    """
    path = Path(path)
    _check_options(on_bad_rows, date_format, delimiter)
    mapping = column_mapping(columns)
    bad: list[tuple] = []
    parts = []
    dates = DateOrderCheck() if date_format is None else None
    with _RecordStream(path, delimiter) as stream:
        position = _column_positions(path, stream.header, mapping, columns, delimiter)
        for rows, lines, numbers in stream.chunks(CHUNK_ROWS):
            raw = _RawColumns(stream.header, rows, lines, position, mapping, bad)
            del rows  # the chunk's raw strings live on in raw.frame only until it is parsed
            if dates is not None:
                dates.add(raw.get("create_time"), raw.line_numbers)
            parts.append(_chunk_frame(_parse_columns(raw, timezone, date_format), numbers, raw.row_bad))
    bad.extend(stream.bad)
    report = LoadReport(path=path, rows_read=stream.records)
    if report.rows_read == 0:
        raise ToolkitError(f"Data file {path} has a header but no data rows: expected at least one post.")
    if dates is not None:  # before bad rows: under skip, the day-first rows would only be counted
        _check_date_order(dates, path, mapping["create_time"], report)
    _handle_bad(path, bad, on_bad_rows, report)
    posts = _canonical_frame(parts, report)
    _announce(report)
    return posts, report


def _check_options(on_bad_rows: str, date_format: str | None, delimiter: str) -> None:
    if on_bad_rows not in ON_BAD_ROWS:
        raise ToolkitError(f"data.on_bad_rows must be one of 'error', 'skip'. Got {on_bad_rows!r} instead.")
    check_date_format(date_format)
    check_delimiter(delimiter)


def _check_date_order(dates: DateOrderCheck, path: Path, column: str, report: LoadReport) -> None:
    """Refuse dates that can only be day-first; note dates that read both ways."""
    refusal = dates.refusal(f"Data file {path}", column)
    if refusal:
        raise ToolkitError(refusal)
    note = dates.warning(column)
    if note:
        report.warnings.append(note)


def _announce(report: LoadReport) -> None:
    """Say at once what loading dropped or doubts, skipped rows first, before anything built on the rows is shown.

    A warning rather than a log line because every caller (run, validate, predict, eda, the API)
    reaches the user through it, with or without a progress display.
    """
    for note in ([report.skip_text()] if report.rows_skipped else []) + report.warnings:
        text = f"{report.path}: {note}"
        if text not in _ANNOUNCED:  # a command that reads the file twice (validate's chart) says it once
            _ANNOUNCED.add(text)
            warnings.warn(text, DataWarning, stacklevel=3)


_ANNOUNCED: set[str] = set()


def _column_positions(path: Path, header: list[str], mapping: dict[str, str],
                      columns: dict[str, str] | None, delimiter: str = ",") -> dict[str, int]:
    """The file's column name -> its index (a repeated name: the first), once the needed columns are found.

    Required columns must be there; so must any the user mapped by hand, since
    a typo there would otherwise silently load as an all-empty column. The message
    shows a bounded view of the header (see :func:`header_text`), never all of it.
    """
    position: dict[str, int] = {}
    for i, name in enumerate(header):
        position.setdefault(name, i)
    for canonical in (*REQUIRED_COLUMNS, *(columns or {})):
        if mapping[canonical] not in position:
            hint = (f"If the file names it differently, map it in the spec: data.columns: "
                    f"{{{canonical}: <file column>}}." if canonical in REQUIRED_COLUMNS
                    else "Fix data.columns or drop the entry.")
            hint = "" if _has_controls(header) else _delimiter_hint(header, delimiter) or hint
            raise ToolkitError(f"Data file {path} has no column for {canonical!r}: looked for the column "
                               f"{mapping[canonical]!r}, found {header_text(header)}. {hint}".rstrip())
    return position


def header_text(header: list[str]) -> str:
    """At most :data:`SHOWN_COLUMNS` names, each cut to 40 characters, and the header's size.

    A file that is not a CSV (a binary file, ``/proc/self/environ``) has control characters
    in its first line: then no name is shown, since its "names" are that file's contents.
    """
    if _has_controls(header):
        return (f"a first line of {len(header):,} field(s) holding control characters (not shown), which is not a "
                "CSV header; expected a UTF-8 text file whose first line names the columns")
    shown = [repr(name if len(name) <= 40 else name[:39] + "…") for name in header[:SHOWN_COLUMNS]]
    more = len(header) - len(shown)
    return f"{len(header):,} column(s): {', '.join(shown)}" + (f" and {more:,} more" if more > 0 else "")


def _has_controls(header: list[str]) -> bool:
    """Whether a header name holds a control character other than a tab (a tab may be the real delimiter)."""
    return any(strip_controls(name, "") != name for name in (n.replace("\t", "") for n in header))


def _delimiter_hint(header: list[str], delimiter: str) -> str | None:
    """The fix when the header splits on another character than ``delimiter`` (``a;b;c`` read as one column)."""
    text = "".join(header)
    counts = {c: text.count(c) for c in (";", "\t", "|") if c != delimiter}
    best = max(counts, key=counts.get)
    if counts[best] == 0 or counts[best] < len(header) - 1:
        return None
    shown = {";": "';'", "\t": '"\\t" (a tab)', "|": "'|'"}[best]
    return (f"The file seems to be separated by {shown}, not {delimiter!r}; set data.delimiter: "
            f"{shown.split(' ')[0]} in the spec.")


class _RawColumns:
    """The records' raw strings by canonical column, and which rows went bad while parsing them.

    Columns are taken by position, not name: a header may repeat a name, and the first one wins.
    """

    def __init__(self, header: list[str], rows: list[list[str]], lines: list[int], position: dict[str, int],
                 mapping: dict[str, str], bad: list[tuple]):
        self.frame = pd.DataFrame(rows, columns=range(len(header)), dtype=object)
        self.line_numbers = np.asarray(lines, dtype=np.int64)
        self.position, self.mapping, self.bad = position, mapping, bad
        self.n = len(self.frame)
        self.row_bad = np.zeros(self.n, dtype=bool)

    def has(self, canonical: str) -> bool:
        return self.mapping[canonical] in self.position

    def get(self, canonical: str) -> pd.Series:
        return self.frame[self.position[self.mapping[canonical]]]

    def mark(self, mask: np.ndarray, reason: str, canonical: str, parser) -> None:
        """Record the rows that went bad for this column (first reason wins).

        The parser goes along so that only the reported row is parsed again
        for its message; skipping many rows then costs nothing extra.
        """
        column = self.get(canonical)
        for i in np.flatnonzero(mask & ~self.row_bad):
            self.bad.append((int(self.line_numbers[i]), reason, self.mapping[canonical], column.iat[i], parser))
        self.row_bad[:] |= mask


def _parse_columns(raw: _RawColumns, timezone: str | None, date_format: str | None = None) -> dict[str, object]:
    """Canonical column -> parsed values (row order kept); unparseable values are marked on ``raw``."""
    n = raw.n
    out: dict[str, object] = {}
    out["post_id"] = raw.get("post_id").str.strip() if raw.has("post_id") else pd.Series([""] * n, dtype=object)
    written = raw.get("user_id")
    user_id = written.str.strip()
    raw.mark((user_id == "").to_numpy(), "empty user_id", "user_id", None)
    out["user_id"] = user_id
    # kept only where spaces were stripped, for the merge report (see _whitespace_merges)
    out[_WRITTEN_ID] = written.where(written != user_id)
    for canonical in TEXT_COLUMNS:
        out[canonical] = raw.get(canonical) if raw.has(canonical) else pd.Series([""] * n, dtype=object)
    for canonical in COUNT_COLUMNS:
        if raw.has(canonical):
            values, flags = parse_counts(raw.get(canonical), errors="coerce")
            raw.mark(np.isnan(values), f"unparseable {canonical}", canonical, parse_count)
        else:
            values, flags = np.zeros(n), np.zeros(n, dtype=bool)
        out[canonical], out[LOWER_BOUND_COLUMNS[canonical]] = values, flags
    times, time_bad = parse_times(raw.get("create_time").reset_index(drop=True), date_format)
    parser = parse_time if date_format is None else (lambda value: parse_time(value, date_format))
    raw.mark(time_bad, "unparseable create_time", "create_time", parser)
    if timezone is not None:
        from toolkit.data.clock import to_clock

        times = to_clock(times, raw.get("create_time"), timezone)
    out["create_time"] = times.to_numpy()
    out["post_type"] = raw.get("post_type").str.strip().str.lower() if raw.has("post_type") else [""] * n
    return out


def _chunk_frame(out: dict[str, object], numbers: list[int], row_bad: np.ndarray) -> pd.DataFrame:
    """One chunk's posts: generated ids filled in where post_id is empty, bad rows dropped."""
    posts = pd.DataFrame(out)
    empty = np.flatnonzero((posts["post_id"] == "").to_numpy())
    if len(empty):
        # Rows count from 1 in file order, so generated ids stay stable when rows are skipped.
        posts.loc[empty, "post_id"] = [f"row-{numbers[i]}" for i in empty]
    return posts[~row_bad]


def _canonical_frame(parts: list[pd.DataFrame], report: LoadReport) -> pd.DataFrame:
    """The posts frame: the chunks in file order, repeated post_ids dropped, columns in order."""
    posts = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0].reset_index(drop=True)
    parts.clear()  # the chunks' columns are copied into posts: let them go before the dedupe copies again
    duplicated = posts["post_id"].duplicated(keep="first").to_numpy()
    report.duplicates_dropped = int(duplicated.sum())
    if report.duplicates_dropped:
        posts = posts[~duplicated].reset_index(drop=True)
    report.rows_kept = len(posts)
    merged = _whitespace_merges(posts["user_id"], posts[_WRITTEN_ID])
    if merged:
        report.warnings.append(merged)
    order = ["post_id", "user_id", "user_name", "title", "content", "hashtags", *COUNT_COLUMNS,
             *LOWER_BOUND_COLUMNS.values(), "create_time", "post_type", "ip_location"]
    return posts[order]


_WRITTEN_ID = "_user_id_as_written"


def _whitespace_merges(user_id: pd.Series, written: pd.Series) -> str | None:
    """A warning when ids that differ only in surrounding spaces (``u1``, ``u1 ``) became one user; else None.

    ``written`` holds the id as in the file where stripping changed it, NaN elsewhere. The
    ids are stripped because a spreadsheet's padding is not a different account; the warning
    says so, since two people whose ids differ only in spaces would be merged.
    """
    padded = written.notna().to_numpy()
    if not padded.any():
        return None
    rows = user_id.isin(user_id[padded].unique()).to_numpy()
    forms = pd.DataFrame({"id": user_id[rows], "form": written[rows].fillna(user_id[rows])})
    kinds = forms.groupby("id", sort=False)["form"].nunique()
    merged = kinds[kinds > 1]
    if merged.empty:
        return None
    example = sorted(forms.loc[forms["id"] == merged.index[0], "form"].unique())[:3]
    shown = " and ".join(repr(strip_controls(str(e), "?")[:40]) for e in example)
    return (f"user_id: {len(merged):,} id(s) are written in forms that differ only in surrounding spaces (e.g. "
            f"{shown}); the spaces are stripped, so each such id is read as one user. If they are different "
            "people, fix the ids in the file.")


MAX_FIELD_BYTES = 16 << 20


class _RecordStream:
    """The file's records, streamed: the header, then chunks of records with as many fields as it.

    Streaming keeps memory to one chunk's raw strings plus what has been parsed, rather than the
    whole text and every record at once (a 1 GB crawl held about 10 GB that way). ``bad`` collects
    the malformed records as ``(line, reason, column, value, detail)``; ``records`` counts every
    data record, malformed ones included. Use as a context manager: the csv module's field size
    limit is raised while the file is open and restored after.
    """

    def __init__(self, path: Path, delimiter: str = ","):
        _check_file(path)
        self.path = path
        self.delimiter = delimiter
        self.bad: list[tuple] = []
        self.records = 0
        self.last_line = 0  # the physical line the previous record ended on
        self.last_start = 0  # the line the last well-formed record started on

    def __enter__(self) -> "_RecordStream":
        self.previous_limit = csv.field_size_limit(MAX_FIELD_BYTES)  # the default, 128 KiB, is less than some posts
        # utf-8-sig drops a leading byte-order mark and reads plain UTF-8 too.
        self.file = io.TextIOWrapper(open_regular(self.path, "a posts CSV"), encoding="utf-8-sig", newline="")
        try:
            self.reader = csv.reader(self.file, delimiter=self.delimiter)
            self.header = self._read_header()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.file.close()
        csv.field_size_limit(self.previous_limit)

    def _read_header(self) -> list[str]:
        header = next(self._records(), None)
        if header is None:
            raise ToolkitError(f"Data file {self.path} is empty: expected a header row naming the columns.")
        return [name.strip() for name in header[1]]

    def _records(self):
        """``(start line, fields)`` per record, blank lines skipped; csv and decoding errors as ToolkitError."""
        try:
            for record in self.reader:
                # line_num counts physical lines consumed so far, so a record starts one
                # line after the previous record ended, however many lines it spans.
                start, self.last_line = self.last_line + 1, self.reader.line_num
                if record:
                    yield start, record
        except csv.Error as exc:
            raise ToolkitError(_csv_error(self.path, self.last_line + 1, exc)) from None
        except UnicodeDecodeError:
            raise _not_utf8(self.path) from None

    def chunks(self, size: int):
        """Yield ``(rows, lines, numbers)`` of at most ``size`` well-formed records: their fields, the
        1-based line each starts on (the header is line 1), and each one's record number (1 = the
        first data record, counting malformed ones)."""
        width = len(self.header)
        # A bar only for big files (about 1 KB a post): rows counted as they are read, with their rate.
        progress = counter_for("load rows", None) if self.path.stat().st_size > 5_000_000 else None
        rows, lines, numbers = [], [], []
        for start, record in self._records():
            self.records += 1
            if len(record) != width:
                self.bad.append((start, "wrong number of fields", None, None,
                                 f"expected {width} fields as in the header, found {len(record)}"))
                continue
            rows.append(record)
            lines.append(start)
            numbers.append(self.records)
            self.last_start = start
            if progress is not None and self.records % 20_000 == 0:
                progress(20_000)
            if len(rows) == size:
                yield rows, lines, numbers
                rows, lines, numbers = [], [], []
        if rows:
            yield rows, lines, numbers
        _check_quotes_closed(self.path, self.last_start or self.last_line, self.delimiter)


def _check_quotes_closed(path: Path, last_start: int, delimiter: str = ",") -> None:
    """The lenient reader takes a quote left open at the end of the file as closed; refuse that.

    Closed quotes come in pairs, so only a file with an odd number of them is
    read again, strictly, to tell an open quote from a stray one (``5" screen``).
    Counting the quote byte needs no decoding: it never occurs inside a UTF-8 multi-byte sequence.
    """
    quotes = 0
    with open_regular(path, "a posts CSV") as raw:
        while block := raw.read(1 << 24):
            quotes += block.count(b'"')
    if quotes % 2 == 0:
        return
    try:
        with open(path, encoding="utf-8-sig", newline="") as file:
            for _ in csv.reader(file, strict=True, delimiter=delimiter):
                pass
    except csv.Error as exc:
        if "unexpected end of data" in str(exc):
            raise ToolkitError(f"Data file {path}, line {last_start}: not a valid CSV (a quoted field opened in the "
                               "last record is never closed); expected each quoted field to be closed by a matching "
                               "quote.") from None


def _csv_error(path: Path, line: int, exc: csv.Error) -> str:
    """One line that says what the csv module found, without guessing a cause it did not see."""
    if "field larger than field limit" in str(exc):
        return (f"Data file {path}, line {line}: a field is longer than {MAX_FIELD_BYTES // (1 << 20)} MiB, the "
                "largest the loader reads; if no post is that long, a quote opened on that line is never closed.")
    return (f"Data file {path}, line {line}: not a valid CSV ({exc}); expected each quoted "
            "field to be closed by a matching quote.")


def _handle_bad(path: Path, bad: list, on_bad_rows: str, report: LoadReport) -> None:
    """Raise for the earliest bad row, or count every bad row as skipped.

    ``bad`` holds ``(line, reason, column, value, detail)``; ``detail`` is a
    message, or the parser whose ValueError explains the value.
    """
    if not bad:
        return
    if on_bad_rows == "error":
        line, reason, column, value, detail = min(bad, key=lambda b: b[0])
        if callable(detail):
            try:
                detail(value)
                detail = ""
            except ValueError as exc:
                detail = str(exc)
        detail = detail or ""
        where = f"Data file {path}, line {line}"
        if column is None:
            problem = f"{reason}: {detail}"
        else:
            problem = f"column {column!r}: cannot use the value {value!r} ({reason})"
            if detail:
                problem += ". " + detail.rstrip(".")
        raise ToolkitError(
            f"{where}, {problem}. Fix the row, or set `data.on_bad_rows: skip` to drop bad rows "
            "and count them in the load report."
        )
    for _, reason, *_ in bad:
        report.skip_reasons[reason] = report.skip_reasons.get(reason, 0) + 1
    report.rows_skipped = len(bad)
    report.skipped_first = [_skipped_row(*row) for row in sorted(bad, key=lambda b: b[0])[:SHOWN_ROWS]]
    if report.rows_skipped == report.rows_read:
        common = max(report.skip_reasons, key=report.skip_reasons.get)
        raise ToolkitError(
            f"Data file {path}: all {report.rows_read} rows are bad (most often: {common}). "
            "Expected at least one row with a user_id and parseable counts and create_time; "
            "check the file format or data.columns."
        )


def _skipped_row(line: int, reason: str, column: str | None, value, detail) -> str:
    """``line 5: create_time '14/01/2025 9:46' (unparseable create_time)``, the value cut to 40 characters."""
    if column is None:
        return f"line {line}: {reason}" + (f" ({detail})" if isinstance(detail, str) and detail else "")
    return f"line {line}: {column} {strip_controls(str(value), '?')[:40]!r} ({reason})"
