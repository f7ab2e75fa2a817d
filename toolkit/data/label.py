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

Days are calendar days; day 0 is the date of the user's first post. A user whose
label window ends after the data ends (``data_end``, by default the date of the
last post in the file) cannot be labelled and is excluded as censored.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from toolkit.errors import ToolkitError

_FORMS = (
    "label:\n  cohort: {first_seen: [START, END]}\n  observe_until: DATE  |  observe_days: N\n"
    "  retained_if: {active_between: [START, END]}  |  {returns_after_days: N, horizon_days: M}\n"
    "  data_end: DATE   # optional"
)


@dataclass(frozen=True)
class LabelSpec:
    cohort_start: dt.date
    cohort_end: dt.date
    observe_until: dt.date | None = None
    observe_days: int | None = None
    active_between: tuple[dt.date, dt.date] | None = None
    returns_after_days: int | None = None
    horizon_days: int | None = None
    data_end: dt.date | None = None

    @property
    def sequence_days(self) -> int:
        """Length of the daily activity sequence: the longest observation window."""
        if self.observe_days is not None:
            return self.observe_days
        return (self.observe_until - self.cohort_start).days + 1

    def describe(self) -> str:
        observe = (
            f"posts up to {self.observe_until}" if self.observe_until else f"each user's first {self.observe_days} day(s)"
        )
        if self.active_between:
            rule = f"active between {self.active_between[0]} and {self.active_between[1]}"
        else:
            rule = f"posted again {self.returns_after_days}-{self.horizon_days} days after the first post"
        return (
            f"cohort first seen {self.cohort_start}..{self.cohort_end}; features from {observe}; "
            f"retained if {rule}"
        )


def _date(value: Any, where: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ToolkitError(f"{where} must be a date written YYYY-MM-DD. Got {value!r} instead.")


def _date_pair(value: Any, where: str) -> tuple[dt.date, dt.date]:
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        raise ToolkitError(f"{where} must be a list of two dates [START, END]. Got {value!r} instead.")
    start, end = _date(value[0], f"{where}[0]"), _date(value[1], f"{where}[1]")
    if end < start:
        raise ToolkitError(f"{where} must not end before it starts. Got [{start}, {end}] instead.")
    return start, end


def _days(value: Any, where: str, minimum: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ToolkitError(f"{where} must be an int >= {minimum}. Got {value!r} instead.")
    return value


def _keys(block: Any, where: str, allowed: set[str]) -> dict:
    if not isinstance(block, dict):
        raise ToolkitError(f"{where} must be a mapping. Got {block!r} instead. Expected:\n{_FORMS}")
    unknown = sorted(set(block) - allowed)
    if unknown:
        raise ToolkitError(f"{where}: unknown key {unknown[0]!r}. Allowed: {', '.join(sorted(allowed))}.")
    return block


def parse_label(block: Any, where: str = "label") -> LabelSpec:
    """Check a ``label`` block and return it as a :class:`LabelSpec`."""
    block = _keys(block, where, {"cohort", "observe_until", "observe_days", "retained_if", "data_end"})
    for key in ("cohort", "retained_if"):
        if key not in block:
            raise ToolkitError(f"{where}.{key} is required. Expected:\n{_FORMS}")
    cohort = _keys(block["cohort"], f"{where}.cohort", {"first_seen"})
    if "first_seen" not in cohort:
        raise ToolkitError(f"{where}.cohort.first_seen is required: a list of two dates [START, END].")
    start, end = _date_pair(cohort["first_seen"], f"{where}.cohort.first_seen")

    if ("observe_until" in block) == ("observe_days" in block):
        raise ToolkitError(f"{where} must have exactly one of 'observe_until' (a date) or 'observe_days' (an int).")
    observe_until = _date(block["observe_until"], f"{where}.observe_until") if "observe_until" in block else None
    observe_days = _days(block["observe_days"], f"{where}.observe_days", 1) if "observe_days" in block else None
    if observe_until is not None and observe_until < end:
        raise ToolkitError(
            f"{where}.observe_until ({observe_until}) is before the end of the cohort ({end}): users first seen "
            "after it would have no posts to learn from. Set it on or after the cohort's last day."
        )

    rule = _keys(block["retained_if"], f"{where}.retained_if", {"active_between", "returns_after_days", "horizon_days"})
    data_end = _date(block["data_end"], f"{where}.data_end") if "data_end" in block else None
    if "active_between" in rule:
        if len(rule) != 1:
            raise ToolkitError(f"{where}.retained_if takes either active_between or returns_after_days + horizon_days, not both.")
        a, b = _date_pair(rule["active_between"], f"{where}.retained_if.active_between")
        last_observed = observe_until or (end + dt.timedelta(days=observe_days - 1))
        if a <= last_observed:
            raise ToolkitError(
                f"{where}.retained_if.active_between starts on {a}, inside the observation window (which runs to "
                f"{last_observed}): the label would be computed from posts the features also see. Start it after {last_observed}."
            )
        return LabelSpec(start, end, observe_until, observe_days, active_between=(a, b), data_end=data_end)

    if set(rule) != {"returns_after_days", "horizon_days"}:
        raise ToolkitError(f"{where}.retained_if must be {{active_between: [START, END]}} or "
                           f"{{returns_after_days: N, horizon_days: M}}. Got {rule!r} instead.")
    if observe_days is None:
        raise ToolkitError(f"{where}.retained_if.returns_after_days is counted from each user's first post, so it needs "
                           f"observe_days (a per-user window) instead of observe_until.")
    after = _days(rule["returns_after_days"], f"{where}.retained_if.returns_after_days", 1)
    horizon = _days(rule["horizon_days"], f"{where}.retained_if.horizon_days", 1)
    if after < observe_days:
        raise ToolkitError(
            f"{where}.retained_if.returns_after_days ({after}) must be >= observe_days ({observe_days}): otherwise posts "
            "inside the observation window would count as a return."
        )
    if horizon < after:
        raise ToolkitError(f"{where}.retained_if.horizon_days ({horizon}) must be >= returns_after_days ({after}).")
    return LabelSpec(start, end, None, observe_days, returns_after_days=after, horizon_days=horizon, data_end=data_end)
