"""The retention label: who is in the cohort, what is observed, who counts as retained.

Two forms, chosen in the spec::

    label:                       # fixed calendar windows (the reference study)
      cohort: {first_seen: [2025-01-01, 2025-01-31]}
      observe_until: 2025-01-31  # features only from posts up to this date
      retained_if: {active_between: [2025-02-01, 2025-02-28]}

    label:                       # per-user "came back"
      cohort: {first_seen: [2025-01-01, 2025-02-14]}
      observe_days: 1            # features from each user's first N calendar days
      retained_if: {returns_after_days: 1, horizon_days: 14}

    label:                       # time to return (a time-to-event label, censored users kept)
      cohort: {first_seen: [2025-01-01, 2025-02-14]}
      observe_days: 7
      time_to_return: {after_days: 7, follow_days: 28}

Exactly one of ``retained_if`` (the binary label) and ``time_to_return`` (the time-to-event
label, :mod:`toolkit.data.time_to_return`) is given; :attr:`LabelSpec.default_task` names the task a spec with it runs (:mod:`toolkit.tasks`).

Days are calendar days on ``data.timezone``'s clock. Day 0 (``day0``) is the
date of the user's first post in the file (``first_post``, the default) or the
day the account was created (``account_created``, decoded from object-id user
ids; the earlier of that and the first post, should the clocks disagree); the
cohort is then the users whose day 0 falls in ``cohort.first_seen``. Whatever day 0
is, a return is a post after the observation window by a user who posted inside it, and
no post inside the user's first posting week (their first ``observe_days`` days from
their first post; under ``observe_until``, the days every user is observed) counts as
one: the label window starts no earlier than the day after that week. Under
``observe_until`` every user is observed for the same number of days (their
first ``observe_until - cohort end + 1``), so no feature says how long a user
was observed. A user whose label window ends after the data ends (``data_end``,
by default the date of the last post in the file) is censored; so is one whose
label window the crawl did not cover (``coverage``, :mod:`toolkit.data.coverage`: the
crawl's dates as stated in ``coverage.days``, or else a heuristic read off the posts that are
no cohort user's return).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

from toolkit.data.coverage import CoverageRule
from toolkit.errors import ToolkitError
from toolkit.params import Interval, parse

_FORMS = (
    "label:\n  cohort: {first_seen: [START, END]}\n  observe_until: DATE  |  observe_days: N\n"
    "  retained_if: {active_between: [START, END]}  |  {returns_after_days: N, horizon_days: M}\n"
    "  time_to_return: {after_days: N, follow_days: M}   # instead of retained_if\n"
    "  data_end: DATE   # optional\n  day0: first_post | account_created   # optional\n"
    "  coverage: {days: [DATE, [FIRST, LAST], ...]}   # optional: the days the crawler ran\n"
    "          | {min_daily_share: 0.2, min_covered_days: 0.8, reference_quantile: 0.5, reference_days: 15,\n"
    "             min_reference_posts: 5}   # the heuristic (default)  | null   # off"
)
_DAYS = Interval(1, 3660)  # ten years: any longer window is a typo


def _ordered(pair: list, where: str) -> None:
    if pair[1] < pair[0]:
        raise ToolkitError(f"{where} must not end before it starts. Got [{pair[0]}, {pair[1]}] instead.")


@dataclass(kw_only=True)
class Cohort:
    """``cohort: {first_seen: [START, END]}``: users whose first post falls in these days."""

    first_seen: tuple[dt.date, dt.date]
    param_paths = True

    def validate(self, where: str) -> None:
        _ordered(self.first_seen, f"{where}.first_seen")


@dataclass(kw_only=True)
class RetainedIf:
    """``{active_between: [START, END]}`` or ``{returns_after_days: N, horizon_days: M}``."""

    active_between: tuple[dt.date, dt.date] | None = None
    returns_after_days: int | None = None
    horizon_days: int | None = None
    # A post in the label window counts only this long after the user's last observed post,
    # so a post 28 minutes after midnight is not a "return on day 1".
    min_gap_hours: float = 0.0
    param_paths = True
    param_constraints = {"returns_after_days": _DAYS, "horizon_days": _DAYS, "min_gap_hours": Interval(0, 24 * 3660)}

    def validate(self, where: str) -> None:
        came_back = (self.returns_after_days, self.horizon_days)
        given = {k: v for k, v in vars(self).items() if v is not None and k != "min_gap_hours"}
        if self.active_between is not None:
            if any(v is not None for v in came_back):
                raise ToolkitError(f"{where} takes either active_between or returns_after_days + horizon_days, not both.")
            _ordered(self.active_between, f"{where}.active_between")
        elif None in came_back:
            raise ToolkitError(f"{where} must be {{active_between: [START, END]}} or "
                               f"{{returns_after_days: N, horizon_days: M}}. Got {given!r} instead.")
        elif self.horizon_days < self.returns_after_days:
            raise ToolkitError(f"{where}.horizon_days ({self.horizon_days}) must be >= returns_after_days "
                               f"({self.returns_after_days}).")


@dataclass(kw_only=True)
class TimeToReturnSpec:
    """``{after_days: N, follow_days: M}``: the day a return may start counting, and the last day followed.

    ``edges`` (optional) cuts follow-up into bins of several days (daily bins when omitted);
    ``horizons`` are the days after ``after_days`` the time-dependent AUC and ``predict`` use
    (every 7 days inside follow-up when omitted).
    """

    after_days: int
    follow_days: int
    edges: list[int] | None = None
    horizons: list[int] | None = None
    param_paths = True
    param_constraints = {"after_days": _DAYS, "follow_days": _DAYS}

    def validate(self, where: str) -> None:
        if self.follow_days < self.after_days:
            raise ToolkitError(f"{where}.follow_days ({self.follow_days}) must be >= after_days ({self.after_days}).")
        from toolkit.data.time_to_return import bin_edges

        try:
            bin_edges(self.after_days, self.follow_days, self.edges)
        except ToolkitError as exc:
            raise ToolkitError(f"{where}.edges: {exc}") from None
        ends = self._bin_ends()
        if not ends:
            raise ToolkitError(f"{where} needs at least two time bins between after_days ({self.after_days}) and "
                               f"follow_days ({self.follow_days}); widen follow_days.")
        bad = [h for h in self.horizon_days() if h not in ends]
        if bad or not self.horizon_days():
            raise ToolkitError(f"{where}.horizons must be days after after_days that end a bin before the last "
                               f"one ({ends}). Got {self.horizons!r} instead.")

    def _bin_ends(self) -> list[int]:
        """Days after ``after_days`` at which a bin ends, the last bin's end left out."""
        from toolkit.data.time_to_return import bin_edges

        edges = bin_edges(self.after_days, self.follow_days, self.edges)
        return (edges[1:-1] - edges[0]).tolist()

    def follow_length(self) -> int:
        """Days of follow-up: ``after_days .. follow_days``."""
        return self.follow_days - self.after_days + 1

    def horizon_days(self) -> list[int]:
        """The horizons: by default the bin ends every 7 days before follow-up's last bin (else every bin end)."""
        if self.horizons is not None:
            return list(self.horizons)
        ends = self._bin_ends()
        return [h for h in ends if h % 7 == 0] or ends


@dataclass(kw_only=True)
class LabelSpec:
    """The spec's ``label:`` block (see the module docstring for both forms)."""

    cohort: Cohort
    retained_if: RetainedIf | None = None
    time_to_return: TimeToReturnSpec | None = None
    observe_until: dt.date | None = None
    observe_days: int | None = None
    data_end: dt.date | None = None
    day0: Literal["first_post", "account_created"] = "first_post"
    coverage: CoverageRule | None = field(default_factory=CoverageRule)
    param_paths = True
    param_constraints = {"observe_days": _DAYS}

    @property
    def cohort_start(self) -> dt.date:
        return self.cohort.first_seen[0]

    @property
    def cohort_end(self) -> dt.date:
        return self.cohort.first_seen[1]

    @property
    def default_task(self) -> str:
        """The task a spec with this label runs unless it names one: ``binary`` (``retained_if``) or
        ``time_to_return`` (``time_to_return``)."""
        return "binary" if self.retained_if is not None else "time_to_return"

    @property
    def active_between(self) -> tuple[dt.date, dt.date] | None:
        return self.retained_if.active_between if self.retained_if else None

    @property
    def returns_after_days(self) -> int | None:
        """The label window's first day after day 0 (under ``time_to_return``, ``after_days``)."""
        return self.retained_if.returns_after_days if self.retained_if else self.time_to_return.after_days

    @property
    def horizon_days(self) -> int | None:
        """The label window's last day after day 0 (under ``time_to_return``, ``follow_days``)."""
        return self.retained_if.horizon_days if self.retained_if else self.time_to_return.follow_days

    @property
    def min_gap_hours(self) -> float:
        return self.retained_if.min_gap_hours if self.retained_if else 0.0

    @property
    def sequence_days(self) -> int:
        """Days every user is observed: ``observe_days``, or under ``observe_until`` the days from the
        cohort's last day to it, so no feature says how long a user was observed (each user's own first
        days; posts between those and ``observe_until`` are not used)."""
        if self.observe_days is not None:
            return self.observe_days
        return (self.observe_until - self.cohort_end).days + 1

    @property
    def last_observed(self) -> dt.date:
        """The last day any cohort user's features may come from."""
        return self.observe_until or (self.cohort_end + dt.timedelta(days=self.observe_days - 1))

    def validate(self, where: str) -> None:
        if (self.retained_if is None) == (self.time_to_return is None):
            raise ToolkitError(f"{where} must have exactly one of 'retained_if' (a yes/no label) or 'time_to_return' "
                               "(a time-to-event label), e.g. time_to_return: {after_days: 7, follow_days: 28}.")
        if (self.observe_until is None) == (self.observe_days is None):
            raise ToolkitError(f"{where} must have exactly one of 'observe_until' (a date) or 'observe_days' (an int).")
        if self.observe_until is not None and self.observe_until < self.cohort_end:
            raise ToolkitError(
                f"{where}.observe_until ({self.observe_until}) is before the end of the cohort ({self.cohort_end}): "
                "users first seen after it would have no posts to learn from. Set it on or after the cohort's last day."
            )
        if self.active_between is not None:
            start = self.active_between[0]
            if start <= self.last_observed:
                raise ToolkitError(
                    f"{where}.retained_if.active_between starts on {start}, inside the observation window (which "
                    f"runs to {self.last_observed}): the label would be computed from posts the features also see. "
                    f"Start it after {self.last_observed}.")
            return
        key = "retained_if.returns_after_days" if self.retained_if else "time_to_return.after_days"
        if self.observe_days is None:
            raise ToolkitError(f"{where}.{key} is counted from each user's first post, so "
                               "it needs observe_days (a per-user window) instead of observe_until.")
        if self.returns_after_days < self.observe_days:
            raise ToolkitError(
                f"{where}.{key} ({self.returns_after_days}) must be >= observe_days "
                f"({self.observe_days}): otherwise posts inside the observation window would count as a return.")

    def to_dict(self) -> dict:
        """The block as YAML would write it, every default filled in."""
        out = {"cohort": {"first_seen": [str(d) for d in self.cohort.first_seen]}, "day0": self.day0,
               "coverage": _coverage_dict(self.coverage)}
        if self.retained_if is not None:
            out["retained_if"] = {k: ([str(d) for d in v] if k == "active_between" else v)
                                  for k, v in vars(self.retained_if).items() if v is not None}
        else:
            out["time_to_return"] = {k: v for k, v in vars(self.time_to_return).items() if v is not None}
        for key in ("observe_until", "observe_days", "data_end"):
            value = getattr(self, key)
            if value is not None:
                out[key] = str(value) if isinstance(value, dt.date) else value
        return out

    def describe(self) -> str:
        observe = (
            f"posts up to {self.observe_until}" if self.observe_until else f"each user's first {self.observe_days} day(s)"
        )
        start = "the first post" if self.day0 == "first_post" else "the account's creation"
        if self.time_to_return is not None:
            ttr = self.time_to_return
            return (f"cohort first seen {self.cohort_start}..{self.cohort_end}; features from {observe}; "
                    f"time to the first post {ttr.after_days}-{ttr.follow_days} days after {start} "
                    "(censored users kept)")
        if self.active_between:
            rule = f"active between {self.active_between[0]} and {self.active_between[1]}"
        else:
            rule = f"posted again {self.returns_after_days}-{self.horizon_days} days after {start}"
        if self.retained_if.min_gap_hours:
            rule += f", at least {self.retained_if.min_gap_hours:g} h after the last observed post"
        return (
            f"cohort first seen {self.cohort_start}..{self.cohort_end}; features from {observe}; "
            f"retained if {rule}"
        )


def _coverage_dict(rule: CoverageRule | None) -> dict | None:
    """``label.coverage`` as YAML writes it: stated days as ISO dates and ``[first, last]`` pairs."""
    if rule is None:
        return None
    out = vars(rule).copy()
    if rule.days is not None:
        out["days"] = [str(d) if isinstance(d, dt.date) else [str(d[0]), str(d[1])] for d in rule.days]
    return out


def parse_label(block, where: str = "label") -> LabelSpec:
    """Check a ``label`` block and return it as a :class:`LabelSpec`."""
    if not isinstance(block, dict):
        raise ToolkitError(f"{where} must be a mapping. Got {block!r} instead. Expected:\n{_FORMS}")
    return parse(LabelSpec, block, where=where)
