"""``explain.md`` of a time-to-return run (see :mod:`toolkit.analysis.explain_time_to_return`)."""

from __future__ import annotations

from toolkit.analysis.figures import BELOW_ZERO
from toolkit.analysis.terms import terms_lines
from toolkit.sanitize import for_markdown_cell as cell


def _importance_table(rows: list[dict], direction: bool) -> list[str]:
    if not rows:
        return ["(no behavior block in this spec)"]
    lines = ["| feature | C-index drop | interval over repeats |" + (" log-hazard change per SD |" if direction else ""),
             "|---|---:|---|" + ("---:|" if direction else "")]
    for r in rows:
        extra = f" {r['log_hazard_change_per_sd']:+.3g} |" if direction else ""
        lines.append(f"| {cell(r['name'].split(':', 1)[1])} | {r['mean']:+.4f} | "
                     f"{r['ci_low']:+.4f} .. {r['ci_high']:+.4f} |{extra}")
    return lines


def _topic_lines(topics: dict) -> list[str]:
    h = topics["horizon_days"]
    lines = [f"NMF topics of the users' text ({topics['n_topics']} topics, {topics['rule']}), the most returning "
             f"first: the Kaplan-Meier chance of a return by {h} days after the observation window, censored users counted "
             "while followed; 95% Greenwood (log-minus-log) intervals.", "",
             f"| topic | words | users | returns seen | return by {h} d | 95% interval |",
             "|---:|---|---:|---:|---:|---|"]
    for t in topics["topics"]:
        words = cell(", ".join(t["english"][:5] + t["chinese"][:5]))
        lines.append(f"| {cell(t['id'])} | {words} | {t['users']} | {t['returns']} | {t['rate']:.3f} | "
                     f"{t['ci_low']:.3f} .. {t['ci_high']:.3f} |")
    return lines


def _calibration_lines(cal: dict | None) -> list[str]:
    """The run's ``calibration_over_time``: per risk group, predicted against Kaplan-Meier returns by each horizon."""
    if cal is None:
        return ["This run's metrics.json has no calibration_over_time (runs of this version write it)."]
    days = [f"{d:g}" for d in cal["horizons_days"]]
    lines = [f"From the run's out-of-fold predictions (`metrics.json` → `calibration_over_time`, figure "
             f"`survival_calibration.png` in the run folder): users split into {cal['groups']} groups by "
             f"out-of-fold risk (1: lowest); per horizon, the mean predicted chance of a return by then against "
             f"the Kaplan-Meier one, with its {cal['confidence']:.0%} interval.", "",
             "| risk group | users | " + " | ".join(f"by {d} days: predicted / observed" for d in days) + " |",
             "|---:|---:|" + "---|" * len(days)]
    for g in cal["by_group"]:
        cells = [f"{c['predicted']:.3f} / {c['observed']:.3f} [{c['observed_low']:.3f}, {c['observed_high']:.3f}]"
                 for c in (g["at"][d] for d in days)]
        lines.append(f"| {g['group']} | {g['users']} | " + " | ".join(cells) + " |")
    gaps = [f"{d} days {cal['summary'][d]['mean_abs_gap']:.3f}" for d in days if "mean_abs_gap" in cal["summary"][d]]
    if gaps:
        lines += ["", "Mean absolute gap (users-weighted): " + ", ".join(gaps) + "."]
    return lines


def time_to_return_markdown(r: dict) -> str:
    d = r["design"]
    lines = [
        f"# What drives returning: {cell(r['run'])}", "",
        "## Permutation importance", "",
        f"The spec's pipeline was refitted on a {d['train_users']}-user training part (stratified by whether a "
        f"return was seen) and scored on {d['held_out_users']} held-out users ({d['held_out_returns']} returns "
        f"seen; held-out C-index {d['held_out_c_index']:.3f}). Each row is the drop in the held-out C-index "
        "(Harrell's) when that feature (or the whole block) is shuffled across users; the interval is the "
        f"2.5th-97.5th percentile over {d['repeats']} shuffles (scikit-learn's permutation_importance). "
        "\"Log-hazard change per SD\" is the mean change in the held-out users' log cumulative hazard of a "
        "return by the end of follow-up, log(-log S), when that column alone rises by one standard deviation "
        "(for cox exactly the change in log relative hazard, so its exp is the hazard ratio): positive, a sooner "
        "return.", "",
        "### Blocks", "", *_importance_table(r["importance"]["blocks"], False), "",
        "### Behavior columns", "", *_importance_table(r["importance"]["behavior"], True), "",
        "![importance](importance.png)", "",
        f"> Reading the chart: {BELOW_ZERO}; an interval that crosses zero: the feature is not shown to matter.", "",
        "## Terms associated with returning sooner and later", "", *terms_lines(r["terms"]), "",
        "## Topics and returning", "", *_topic_lines(r["topics"]), "",
        "## Calibration over time", "", *_calibration_lines(r["calibration"]), "",
    ]
    return "\n".join(lines)
