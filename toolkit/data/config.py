"""The spec's ``data:`` block: a posts CSV, or synthetic data the toolkit makes itself."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from toolkit.data.clock import DEFAULT_TIMEZONE, parse_timezone
from toolkit.data.posts import check_delimiter, column_mapping
from toolkit.data.times import check_date_format
from toolkit.errors import ToolkitError
from toolkit.params import Interval

#: the most users ``data synth`` and ``data: {synthetic: ...}`` make. Generating holds every post
#: in memory: measured 1.10 GB at 100,000 users and 2.99 GB at 300,000 (about 9.4 KB a user), so
#: 1,500,000 users need about 14 GB, which fits the 24 GiB machine the README names with room to
#: spare; 5,000,000 would need about 47 GB.
MAX_SYNTHETIC_USERS = 1_500_000


@dataclass(kw_only=True)
class SyntheticConfig:
    """``data: {synthetic: {...}}``: data the toolkit generates (see ``toolkit data synth``)."""

    users: int = 3000
    seed: int = 0
    positive_rate: float = 0.1

    param_constraints = {"users": Interval(10, MAX_SYNTHETIC_USERS), "seed": Interval(0, 2**32 - 1),
                         "positive_rate": Interval(0, 1, closed_low=False, closed_high=False)}


@dataclass(kw_only=True)
class DataConfig:
    """``data: {path: posts.csv, columns: {...}, on_bad_rows: error}`` or ``data: {synthetic: {...}}``.

    A relative ``path`` resolves against the spec file's folder (:meth:`resolve`).
    """

    path: str | None = None
    synthetic: SyntheticConfig | None = None
    columns: dict[str, str] = field(default_factory=dict)  # toolkit column name -> the file's column name
    on_bad_rows: Literal["error", "skip"] = "error"
    timezone: str = DEFAULT_TIMEZONE  # the clock of naive times; days are cut on it (see toolkit.data.clock)
    # the clock of posting-hour features: the data's, or the zone of each post's IP location where it has one
    local_time: Literal["data", "ip"] = "data"
    ip_zones: dict[str, str] = field(default_factory=dict)  # IP location -> zone, for places with several zones
    # how slash dates read: month_first, day_first or a strptime pattern (toolkit.data.times); unset, a file
    # with dates that can only be day-first is refused
    date_format: str | None = None
    delimiter: str = ","  # the character between fields

    param_paths = True

    def validate(self, where: str) -> None:
        if (self.path is None) == (self.synthetic is None):
            raise ToolkitError(f"{where} must have exactly one of 'path' (a posts CSV) or 'synthetic' "
                               "({users: N, seed: S}).")
        if self.path is not None and not self.path.strip():
            raise ToolkitError(f"{where}.path must be a file path. Got {self.path!r} instead.")
        column_mapping(self.columns)
        check_date_format(self.date_format, f"{where}.date_format")
        check_delimiter(self.delimiter, f"{where}.delimiter")
        parse_timezone(self.timezone)
        for place, zone in self.ip_zones.items():
            try:
                parse_timezone(zone)
            except ToolkitError:
                raise ToolkitError(f"{where}.ip_zones[{place!r}] must be an IANA time zone (e.g. 'America/Chicago') "
                                   f"or an offset (e.g. 'UTC-6'). Got {zone!r} instead.") from None

    def resolve(self, base_dir: Path) -> None:
        """Make ``path`` absolute, relative to ``base_dir`` (the spec file's folder)."""
        if self.path is not None:
            path = Path(self.path).expanduser()
            self.path = str(path if path.is_absolute() else (base_dir / path).resolve())

    def load_options(self) -> dict:
        """The keyword arguments of :func:`toolkit.data.posts.load_posts` this block sets: one place for every caller."""
        return {"columns": self.columns, "on_bad_rows": self.on_bad_rows, "timezone": self.timezone,
                "date_format": self.date_format, "delimiter": self.delimiter}

    def to_dict(self) -> dict:
        out: dict = {"columns": dict(self.columns), "on_bad_rows": self.on_bad_rows, "timezone": self.timezone,
                     "local_time": self.local_time, "ip_zones": dict(self.ip_zones), "date_format": self.date_format,
                     "delimiter": self.delimiter}
        if self.path is not None:
            out["path"] = self.path
        else:
            out["synthetic"] = vars(self.synthetic).copy()
        return out
