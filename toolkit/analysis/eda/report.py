"""The EDA report as markdown, from the numbers :func:`toolkit.analysis.eda.analyse` returns.

Every value that came from the posts file or the spec (names, post types, topic words, days,
label text) goes through :func:`toolkit.sanitize.for_markdown_cell`: on one line, with Markdown
syntax escaped, so data never starts a construct (an ``![x](path)`` image line above all).
"""

from __future__ import annotations

import math

from toolkit.analysis.eda.figures import top_types
from toolkit.analysis.eda.stats import MIN_POSITIVES, TOO_FEW
from toolkit.registry import task_of
from toolkit.sanitize import for_markdown_cell as _md


def warnings(result: dict) -> list[str]:
    """What a researcher must know before training on this data."""
    c, auc = result["counts"], result.get("first_seen_auc")
    out = list(result.get("data_warnings", []))
    if c["positives"] < c["needed_positives"]:
        what = task_of(result).positives_word
        out.append(f"only {c['positives']} {what}; the evaluation asks for at least {c['needed_positives']} "
                   "(folds x min_positives_per_fold): use fewer folds, a longer window or more data")
    clock = result.get("clock") or {}
    if clock.get("known") and clock["disagree"] >= 0.2 * clock["known"]:
        hours = ("posting hours use each place's zone where it has one, the data's clock elsewhere"
                 if clock["local_time"] == "ip" else "posting hours are cut on the data's clock, not the poster's: "
                 "set data.local_time: ip (and data.ip_zones for places with several zones)")
        out.append(f"{clock['disagree']} of {clock['known']} posts with a known IP location (mostly "
                   f"{', '.join(_md(p) for p in clock['places'])}) come from places whose clock differs from data.timezone "
                   f"({clock['timezone']}) when they posted; {hours}")
    if auc is None:  # time to return: no yes/no label, so no first-seen AUC or correlations to mark
        return out
    if not auc.get("readable", True):
        out.append(f"fewer than {MIN_POSITIVES} labelled users in the smaller class ({c['positives']} positives of "
                   f"{c['labelled']}): correlations and retention by group are marked '{TOO_FEW}'")
    if auc["predicts"] and auc.get("readable", True):
        out.append(f"the first-seen date alone predicts the label: ROC-AUC {auc['auc']:.3f} "
                   f"({auc['ci_low']:.3f} .. {auc['ci_high']:.3f}); a model may learn arrival time, not behavior")
    return out


def _f(x, fmt=".3f") -> str:
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else format(x, fmt)


def _ci(row: dict, fmt: str = ".3f") -> str:
    """The interval cell, or the mark when the label holds too few positives for it to be read."""
    if not row.get("readable", True):
        return TOO_FEW
    return f"{_f(row['ci_low'], fmt)} .. {_f(row['ci_high'], fmt)}"


def _rates(rows: list[dict], key: str, title: str) -> list[str]:
    lines = [f"| {title} | users | retained | rate | 95% interval |", "|---|---:|---:|---:|---|"]
    lines += [f"| {_md(r[key])} | {r['users']} | {r['retained']} | {_f(r['rate'])} | {_ci(r)} |" for r in rows]
    return lines


def _counts(r: dict) -> list[str]:
    c = r["counts"]
    return ["| posts | users | in cohort | censored (data end) | censored (crawl coverage) | labelled | positives | rate |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|",
            f"| {c['posts']} | {c['users']} | {c['cohort']} | {c['censored_by_data_end']} | {c['censored_by_coverage']} | "
            f"{c['labelled']} | {c['positives']} | {c['positive_rate']:.2%} |", "",
            f"Crawl coverage applied: {c.get('coverage', 'off')}. Not yet active (day 0 in the cohort's dates, "
            f"no post in the observation window; not in the cohort): {c.get('not_yet_active', 0)}.",
            *_arrival(r.get("arrival", []))]


def _arrival(rows: list[dict]) -> list[str]:
    """Who is left after censoring against who was in the cohort, by week of day 0."""
    if not rows:
        return []
    lines = ["", "Labelled users against the cohort, by week of day 0 (first seen):", "",
             "| week starting | cohort | labelled | censored (data end) | censored (crawl coverage) |",
             "|---|---:|---:|---:|---:|"]
    return lines + [f"| {_md(w['week'])} | {w['cohort']} | {w['labelled']} | {w['censored_by_data_end']} | "
                    f"{w['censored_by_coverage']} |" for w in rows]


def _topics(t: dict) -> list[str]:
    rates = {row["topic"]: row for row in t["retention"]}
    lines = [f"NMF over the TF-IDF of each user's text (jieba for Chinese); {t['n_topics']} topics ({_md(t['rule'])}). "
             "Each user goes to their heaviest topic; -1: no topic (no usable text).", "",
             "| topic | top English words | top Chinese words | users | retention | 95% interval |",
             "|---:|---|---|---:|---:|---|"]
    for topic in t["topics"]:
        row = rates.get(topic["id"], {"users": 0, "rate": float("nan"), "ci_low": float("nan"), "ci_high": float("nan")})
        lines.append(f"| {_md(topic['id'])} | {_md(', '.join(topic['english'])) or '-'} | "
                     f"{_md(', '.join(topic['chinese'])) or '-'} | "
                     f"{row['users']} | {_f(row['rate'])} | {_ci(row)} |")
    if -1 in rates:
        row = rates[-1]
        lines.append(f"| -1 | (no topic) | | {row['users']} | {_f(row['rate'])} | {_ci(row)} |")
    return lines


def engagement_lines(r: dict) -> list[str]:
    """The engagement section: each count's spread per post, and how often it was shown as a lower bound."""
    lb = r["lower_bound_share"]
    lines = ["## Engagement", "", "| count | median | 90th percentile | max | share shown as a lower bound (1千+) |",
             "|---|---:|---:|---:|---:|"]
    lines += [f"| {_md(c)} | {_f(e['median'], '.0f')} | {_f(e['p90'], '.0f')} | {_f(e['max'], '.0f')} | {lb[c]:.2%} |"
              for c, e in r["engagement"].items()]
    return lines + ["", "![engagement](engagement.png)", ""]


def mix_lines(r: dict) -> list[str]:
    """The posting hour, post type and language section."""
    types = ", ".join(f"{_md(k)} {v:.1%}" for k, v in top_types(r["mix"]["types"]).items())
    peak = max(range(24), key=lambda h: r["mix"]["hours"][h])
    return ["## Posting hour, post type, language", "",
            f"Busiest hour: {peak}:00. Post types: {types}. Mean share of Chinese characters per user: "
            f"{r['zh_share']['mean']:.2f}; users writing mostly Chinese: {r['zh_share']['mostly_chinese']:.1%}.", "",
            "![posts mix](posts_mix.png)", ""]


def render(r: dict) -> str:
    """The report's markdown, yes/no view (a time-to-return label's is :func:`~.survival_report.render_time_to_return`)."""
    auc, v = r["first_seen_auc"], r["volume"]
    lines = [f"# Exploratory analysis: {_md(r['name'])}", "", f"Label ({_md(r['label_source'])}): {_md(r['label'])}.", ""]
    lines += [f"- **warning:** {w}" for w in warnings(r)] + [""]
    lines += ["## Counts", "", *_counts(r), ""]
    lines += ["## Crawl volume and arrival", "",
              f"{v['days']} days from {_md(v['first'])} to {_md(v['last'])}, {v['empty_days']} without any post. The spec's "
              "windows are marked.", "", "![volume](volume.png)", "",
              f"First-seen time alone as a score: ROC-AUC {_f(auc['auc'])} ({_ci(auc)}, stratified bootstrap). "
              + (TOO_FEW + "." if not auc.get("readable", True) else "It predicts the label." if auc["predicts"] else
                 "Its interval includes 0.5: arrival time alone does not predict the label."),
              "", "### Retention by first-seen day (95% Wilson intervals)", "", *_rates(r["by_day"], "day", "day"), "",
              "![by day](retention_by_day.png)", "", "### Retention by account-creation week", ""]
    if r["by_week"]:
        lines += [f"From the {r['object_ids']} user ids that are object ids (creation time in their first 8 hex digits) "
                  "decoding to a time between 2013-06-01 and the data end; older weeks pooled as 'earlier'.",
                  "", *_rates(r["by_week"], "week", "week starting"), "", "![by week](retention_by_week.png)", ""]
    else:
        lines += ["No user id is an object id decoding to a plausible creation time (2013-06-01 .. data end), "
                  "so account creation dates are unknown.", ""]
    lines += engagement_lines(r)
    lines += ["## Behavior and retention", "",
              "Pearson (point-biserial) correlation of each users-table column with retention, 95% Fisher interval, "
              "and the permutation p-value (label shuffles; exact at any size). With fewer than "
              f"{MIN_POSITIVES} labelled users in the smaller class they are marked '{TOO_FEW}'.", "",
              "| column | r | 95% interval | permutation p |", "|---|---:|---|---:|"]
    lines += [f"| {_md(c['column'])} | {_f(c['r'], '+.3f')} | {_ci(c, '+.3f')} | "
              f"{_f(c.get('p_perm'), '.3f') if c.get('readable', True) else TOO_FEW} |" for c in r["correlations"]]
    lines += ["", "![correlation](correlation.png)", "", *mix_lines(r), "## Topics", "", *_topics(r["topics"]), "",
              "![topics](retention_by_topic.png)", ""]
    if r.get("time_to_return"):
        from toolkit.analysis.eda.km_report import km_lines

        lines += km_lines(r["time_to_return"])
    return "\n".join(lines)
