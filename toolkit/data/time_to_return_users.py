"""From posts to one row per cohort user and their time-to-return label, censored users kept.

The features are exactly the binary label's (:func:`toolkit.data.users.build_users`: day 0,
the observation window, the same columns); the label is :mod:`toolkit.data.time_to_return`'s.
Where the binary label drops a user whose label window runs past ``data_end`` or into a
crawl gap, this one keeps them: they are right-censored at the last bin the crawl saw them
through, and the gap's bins are masked. Only a user the crawl never saw through a single
follow-up bin, nor saw return, is left out (``out_of_view``): they tell the likelihood nothing.
Follow-up starts after the user's first posting week whatever day 0 is (``entry``), so under
``day0: account_created`` a first-week post is never a return. Users kept with a gap in their
follow-up are counted as ``in_gap`` (``DataReport.in_coverage_gap``), not as censored by coverage:
nobody is dropped for a gap here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from toolkit.data.clock import DEFAULT_TIMEZONE
from toolkit.data.label import LabelSpec
from toolkit.data.time_to_return import TimeToReturn, covered_dates, follow_up_in_gap, time_to_return
from toolkit.data.users import DataReport, cohort_of, coverage_findings, window_users
from toolkit.errors import ToolkitError


@dataclass
class TimeToReturnCounts:
    """What the time-to-return label did to the cohort (``metrics.json`` ``data.time_to_return``)."""

    in_analysis: int  # seen through a follow-up bin, or seen to return
    returned: int  # a return seen during follow-up
    interval_censored: int  # ... first seen right after uncovered days
    censored: int  # no return seen: right-censored
    censored_by_data_end: int  # ... whose follow-up the data's end cut short
    in_gap: int  # in the analysis, with an uncovered day in their follow-up (masked, not dropped)
    out_of_view: int  # in the cohort, but never seen through a follow-up bin (left out)

    def text(self) -> str:
        return (f"{self.in_analysis} in the analysis: {self.returned} returned ({self.interval_censored} first seen "
                f"after a gap), {self.censored} censored ({self.censored_by_data_end} by data_end); {self.in_gap} "
                f"with a crawl gap in their follow-up, kept in the risk set; {self.out_of_view} out of view")


def build_time_to_return_users(posts: pd.DataFrame, label: LabelSpec, *, timezone: str = DEFAULT_TIMEZONE,
                         local_time: str = "data", ip_zones: dict[str, str] | None = None
                         ) -> tuple[pd.DataFrame, TimeToReturn, DataReport, TimeToReturnCounts]:
    """The users in the analysis (``USER_COLUMNS``, sorted by user_id), their label, report and counts.

    The cohort, day 0, the observation window and the feature columns are :func:`build_users`'s
    (the same ``data.local_time`` and ``data.ip_zones``), so a user has the same row under both labels.
    """
    ttr = label.time_to_return
    c = cohort_of(posts, label, timezone=timezone, local_time=local_time, ip_zones=ip_zones)
    cohort, report = c.day0, c.report
    data_end = pd.Timestamp(report.data_end).date()
    covered = covered_dates(c.coverage, data_end)
    own = c.posts[c.posts["user_id"].isin(cohort.index)]
    # Calendar dates as written on the data's clock (a zoned time would turn into UTC in numpy).
    dates = (cohort.dt.tz_localize(None) if cohort.dt.tz is not None else cohort).to_numpy()
    rows = pd.Series(np.arange(len(cohort)), index=cohort.index)
    offset = (own["date"] - own["user_id"].map(cohort)).dt.days.to_numpy()
    entry = (c.win.lab_start - cohort).dt.days.to_numpy()  # after_days, or the day after the first posting week
    full = time_to_return(dates, own["user_id"].map(rows).to_numpy(), offset, after_days=ttr.after_days,
                          follow_days=ttr.follow_days, data_end=data_end, covered=covered, edges=ttr.edges,
                          entry=entry)
    keep = full.in_analysis
    if not keep.any():
        raise ToolkitError(f"No user is left to learn from: {report.counts_text()}; none of the {len(cohort)} cohort "
                           "users was seen through a day of follow-up (label.time_to_return against the data's "
                           "dates, label.coverage against the crawl's volume per day).")
    label_rows = full.rows(keep)
    gap = follow_up_in_gap(dates, after_days=ttr.after_days, follow_days=ttr.follow_days,
                           data_end=data_end, covered=covered, entry=entry)[keep]
    cut = (cohort + pd.Timedelta(days=ttr.follow_days) > pd.Timestamp(data_end)).to_numpy()[keep]
    counts = TimeToReturnCounts(int(keep.sum()), int(label_rows.event.sum()), int(label_rows.interval.sum()),
                            int((~label_rows.event).sum()), int((~label_rows.event & cut).sum()), int(gap.sum()),
                            int((~keep).sum()))
    users, _, _ = window_users(c, cohort.index[keep], label)
    # Here censored users stay in the analysis (its size is counts.in_analysis, not report.labelled):
    # ``censored`` counts those whose follow-up data_end cut short; nobody is dropped for a gap.
    report.censored, report.censored_by_coverage = counts.censored_by_data_end, 0
    coverage_findings(report, c.coverage, c.win.lab_start, c.win.lab_end, keep)
    report.in_coverage_gap = counts.in_gap
    report.positives, report.positive_rate = counts.returned, counts.returned / counts.in_analysis
    return users, label_rows, report, counts
