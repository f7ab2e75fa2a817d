"""The EDA report's markdown for a ``time_to_return`` spec: the survival view.

Its counts are the time-to-return ones (users in the analysis, returns seen, censored), the
behavior section is univariate Cox hazard ratios (:mod:`toolkit.analysis.eda.hazard`) and the
groups are compared by Kaplan-Meier curves (:mod:`toolkit.analysis.eda.km`), in place of the
yes/no view's retention rates and correlations, which would read a label the spec does not have.
Values from the data go through :func:`toolkit.sanitize.for_markdown_cell`, as in the yes/no report.
"""

from __future__ import annotations

from toolkit.analysis.eda.hazard import MIN_RETURNS, TOO_FEW_RETURNS
from toolkit.analysis.eda.km_report import km_lines
from toolkit.analysis.eda.report import _f, engagement_lines, mix_lines, warnings
from toolkit.sanitize import for_markdown_cell as _md


def _counts(r: dict) -> list[str]:
    c = r["counts"]
    return ["| posts | users | in cohort | in the analysis | returns seen | share returned | censored | "
            "censored (data end) | crawl gap in follow-up | out of view (left out) |", "|" + "---:|" * 10,
            f"| {c['posts']} | {c['users']} | {c['cohort']} | {c['labelled']} | {c['positives']} | "
            f"{c['positive_rate']:.2%} | {c['censored']} | {c['censored_by_data_end']} | {c['in_gap']} | "
            f"{c['out_of_view']} |", "",
            f"Censored users are kept (they count while followed), so these are the users every section below "
            f"reads. Crawl coverage applied: {_md(c.get('coverage', 'off'))}.", ""]


def _hazard_lines(rows: list[dict]) -> list[str]:
    returns = rows[0]["returns"] if rows else 0
    lines = ["## Behavior and returning", "",
             "One Cox proportional-hazards model per users-table column (the `cox` head, no penalty, the column "
             "standardised): the hazard ratio of a return per standard deviation of the column, above 1 for users "
             "who return sooner, below 1 for later; Wald 95% interval and p-value.", ""]
    if rows and not rows[0]["readable"]:
        return lines + [f"**{TOO_FEW_RETURNS}**: {returns} returns seen, fewer than {MIN_RETURNS}; a hazard ratio "
                        "on so few says where they fell, so none is shown.", "", "![hazard ratios](hazard_ratios.png)",
                        ""]
    lines += ["| column | hazard ratio per SD | 95% interval | p |", "|---|---:|---:|---:|"]
    lines += [f"| {_md(h['column'])} | {_f(h['hr'])} | {_f(h['ci_low'])} .. {_f(h['ci_high'])} | {_f(h['p'], '.3g')} |"
              for h in rows]
    return lines + ["", "![hazard ratios](hazard_ratios.png)", ""]


def _topics(t: dict) -> list[str]:
    lines = [f"NMF over the TF-IDF of each user's text (jieba for Chinese); {t['n_topics']} topics ({_md(t['rule'])}). "
             "Each user goes to their heaviest topic; how each topic's users return is under "
             "\"Time to return: topic\" below.", "", "| topic | top English words | top Chinese words |", "|---:|---|---|"]
    lines += [f"| {_md(x['id'])} | {_md(', '.join(x['english'])) or '-'} | {_md(', '.join(x['chinese'])) or '-'} |"
              for x in t["topics"]]
    return lines


def render_time_to_return(r: dict) -> str:
    """The markdown of the survival view."""
    v = r["volume"]
    lines = [f"# Exploratory analysis: {_md(r['name'])}", "", f"Label ({_md(r['label_source'])}): {_md(r['label'])}.", ""]
    lines += [f"- **warning:** {w}" for w in warnings(r)] + [""]
    lines += ["## Counts", "", *_counts(r)]
    lines += ["## Crawl volume", "",
              f"{v['days']} days from {_md(v['first'])} to {_md(v['last'])}, {v['empty_days']} without any post. The "
              "spec's windows are marked; returns by first-seen week are under \"Time to return: first-seen week\".",
              "", "![volume](volume.png)", ""]
    lines += engagement_lines(r) + _hazard_lines(r["hazard_ratios"]) + mix_lines(r)
    lines += ["## Topics", "", *_topics(r["topics"]), ""]
    lines += km_lines(r["time_to_return"])
    return "\n".join(lines)
