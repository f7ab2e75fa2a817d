"""Loading a posts file and writing the EDA report folder: ``python -m toolkit eda SPEC_OR_CSV``.

With a spec, its data, label and evaluation are used; with a bare CSV in the
public format, the label is the default per-user rule (cohort: every first-seen
date in the file; features from each user's first 7 days; retained if they
post again 7-28 days after their first post) and the evaluation is 5 folds with
5 positives each; the report says which. Writes
``results/eda/<name>/<timestamp>/`` (report.md, report.html, PNGs, eda.json)
atomically, like a run folder.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from toolkit.analysis.eda import figures as figs
from toolkit.analysis.eda import stats
from toolkit.analysis.report_html import markdown_to_html
from toolkit.analysis.topics import nmf_topics, topic_retention
from toolkit.data.clock import DEFAULT_TIMEZONE
from toolkit.data.crawl import account_created, daily_volume
from toolkit.errors import ToolkitError
from toolkit.registry import TASKS, task_of

# A bare CSV gets this label over its whole date range, with the default crawl-coverage rule that
# `run` applies to CSV data: a report on labels made by the crawl's gaps would mislead. The counts
# say which rule was applied; a spec sets another (or `label.coverage: null`).
DEFAULT_LABEL = {"observe_days": 7, "retained_if": {"returns_after_days": 7, "horizon_days": 28}}


@dataclass
class EdaInput:
    name: str
    posts: pd.DataFrame
    label: object  # LabelSpec
    label_source: str  # "the spec" or the default rule
    needed_positives: int  # what the evaluation asks for
    seed: int
    timezone: str = DEFAULT_TIMEZONE  # the clock of the post times (data.timezone)
    local_time: str = "data"  # the clock of posting hours (data.local_time)
    ip_zones: dict | None = None  # data.ip_zones
    task: object = None  # the spec's task (toolkit.tasks; a posts CSV: its default label's); says which view


def load_input(path: str | Path, overrides: list[str] | None = None) -> EdaInput:
    """A spec's data and label (with ``--set`` ``overrides``), or a posts CSV's under the default label."""
    from toolkit.data.label import parse_label
    from toolkit.data.posts import load_posts

    path = Path(path)
    if path.suffix.lower() in (".yaml", ".yml"):
        from toolkit.experiment.inputs import data_path, effective_label
        from toolkit.experiment.spec import load_spec

        spec = load_spec(path, overrides)
        posts, _ = load_posts(data_path(spec), **spec.data.load_options())
        need = spec.evaluation.folds * spec.evaluation.min_positives_per_fold
        return EdaInput(spec.name, posts, effective_label(spec), "the spec", need, spec.seed, spec.data.timezone,
                        spec.data.local_time, spec.data.ip_zones, spec.build_task())
    if path.suffix.lower() != ".csv":
        raise ToolkitError(f"eda takes a spec (.yaml) or a posts CSV (.csv). Got {str(path)!r} instead.")
    if overrides:
        raise ToolkitError(f"--set changes a spec's values; {str(path)!r} is a posts CSV, read with the default "
                           f"label. Write a spec with data.path: {path.name} to choose another label, or drop "
                           f"--set (got {', '.join(overrides)}).")
    posts, _ = load_posts(path)
    first, last = posts["create_time"].min().date(), posts["create_time"].max().date()
    label = parse_label({"cohort": {"first_seen": [str(first), str(last)]}, **DEFAULT_LABEL})
    return EdaInput(path.stem, posts, label, "the default rule (give a spec to choose another)", 25, 0,
                    task=TASKS.get(label.default_task)())


#: RedNote opened in 2013: an object id decoding to an earlier time is not an account id
FIRST_ACCOUNT = pd.Timestamp("2013-06-01")


def creation_weeks(user_ids: pd.Series, data_end: str, *, max_groups: int = 20) -> pd.Series:
    """Monday of each account's creation week; None where unknown.

    Unknown: not an object id, or a creation time outside 2013-06-01 .. data end
    (ids that merely look like object ids). Weeks beyond the latest
    ``max_groups - 1`` are pooled as ``earlier`` so a long-lived platform does
    not give hundreds of one-user rows.
    """
    created = account_created(user_ids).dt.tz_localize(None)
    plausible = (created >= FIRST_ACCOUNT) & (created <= pd.Timestamp(data_end) + pd.Timedelta(days=1))
    weeks = created.where(plausible).dt.to_period("W").dt.start_time
    distinct = sorted(weeks.dropna().unique())
    text = weeks.dt.strftime("%Y-%m-%d").astype(object).where(weeks.notna(), None)
    if len(distinct) > max_groups:
        cut = distinct[-(max_groups - 1)]
        text = text.where(~(weeks < cut), "earlier")
    return text


def windows(label, data_end: str) -> list[tuple[str, object, object]]:
    """The spec's windows for the volume plot."""
    out = [("cohort (first seen)", label.cohort_start, label.cohort_end)]
    if label.observe_until is not None:
        out.append(("features until", label.observe_until, label.observe_until))
    if label.active_between:
        out.append(("label window", *label.active_between))
    elif label.horizon_days is not None:  # later arrivals cannot be labelled: their window runs past the data
        last = pd.Timestamp(data_end) - pd.Timedelta(days=label.horizon_days)
        out.append(("last first-seen day with a full label window", last, last))
    out.append(("data end", data_end, data_end))
    return out


def clock_check(data: EdaInput) -> dict:
    """Posts whose IP location names places none of whose zones runs on ``data.timezone`` at posting time."""
    from toolkit.data.local_time import disagreement

    found = disagreement(data.posts["create_time"], data.posts["ip_location"], data.timezone)
    return {**found, "timezone": data.timezone, "local_time": data.local_time}


def analyse(data: EdaInput, folder: Path, *, n_topics: int | None = None) -> dict:
    """Every number and figure of the report; figures are written into ``folder``.

    A ``time_to_return`` label gets the survival view (its counts at the top, univariate Cox hazard
    ratios, Kaplan-Meier curves by group) in place of the yes/no one (retention rates, correlations),
    which would read a yes/no label the spec does not have.
    """
    from toolkit.data.users import build_users

    users, y, report = build_users(data.posts, data.label, timezone=data.timezone, local_time=data.local_time,
                                   ip_zones=data.ip_zones)
    task = data.task if data.task is not None else TASKS.get(data.label.default_task)()
    extra = task.eda_users(data)  # a task's own users (time to return: censored users kept), or None
    pool = users if extra is None else extra[0]  # topics over every user the report reads
    topics = nmf_topics(pool["text"].tolist(), n_topics=n_topics, seed=data.seed)
    if n_topics and topics["n_topics"] < n_topics:  # NMF cannot find more topics than users or distinct words
        topics["rule"] = (f"{n_topics} asked for, {topics['n_topics']} made: the most {len(pool):,} users' text "
                          "allows")
    assignment = pd.Series(topics.pop("assignment"), index=pool["user_id"].to_numpy())
    volume = daily_volume(data.posts["create_time"])
    mix = stats.post_mix(data.posts)
    files = {
        "volume": figs.volume_figure(volume, windows(data.label, report.data_end), folder / "volume.png"),
        "engagement": figs.engagement_figure(data.posts, folder / "engagement.png"),
        "mix": figs.mix_figure(mix, users["zh_share"], folder / "posts_mix.png"),
    }
    view = task.eda_view(data, users, y, report, extra, assignment, folder, files)
    topics["retention"] = view.pop("topic_retention")
    return {
        "name": data.name, "label": report.label, "label_source": data.label_source,
        "task": task.registry_name,
        "arrival": report.arrival, "data_warnings": list(report.warnings),
        "volume": {"days": int(len(volume)), "empty_days": int((volume == 0).sum()),
                   "first": str(volume.index[0]), "last": str(volume.index[-1])},
        "clock": clock_check(data),
        "lower_bound_share": stats.lower_bound_shares(data.posts), "engagement": stats.count_summary(data.posts),
        "mix": mix,
        "zh_share": {"mean": float(users["zh_share"].mean()), "mostly_chinese": float((users["zh_share"] > 0.5).mean())},
        "topics": topics, **view,
        "figures": {k: p.name for k, p in files.items()},
    }


def binary_counts(data: EdaInput, report) -> dict:
    """The yes/no label's counts (the report's and the terminal's first table)."""
    return {"posts": int(len(data.posts)), "users": report.users, "cohort": report.in_cohort,
            "censored_by_data_end": report.censored,
            "censored_by_coverage": int(getattr(report, "censored_by_coverage", 0)),
            "labelled": report.labelled, "positives": report.positives,
            "positive_rate": report.positive_rate, "needed_positives": data.needed_positives,
            "not_yet_active": report.not_yet_active, "coverage": report.coverage}


def binary_view(data: EdaInput, users, y, report, assignment: pd.Series, folder: Path, files: dict) -> dict:
    """Retention by day, week and topic, the first-seen AUC and the correlations; figures join ``files``."""
    week = creation_weeks(users["user_id"], report.data_end)
    by_week = stats.rate_table(week[week.notna()].rename("week"), y[week.notna().to_numpy()])
    by_day = stats.rate_table(pd.to_datetime(users["first_seen"]).dt.date.rename("day"), y)
    corr = stats.correlations(users, y, data.seed)
    per_topic = topic_retention(assignment.reindex(users["user_id"]).fillna(-1).astype(int).to_numpy(), y)
    files["by_day"] = figs.rate_figure(by_day, "day", folder / "retention_by_day.png",
                                       title="Retention by first-seen day", xlabel="first-seen day")
    files["correlation"] = figs.correlation_figure(corr, folder / "correlation.png")
    files["topics"] = figs.rate_figure(per_topic, "topic", folder / "retention_by_topic.png",
                                       title="Retention by NMF topic", xlabel="topic (-1: none)")
    if len(by_week):
        files["by_week"] = figs.rate_figure(by_week, "week", folder / "retention_by_week.png",
                                            title="Retention by account-creation week", xlabel="week starting")
    return {"counts": binary_counts(data, report), "first_seen_auc": stats.first_seen_auc(users, y, data.seed),
            "by_day": by_day.to_dict("records"), "by_week": by_week.to_dict("records"),
            "object_ids": int(week.notna().sum()), "correlations": corr.to_dict("records"),
            "topic_retention": per_topic.to_dict("records")}


def time_to_return_view(data: EdaInput, survival, report, assignment: pd.Series, folder: Path, files: dict) -> dict:
    """The time-to-return counts, univariate Cox hazard ratios and Kaplan-Meier section; figures join ``files``."""
    from toolkit.analysis.eda.hazard import hazard_ratios

    users, label = survival[:2]
    ratios = hazard_ratios(users, label)
    files["hazard_ratios"] = figs.hazard_ratio_figure(ratios, folder / "hazard_ratios.png")
    ttr = time_to_return_section(data, survival, assignment, folder, files)
    c = ttr["counts"]
    # the top table: the users and returns the whole page reads, not a yes/no label the spec does not have
    counts = {**binary_counts(data, report), "labelled": c["in_analysis"], "positives": c["returned"],
              "positive_rate": c["returned"] / max(c["in_analysis"], 1),
              "censored_by_data_end": c["censored_by_data_end"], "censored": c["censored"], "in_gap": c["in_gap"],
              "out_of_view": c["out_of_view"], "interval_censored": c["interval_censored"]}
    return {"counts": counts, "hazard_ratios": ratios.to_dict("records"), "time_to_return": ttr,
            "topic_retention": []}


def time_to_return_users(data: EdaInput):
    """:func:`~toolkit.data.time_to_return_users.build_time_to_return_users`'s four results."""
    from toolkit.data.time_to_return_users import build_time_to_return_users

    return build_time_to_return_users(data.posts, data.label, timezone=data.timezone, local_time=data.local_time,
                                ip_zones=data.ip_zones)


def time_to_return_section(data: EdaInput, survival, assignment: pd.Series, folder: Path, files: dict) -> dict | None:
    """The Kaplan-Meier section's numbers; its figures join ``files``."""
    if survival is None:
        return None
    from dataclasses import asdict

    from toolkit.analysis.eda.km import km_section

    users, label, _, counts = survival
    ttr = data.label.time_to_return
    words = ("days after the observation window" if ttr.after_days == getattr(data.label, "observe_days", None)
             else f"days after day {ttr.after_days} (from day 0)")
    section, written = km_section(users, label, assignment.reindex(users["user_id"]).to_numpy(),
                                  ttr.horizon_days(), folder, xlabel=words)
    files.update(written)
    return {"after_days": ttr.after_days, "follow_days": ttr.follow_days, "counts": asdict(counts), **section}


#: the most NMF topics ``eda --topics`` takes: past a few dozen, topics hold too few users for a rate
MAX_TOPICS = 100


def check_topics(n_topics) -> None:
    """Refuse a topic count that is not an int from 1 to :data:`MAX_TOPICS` (None: the default rule)."""
    if n_topics is None:
        return
    if isinstance(n_topics, bool) or not isinstance(n_topics, int) or not 1 <= n_topics <= MAX_TOPICS:
        big = isinstance(n_topics, int) and not isinstance(n_topics, bool) and n_topics.bit_length() > 63
        shown = "an int over 2**63" if big else repr(n_topics)[:40]
        raise ToolkitError(f"--topics must be an int from 1 to {MAX_TOPICS} (each topic needs users for a retention "
                           f"rate). Got {shown} instead.")


def run_eda(path: str | Path, *, results_dir: str | Path = "results", n_topics: int | None = None,
            overrides: list[str] | None = None) -> tuple[Path, dict]:
    """Analyse, write the report folder, return ``(folder, result)``; ``overrides`` are a spec's ``--set``."""
    from toolkit.experiment.run_folder import ResultsFolder

    check_topics(n_topics)
    data = load_input(path, overrides)
    with ResultsFolder(Path(results_dir) / "eda", data.name) as out:
        result = analyse(data, out.path, n_topics=n_topics)
        markdown = task_of(result).eda_markdown(result)
        out.write_text("report.md", markdown)
        out.write_text("report.html", markdown_to_html(markdown, out.path, f"EDA: {data.name}",
                                                       figures=result["figures"].values()))
        out.write_text("eda.json", json.dumps(result, indent=2, default=str, ensure_ascii=False) + "\n")
    return out.final, result
