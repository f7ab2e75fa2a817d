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
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from toolkit.data.counts import parse_count, parse_counts
from toolkit.data.schema import COUNT_COLUMNS, DEFAULT_COLUMNS, LOWER_BOUND_COLUMNS, REQUIRED_COLUMNS
from toolkit.data.times import parse_time, parse_times
from toolkit.errors import ToolkitError
from toolkit.progress import counter_for

ON_BAD_ROWS = ("error", "skip")
TEXT_COLUMNS = ("user_name", "title", "content", "hashtags", "ip_location")
#: records parsed at a time (see :class:`_RecordStream`)
CHUNK_ROWS = 100_000


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

    def summary(self) -> str:
        """One line for logs: ``posts.csv: read 120, kept 117, skipped 2 (...), 1 duplicate``."""
        text = f"{self.path}: read {self.rows_read} rows, kept {self.rows_kept}"
        if self.rows_skipped:
            reasons = ", ".join(f"{n} {r}" for r, n in sorted(self.skip_reasons.items()))
            text += f", skipped {self.rows_skipped} ({reasons})"
        if self.duplicates_dropped:
            text += f", dropped {self.duplicates_dropped} duplicate post_id"
        return text


def _check_file(path: Path) -> None:
    if not path.is_file():
        what = "is a directory, not a file" if path.is_dir() else "does not exist"
        raise ToolkitError(f"Data file {path} not found: the path {what}. Expected a posts CSV.")


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


def load_posts(
    path: str | Path, *, columns: dict[str, str] | None = None, on_bad_rows: str = "error",
    timezone: str | None = None,
) -> tuple[pd.DataFrame, LoadReport]:
    """Read a posts CSV in the public crawl's format (or a mapped variant).

    Args:
        path: the CSV file; UTF-8 with or without a byte-order mark.
        columns: canonical column -> the file's column name, merged over
            :data:`~toolkit.data.schema.DEFAULT_COLUMNS` (``{"like_count": "liked_count"}``).
        on_bad_rows: ``"error"`` raises on the first row with a value that cannot
            be parsed; ``"skip"`` drops such rows and counts them in the report.

    Returns:
        ``(posts, report)``: the canonical posts frame and a :class:`LoadReport`.

    Raises:
        ToolkitError: the file is missing, not UTF-8 or empty; it lacks a
            required column or one named in ``columns``; or (with ``"error"``)
            a row is bad: the message names the file, the line where the
            record starts, the column and the value.

    With ``timezone`` (the spec's ``data.timezone``), naive times are read as
    that clock's and zoned or epoch times are converted to it
    (:func:`toolkit.data.clock.to_clock`); without, zoned times stay in UTC.
    """
    path = Path(path)
    if on_bad_rows not in ON_BAD_ROWS:
        raise ToolkitError(f"data.on_bad_rows must be one of 'error', 'skip'. Got {on_bad_rows!r} instead.")
    mapping = column_mapping(columns)
    bad: list[tuple] = []
    parts = []
    with _RecordStream(path) as stream:
        position = _column_positions(path, stream.header, mapping, columns)
        for rows, lines, numbers in stream.chunks(CHUNK_ROWS):
            raw = _RawColumns(stream.header, rows, lines, position, mapping, bad)
            del rows  # the chunk's raw strings live on in raw.frame only until it is parsed
            parts.append(_chunk_frame(_parse_columns(raw, timezone), numbers, raw.row_bad))
    bad.extend(stream.bad)
    report = LoadReport(path=path, rows_read=stream.records)
    if report.rows_read == 0:
        raise ToolkitError(f"Data file {path} has a header but no data rows: expected at least one post.")
    _handle_bad(path, bad, on_bad_rows, report)
    return _canonical_frame(parts, report), report


def _column_positions(path: Path, header: list[str], mapping: dict[str, str],
                      columns: dict[str, str] | None) -> dict[str, int]:
    """The file's column name -> its index (a repeated name: the first), once the needed columns are found.

    Required columns must be there; so must any the user mapped by hand, since
    a typo there would otherwise silently load as an all-empty column.
    """
    position: dict[str, int] = {}
    for i, name in enumerate(header):
        position.setdefault(name, i)
    for canonical in (*REQUIRED_COLUMNS, *(columns or {})):
        if mapping[canonical] not in position:
            hint = (f"If the file names it differently, map it in the spec: data.columns: "
                    f"{{{canonical}: <file column>}}." if canonical in REQUIRED_COLUMNS
                    else "Fix data.columns or drop the entry.")
            raise ToolkitError(
                f"Data file {path} has no column for {canonical!r}: looked for the column "
                f"{mapping[canonical]!r}, found columns {', '.join(map(repr, header))}. {hint}"
            )
    return position


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


def _parse_columns(raw: _RawColumns, timezone: str | None) -> dict[str, object]:
    """Canonical column -> parsed values (row order kept); unparseable values are marked on ``raw``."""
    n = raw.n
    out: dict[str, object] = {}
    out["post_id"] = raw.get("post_id").str.strip() if raw.has("post_id") else pd.Series([""] * n, dtype=object)
    user_id = raw.get("user_id").str.strip()
    raw.mark((user_id == "").to_numpy(), "empty user_id", "user_id", None)
    out["user_id"] = user_id
    for canonical in TEXT_COLUMNS:
        out[canonical] = raw.get(canonical) if raw.has(canonical) else pd.Series([""] * n, dtype=object)
    for canonical in COUNT_COLUMNS:
        if raw.has(canonical):
            values, flags = parse_counts(raw.get(canonical), errors="coerce")
            raw.mark(np.isnan(values), f"unparseable {canonical}", canonical, parse_count)
        else:
            values, flags = np.zeros(n), np.zeros(n, dtype=bool)
        out[canonical], out[LOWER_BOUND_COLUMNS[canonical]] = values, flags
    times, time_bad = parse_times(raw.get("create_time").reset_index(drop=True))
    raw.mark(time_bad, "unparseable create_time", "create_time", parse_time)
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
    order = ["post_id", "user_id", "user_name", "title", "content", "hashtags", *COUNT_COLUMNS,
             *LOWER_BOUND_COLUMNS.values(), "create_time", "post_type", "ip_location"]
    return posts[order]


MAX_FIELD_BYTES = 16 << 20


class _RecordStream:
    """The file's records, streamed: the header, then chunks of records with as many fields as it.

    Streaming keeps memory to one chunk's raw strings plus what has been parsed, rather than the
    whole text and every record at once (a 1 GB crawl held about 10 GB that way). ``bad`` collects
    the malformed records as ``(line, reason, column, value, detail)``; ``records`` counts every
    data record, malformed ones included. Use as a context manager: the csv module's field size
    limit is raised while the file is open and restored after.
    """

    def __init__(self, path: Path):
        _check_file(path)
        self.path = path
        self.bad: list[tuple] = []
        self.records = 0
        self.last_line = 0  # the physical line the previous record ended on
        self.last_start = 0  # the line the last well-formed record started on

    def __enter__(self) -> "_RecordStream":
        self.previous_limit = csv.field_size_limit(MAX_FIELD_BYTES)  # the default, 128 KiB, is less than some posts
        # utf-8-sig drops a leading byte-order mark and reads plain UTF-8 too.
        self.file = open(self.path, encoding="utf-8-sig", newline="")
        try:
            self.reader = csv.reader(self.file)
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
        _check_quotes_closed(self.path, self.last_start or self.last_line)


def _check_quotes_closed(path: Path, last_start: int) -> None:
    """The lenient reader takes a quote left open at the end of the file as closed; refuse that.

    Closed quotes come in pairs, so only a file with an odd number of them is
    read again, strictly, to tell an open quote from a stray one (``5" screen``).
    Counting the quote byte needs no decoding: it never occurs inside a UTF-8 multi-byte sequence.
    """
    quotes = 0
    with open(path, "rb") as raw:
        while block := raw.read(1 << 24):
            quotes += block.count(b'"')
    if quotes % 2 == 0:
        return
    try:
        with open(path, encoding="utf-8-sig", newline="") as file:
            for _ in csv.reader(file, strict=True):
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
    if report.rows_skipped == report.rows_read:
        common = max(report.skip_reasons, key=report.skip_reasons.get)
        raise ToolkitError(
            f"Data file {path}: all {report.rows_read} rows are bad (most often: {common}). "
            "Expected at least one row with a user_id and parseable counts and create_time; "
            "check the file format or data.columns."
        )
