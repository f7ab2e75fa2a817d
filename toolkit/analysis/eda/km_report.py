"""The markdown of the EDA report's time-to-return section (:mod:`toolkit.analysis.eda.km`'s numbers)."""

from __future__ import annotations

from toolkit.analysis.eda.km import TOO_FEW_RETURNS
from toolkit.sanitize import for_markdown_cell as _md


def _s(x: float) -> str:
    return f"{x:.3f}"


def _test_line(test: dict) -> str:
    left = (f"; left out, too few returns: {', '.join(_md(g) for g in test['left_out'])}" if test["left_out"] else "")
    if not test["tested"]:
        return f"Log-rank test: not computed ({test['reason']}{left})."
    return (f"Log-rank test over {test['groups']} groups: chi-square {test['statistic']:.3f} on {test['df']} df, "
            f"p = {test['p_value']:.4g}{left}.")


def _table(rows: list[dict], horizons: list[int]) -> list[str]:
    head = "".join(f" S({h}d) | 95% interval |" for h in horizons)
    lines = [f"| group | users | returns seen | first seen after a gap | censored |{head}",
             "|---|---:|---:|---:|---:|" + "---:|---|" * len(horizons)]
    for r in rows:
        cells = "".join(f" {_s(r['at'][str(h)]['s'])} | " + (
            f"{_s(r['at'][str(h)]['ci_low'])} .. {_s(r['at'][str(h)]['ci_high'])} |" if r["readable"]
            else f"{TOO_FEW_RETURNS} |") for h in horizons)
        lines.append(f"| {_md(r['group'])} | {r['users']} | {r['returns']} | {r['interval_censored']} | "
                     f"{r['censored']} |{cells}")
    return lines


def km_lines(t: dict) -> list[str]:
    """The section: what the curves are, then per grouping its table, test and figure."""
    c = t["counts"]
    lines = ["## Time to return", "",
             f"Returns from day {t['after_days']} to day {t['follow_days']} after day 0: {c['in_analysis']} users in "
             f"the analysis, {c['returned']} returns seen ({c['interval_censored']} first seen right after a crawl gap), "
             f"{c['censored']} censored ({c['censored_by_data_end']} by the data's end), {c['in_gap']} with a gap in "
             f"their follow-up, {c['out_of_view']} out of view (left out).", "",
             "Kaplan-Meier estimates of \"not yet returned\", S, at each horizon (days after day "
             f"{t['after_days']}, the end of the observation window by default), with Greenwood's pointwise 95% "
             "interval on the log-minus-log scale; the figures "
             "draw each group in its own panel beside all users (grey), band only where a group has enough returns, and "
             "mark censored users with a tick. A user is not at risk in a bin the crawl did not cover (nor past "
             "their follow-up), and a return first seen right after a gap counts in the bin it was seen in. Groups "
             f"with fewer than {t['min_returns']} returns are marked '{TOO_FEW_RETURNS}' and left out of the log-rank "
             "test (chi-square with groups - 1 df).", ""]
    for name, g in t["groupings"].items():
        lines += [f"### Time to return: {name}" if name != "all" else "### Time to return: all users", ""]
        lines += _table(g["rows"], t["horizons"]) + [""]
        if g["logrank"] is not None:
            lines += [_test_line(g["logrank"]), ""]
        lines += [f"![{name}]({g['figure']})", ""]
    return lines
