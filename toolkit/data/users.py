"""From posts to one row per user: features from the observation window, and the label.

No feature uses a post after the user's observation window; the label uses only
posts inside the label window, which never overlaps it (checked in
:mod:`toolkit.data.label`). A return is a post after the observation window by a
user who posted inside it, and never a post inside the user's first posting week
(their first ``sequence_days`` days from their first post), whatever day 0 is:
under ``day0: account_created`` the label window starts at the later of day 0 +
``returns_after_days`` and the end of that week, so a new account's first days of
posting are not read as coming back.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from toolkit.data.arrival import arrival_table, arrival_text, unlabelled_stretches
from toolkit.data.clock import DEFAULT_TIMEZONE, utc_to_clock
from toolkit.data.coverage import (Coverage, crawl_coverage, reference_posts, runs, window_share,
                                   windows_covered)
from toolkit.data.crawl import account_created, daily_volume, is_object_id
from toolkit.data.label import LabelSpec
from toolkit.data.local_time import local_hours
from toolkit.data.schema import COUNT_COLUMNS, LOWER_BOUND_COLUMNS, USER_COLUMNS
from toolkit.data.user_text import text_columns
from toolkit.errors import ToolkitError


@dataclass
class DataReport:
    """What the label did to the users in the file."""

    users: int  # distinct users in the file
    in_cohort: int  # day 0 inside the cohort's dates and a post inside the observation window
    censored: int  # in the cohort, but the label window ends after the data does
    positives: int  # retained, among the labelled users
    positive_rate: float  # positives / labelled users
    data_end: str  # last date the label may look at
    label: str  # the label rule in words
    censored_by_coverage: int = 0  # in the cohort, window inside the data, but the crawl did not cover it: dropped
    in_coverage_gap: int = 0  # labelled (or in the analysis) with an uncovered day in their window: kept
    coverage: str = "off"  # the coverage rule in words, and what it found in the label windows
    coverage_source: str = "off"  # "stated" (label.coverage.days), "heuristic" or "off"
    coverage_unjudged: int = 0  # labelled users whose window the heuristic could mostly not judge
    coverage_min_posts: float | None = None  # kept for old readers: no single threshold since the rule is local
    not_yet_active: int = 0  # day 0 inside the cohort's dates, but no post inside the observation window
    arrival: list[dict] = field(default_factory=list)  # cohort and labelled users per week of day 0
    warnings: list[str] = field(default_factory=list)
    windows: dict = field(default_factory=dict)  # cohort / observation / label windows as [first, last] dates
    volume: pd.Series | None = field(default=None, repr=False)  # posts per calendar day over the whole file

    @property
    def labelled(self) -> int:
        return self.in_cohort - self.censored - self.censored_by_coverage

    def counts_text(self) -> str:
        return (f"{self.users} users in the file, {self.in_cohort} in the cohort, {self.censored} censored by "
                f"data_end ({self.data_end}), {self.censored_by_coverage} censored by crawl coverage, "
                f"{self.not_yet_active} not yet active (day 0 in the cohort's dates, no post in the observation window)")

    def arrival_text(self) -> str:
        return arrival_text(self.arrival)

    def to_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if k != "volume"}


@dataclass
class Windows:
    """Per cohort user (indexed by user_id): day 0 and the ends of each window, as day Timestamps."""

    day0: pd.Series
    obs_end: pd.Series  # last day features come from
    exposure_end: pd.Series  # last day of the spec's own observation window (before equalising)
    lab_start: pd.Series  # never inside the user's first posting week
    lab_end: pd.Series


def build_users(posts: pd.DataFrame, label: LabelSpec, *, timezone: str = DEFAULT_TIMEZONE, local_time: str = "data",
                ip_zones: dict[str, str] | None = None) -> tuple[pd.DataFrame, np.ndarray, DataReport]:
    """Build the users table, their labels and the data report.

    Args:
        posts: canonical posts frame from :func:`toolkit.data.posts.load_posts`.
        label: the parsed label block.
        timezone: the clock of the post times (``data.timezone``); account creation
            times decoded from object ids are converted to it.
        local_time, ip_zones: the clock of posting-hour features (``data.local_time``,
            ``data.ip_zones``; see :mod:`toolkit.data.local_time`).

    Returns:
        ``(users, y, report)``: the users table with ``USER_COLUMNS`` (sorted by
        user_id so the row order does not depend on the file's), the 0/1 label
        per user, and the counts.
    """
    c = cohort_of(posts, label, timezone=timezone, local_time=local_time, ip_zones=ip_zones)
    cohort, win, report = c.day0, c.win, c.report
    data_end = pd.Timestamp(report.data_end)
    censored = (win.lab_end > data_end).to_numpy()
    uncovered = ~censored & _uncovered(c.coverage, win)
    report.censored, report.censored_by_coverage = int(censored.sum()), int(uncovered.sum())
    _coverage_findings(report, c.coverage, win, ~censored & ~uncovered, label)
    report.arrival = arrival_table(cohort, censored, uncovered)
    report.warnings += unlabelled_stretches(cohort, censored, uncovered)
    kept = cohort.index[~censored & ~uncovered]
    if len(kept) == 0:
        raise ToolkitError(
            f"No user is left to learn from: {report.counts_text()} (cohort {label.cohort_start}..{label.cohort_end}). "
            "Check label.cohort and label.retained_if against the dates in the data, and label.coverage against "
            "the crawl's volume per day (`python -m toolkit validate` shows it).")
    users, own, win = window_users(c, kept, label)
    y = users["user_id"].isin(_retained(own, win, label.min_gap_hours)).to_numpy().astype(np.int8)
    report.positives, report.positive_rate = int(y.sum()), float(y.mean())
    return users, y, report


@dataclass
class CohortUsers:
    """The cohort before labelling: dated posts, each user's first post, creation time, day 0 and windows."""

    posts: pd.DataFrame  # with ``date`` and ``hour`` (the poster's clock)
    first_seen: pd.Series  # every user in the file
    created: pd.Series
    day0: pd.Series  # cohort users only (day 0 in the cohort's dates, a post inside the observation window)
    win: Windows  # cohort users only
    report: DataReport  # counts known before labelling
    coverage: Coverage | None = None  # the days the crawl covered (None: label.coverage is off)


def cohort_of(posts: pd.DataFrame, label: LabelSpec, *, timezone: str = DEFAULT_TIMEZONE, local_time: str = "data",
              ip_zones: dict[str, str] | None = None) -> CohortUsers:
    """The cohort every label kind starts from (:func:`build_users` and the time-to-return label)."""
    posts = _dated(posts, timezone, local_time, ip_zones)
    first_seen = posts.groupby("user_id")["create_time"].min()
    created = _created(first_seen.index, timezone, required=label.day0 == "account_created")
    day0 = _day0(first_seen, created, label)
    start, end = pd.Timestamp(label.cohort_start), pd.Timestamp(label.cohort_end)
    dated = day0[(day0 >= start) & (day0 <= end)]
    win = _windows(dated, label, first_seen[dated.index])
    # Only users seen inside their own observation window are in the cohort: under day0: account_created a
    # user who first posts after it would otherwise "return" by merely arriving late.
    active = (first_seen[dated.index].dt.normalize() <= win.obs_end).to_numpy()
    cohort = dated[active]
    win = Windows(*(w[cohort.index] for w in vars(win).values()))
    report = _report(posts, label, first_seen.size, len(cohort))
    report.not_yet_active = int((~active).sum())
    coverage = None
    if label.coverage is not None:
        reference = reference_posts(posts["date"], posts["user_id"], first_seen[cohort.index], label.sequence_days)
        coverage = crawl_coverage(reference, label.coverage)
    return CohortUsers(posts, first_seen, created, cohort, win, report, coverage)


def window_users(c: CohortUsers, kept: pd.Index, label: LabelSpec) -> tuple[pd.DataFrame, pd.DataFrame, Windows]:
    """The users table (``USER_COLUMNS``) of the ``kept`` cohort users, from their observation windows only.

    Also returns the kept users' posts (all of them, with ``day`` since day 0) and their windows.
    """
    win = Windows(*(w[kept] for w in vars(c.win).values()))
    own = c.posts[c.posts["user_id"].isin(kept)]
    own = own.assign(day=(own["date"] - own["user_id"].map(win.day0)).dt.days)
    in_window = (own["date"] <= own["user_id"].map(win.obs_end)).to_numpy()
    users = _user_features(own[in_window], kept, label.sequence_days, (win.obs_end - win.day0).dt.days)
    _add_user_columns(users, own, c.first_seen, c.created, win, label)
    return users[list(USER_COLUMNS)], own, win


def _dated(posts: pd.DataFrame, timezone: str, local_time: str, ip_zones: dict[str, str] | None) -> pd.DataFrame:
    """Each post's calendar date (on the data's clock) and its hour on the poster's clock."""
    places = posts["ip_location"] if "ip_location" in posts else pd.Series("", index=posts.index)
    return posts.assign(date=posts["create_time"].dt.normalize(),
                        hour=local_hours(posts["create_time"], places, timezone, local_time, ip_zones))


def _created(user_ids: pd.Index, timezone: str, *, required: bool) -> pd.Series:
    """Account creation times on the data's clock (NaT for ids that are not object ids)."""
    ids = pd.Series(user_ids, index=user_ids)
    if required:
        bad = ids[~is_object_id(ids)]
        if len(bad):
            raise ToolkitError(
                f"label.day0: account_created decodes the creation time from object-id user ids (24 hex digits, "
                f"the first 8 the creation time in Unix seconds), but {len(bad)} of {len(ids)} user ids are not "
                f"object ids, e.g. {', '.join(map(repr, bad.iloc[:3]))}. Use label.day0: first_post for this data.")
    utc = account_created(ids)
    return pd.Series(utc_to_clock(utc, timezone).to_numpy(), index=user_ids)


def _day0(first_seen: pd.Series, created: pd.Series, label: LabelSpec) -> pd.Series:
    """Day 0 per user: the first post's date, or the account's creation date (never after the first post)."""
    first_date = first_seen.dt.normalize()
    if label.day0 == "first_post":
        return first_date
    return pd.concat([first_date, created.dt.normalize()], axis=1).min(axis=1)


def _windows(day0: pd.Series, label: LabelSpec, first_seen: pd.Series | None = None) -> Windows:
    """Each user's windows; with ``first_seen`` (their first post), the label window starts after the first
    posting week: under ``day0: account_created`` day 0 + ``returns_after_days`` can fall inside it."""
    if label.observe_until is not None:
        exposure_end = pd.Series(pd.Timestamp(label.observe_until), index=day0.index)
    else:
        exposure_end = day0 + pd.Timedelta(days=label.observe_days - 1)
    obs_end = day0 + pd.Timedelta(days=label.sequence_days - 1)
    if label.active_between:
        lab_start = pd.Series(pd.Timestamp(label.active_between[0]), index=day0.index)
        lab_end = pd.Series(pd.Timestamp(label.active_between[1]), index=day0.index)
    else:
        lab_start = day0 + pd.Timedelta(days=label.returns_after_days)
        lab_end = day0 + pd.Timedelta(days=label.horizon_days)
    if first_seen is not None:
        after_week = first_seen.dt.normalize() + pd.Timedelta(days=label.sequence_days)
        lab_start = pd.concat([lab_start, after_week], axis=1).max(axis=1)
    return Windows(day0, obs_end, exposure_end, lab_start, lab_end)


def _report(posts: pd.DataFrame, label: LabelSpec, n_users: int, in_cohort: int) -> DataReport:
    """The counts known before labelling, the crawl's daily volume, and warnings about the data's end."""
    last_post = posts["date"].max()
    data_end = pd.Timestamp(label.data_end) if label.data_end else last_post
    warnings = []
    if data_end > last_post:
        warnings.append(f"label.data_end ({data_end.date()}) is after the last post in the file "
                        f"({last_post.date()}): users whose label window ends in between are labelled as if "
                        "the crawl had seen them, and count as not retained if it had not.")
    windows = label_windows(label)
    volume = daily_volume(posts["create_time"])
    rule = label.coverage
    return DataReport(users=n_users, in_cohort=in_cohort, censored=0, positives=0, positive_rate=float("nan"),
                      data_end=str(data_end.date()), label=label.describe(),
                      coverage=(rule.describe(label.sequence_days) if rule
                                else "off (label.coverage: null, or synthetic data)"),
                      coverage_source=("stated" if rule.stated else "heuristic") if rule else "off",
                      warnings=warnings, windows=windows, volume=volume)


def label_windows(label: LabelSpec) -> dict:
    """The cohort, observation and label windows over all users, as ``[first, last]`` ISO dates."""
    if label.active_between:
        lab = [str(d) for d in label.active_between]
    else:
        lab = [str(label.cohort_start + dt.timedelta(days=label.returns_after_days)),
               str(label.cohort_end + dt.timedelta(days=label.horizon_days))]
    return {"cohort": [str(label.cohort_start), str(label.cohort_end)],
            "observation": [str(label.cohort_start), str(label.last_observed)], "label": lab}


def _uncovered(coverage: Coverage | None, win: Windows) -> np.ndarray:
    if coverage is None:
        return np.zeros(len(win.day0), dtype=bool)
    return ~windows_covered(coverage, win.lab_start, win.lab_end)


def coverage_findings(report: DataReport, coverage: Coverage | None, starts: pd.Series, ends: pd.Series,
                      kept: np.ndarray) -> None:
    """Add what the rule found in the cohort's windows ``[starts, ends]`` to the report and its chart.

    The gaps (uncovered days) over the windows' span up to ``data_end``; among the ``kept`` users, those
    with a gap in their window (``in_coverage_gap``) and, for the heuristic, those whose window it could
    mostly not judge.
    """
    if coverage is None or len(starts) == 0:
        return
    first, last = starts.min().date(), min(ends.max(), pd.Timestamp(report.data_end)).date()
    gaps = coverage.gaps(first, last)
    report.windows["gaps"] = runs(gaps)
    starts, ends = starts[kept], ends[kept]
    report.in_coverage_gap = int((window_share(coverage, starts, ends) < 1).sum())
    shown = ", ".join(a if a == b else f"{a}..{b}" for a, b in report.windows["gaps"][:4])
    more = ", ..." if len(report.windows["gaps"]) > 4 else ""
    report.coverage += f"; {len(gaps)} gap day(s) in the label windows ({first}..{last})" + (
        f": {shown}{more}" if gaps else "")
    if coverage.rule.stated:
        return
    judged = Coverage(coverage.rule, coverage.judged, coverage.judged)
    report.coverage_unjudged = int((~windows_covered(judged, starts, ends)).sum())
    if report.coverage_unjudged:
        report.warnings.append(
            f"the coverage heuristic could not judge most of the label window of {report.coverage_unjudged} of "
            f"{int(kept.sum())} labelled users: too few posts that are no cohort user's return nearby (a reference "
            f"under {coverage.rule.min_reference_posts:g} posts a day), so those days count as covered and a crawler "
            "that stopped then would read as users who left. State the crawl's dates in label.coverage.days "
            "if they are known.")


def _coverage_findings(report: DataReport, coverage: Coverage | None, win: Windows, kept: np.ndarray,
                       label: LabelSpec) -> None:
    coverage_findings(report, coverage, win.lab_start, win.lab_end, kept)
    inside_week = (win.lab_start > win.lab_end).to_numpy() & kept
    if inside_week.any():
        report.warnings.append(
            f"{int(inside_week.sum())} labelled users' label windows end inside their first posting week (their first "
            f"{label.sequence_days} day(s) from their first post, under label.day0: {label.day0}): no post of theirs "
            "can count as a return, so they are labelled not retained. Widen horizon_days to give them a window.")


def _retained(own: pd.DataFrame, win: Windows, min_gap_hours: float) -> np.ndarray:
    """Users with a post inside their label window (and, with a gap, far enough after their last observed one)."""
    user = own["user_id"]
    in_label = (own["date"] >= user.map(win.lab_start)) & (own["date"] <= user.map(win.lab_end))
    if min_gap_hours > 0:
        observed = own[own["date"] <= user.map(win.obs_end)]
        last_seen = observed.groupby("user_id")["create_time"].max()
        earliest = user.map(last_seen) + pd.Timedelta(hours=min_gap_hours)
        in_label &= earliest.isna() | (own["create_time"] >= earliest)
    return own.loc[in_label, "user_id"].unique()


def _add_user_columns(users: pd.DataFrame, own: pd.DataFrame, first_seen: pd.Series, created: pd.Series,
                      win: Windows, label: LabelSpec) -> None:
    """First post time, day 0, account age at day 0, and exposure (days and posts in the spec's observation window).

    Every user here has a post in their window, so ``first_seen`` is the first *observed* post.
    ``account_age_days`` is the account's age at day 0: with ``day0: first_post`` the creation -> first post
    time, known on day 0; with ``day0: account_created`` it is 0 by definition, because the creation -> first
    post delay would carry arrival timing into a behavior column (the timing baseline holds it instead).
    """
    ids = users["user_id"]
    users["first_seen"] = first_seen.reindex(ids).to_numpy()
    users["day0"] = win.day0.reindex(ids).to_numpy()
    age = (first_seen - created).dt.total_seconds() / 86400.0
    if label.day0 == "account_created":
        age = pd.Series(0.0, index=first_seen.index)
    users["account_age_days"] = age.reindex(ids).to_numpy(dtype=float)
    users["exposure_days"] = ((win.exposure_end - win.day0).dt.days + 1).reindex(ids).to_numpy(dtype=float)
    exposed = own[(own["date"] <= own["user_id"].map(win.exposure_end)).to_numpy()]
    users["exposure_posts"] = exposed.groupby("user_id").size().reindex(ids, fill_value=0).to_numpy(dtype=float)


def build_features(posts: pd.DataFrame, label: LabelSpec, *, timezone: str = DEFAULT_TIMEZONE,
                   local_time: str = "data", ip_zones: dict[str, str] | None = None
                   ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Build the users table of every user in ``posts`` without labelling anyone (scoring new users).

    Day 0 and the observation window are the label's, exactly as :func:`build_users`
    applies them, so a user seen in training gets the same row here. Cohort dates,
    coverage and the label window are not applied: new posts come from a later
    period, and nothing is known yet about who stays.

    Returns:
        ``(users, skipped)``: the users table (``USER_COLUMNS``, sorted by user_id)
        and a frame of ``user_id, reason`` for users with no post inside the window.
    """
    posts = _dated(posts, timezone, local_time, ip_zones)
    first_seen = posts.groupby("user_id")["create_time"].min()
    created = _created(first_seen.index, timezone, required=label.day0 == "account_created")
    win = _windows(_day0(first_seen, created, label), label)
    own = posts.assign(day=(posts["date"] - posts["user_id"].map(win.day0)).dt.days)
    in_window = (own["date"] <= own["user_id"].map(win.obs_end)).to_numpy()
    seen = set(own.loc[in_window, "user_id"])
    late = ~first_seen.index.isin(list(seen))
    skipped = pd.DataFrame({
        "user_id": first_seen.index[late],
        "reason": [f"no post in the observation window (first post {f.date()}, window ended {e.date()})"
                   for f, e in zip(first_seen[late], win.obs_end[late])],
    })
    kept = first_seen.index[~late]
    win = Windows(*(w[kept] for w in vars(win).values()))
    own = own[own["user_id"].isin(kept)]
    in_window = (own["date"] <= own["user_id"].map(win.obs_end)).to_numpy()
    users = _user_features(own[in_window], kept, label.sequence_days, (win.obs_end - win.day0).dt.days)
    _add_user_columns(users, own, first_seen, created, win, label)
    return users[list(USER_COLUMNS)], skipped


def _user_features(window: pd.DataFrame, user_ids: pd.Index, steps: int, last_day: pd.Series) -> pd.DataFrame:
    """Aggregate the observation-window posts of each user into one row.

    Posts are grouped by their user's position in the sorted ids (an integer key made once) rather
    than by the id strings, which pandas would hash again for every aggregate.
    """
    user_ids = pd.Index(sorted(user_ids), name="user_id")
    key = user_ids.get_indexer(window["user_id"])
    g = window.groupby(key)
    feats = pd.DataFrame(index=pd.RangeIndex(len(user_ids)))
    feats["n_posts"] = g.size()
    feats["active_days"] = g["day"].nunique()
    for col in COUNT_COLUMNS:
        stem = col.replace("_count", "")
        by = np.log1p(window[col].clip(lower=0)).groupby(key)
        feats[f"log_{stem}_sum"] = np.log1p(g[col].sum().clip(lower=0))
        feats[f"log_{stem}_mean"] = by.mean()
        feats[f"log_{stem}_max"] = by.max()
    for col, flag in LOWER_BOUND_COLUMNS.items():
        feats[f"{col.replace('_count', '')}_lb_share"] = g[flag].mean()
    feats["video_share"] = (window["post_type"] == "video").groupby(key).mean()
    hours = window["hour"] if "hour" in window else window["create_time"].dt.hour + window["create_time"].dt.minute / 60
    feats = feats.join(_circular_hours(hours, key))
    feats["night_share"] = (hours < 6).groupby(key).mean()
    text = text_columns(window, key, len(user_ids))
    feats = feats.fillna(0.0)
    feats.insert(0, "text", text["text"])
    for col in ("zh_share", "text_chars", "n_hashtags"):
        feats[col] = text[col]
    feats.index = user_ids
    feats["activity"] = _activity(window["day"].to_numpy(), key, user_ids, steps, last_day)
    return feats.reset_index()


def _circular_hours(hours: pd.Series, key: np.ndarray) -> pd.DataFrame:
    """Posting hours on a circle: 23:30 and 00:30 average to midnight, not noon.

    ``hour_sin``/``hour_cos``: the mean direction as a unit vector (0, 0 when the hours cancel out);
    ``hour_spread``: the circular variance, 1 - the mean resultant length (0: always the same time,
    1: spread evenly round the clock).
    """
    angle = hours.to_numpy(dtype=float) * (2 * np.pi / 24)
    s = pd.Series(np.sin(angle), index=hours.index).groupby(key).mean()
    c = pd.Series(np.cos(angle), index=hours.index).groupby(key).mean()
    r = np.hypot(s, c)
    safe = r.where(r > 1e-9, np.inf)
    return pd.DataFrame({"hour_sin": s / safe, "hour_cos": c / safe, "hour_spread": 1 - r})


def _activity(days: np.ndarray, key: np.ndarray, user_ids: pd.Index, steps: int,
              last_day: pd.Series) -> list[np.ndarray]:
    """Daily sequence per user: log1p(posts that day) and whether the day was observed.

    ``days`` is each post's day since the user's day 0 and ``key`` its user's position in ``user_ids``.
    """
    seq = np.zeros((len(user_ids), steps, 2), dtype=np.float32)
    ok = (days >= 0) & (days < steps)
    np.add.at(seq[:, :, 0], (key[ok], days[ok]), 1.0)
    seq[:, :, 0] = np.log1p(seq[:, :, 0])
    observed = np.arange(steps)[None, :] <= last_day.reindex(user_ids).to_numpy()[:, None]
    seq[:, :, 1] = observed
    return list(seq)

