"""``report.html`` of a run folder: what the terminal prints after ``run``, as a page with the folder's figures.

Written from the run's own ``metrics.json`` content (the same numbers, never recomputed), as markdown
first and then through :func:`toolkit.report_page.markdown_to_html`, the renderer of the eda and
explain reports, so it shares their look and their safety rules: every value that can come from the
data or the spec (label text, warnings, names) goes through
:func:`toolkit.sanitize.for_markdown_cell`, and only the figures this run wrote (``coverage.png``,
``survival_calibration.png``) are embedded, by name.
"""

from __future__ import annotations

import math
from pathlib import Path

from toolkit.evaluation.metrics import METRIC_NAMES
from toolkit.registry import task_of
from toolkit.report_page import markdown_to_html
from toolkit.safe_io import atomic_write
from toolkit.sanitize import for_markdown_cell as _md

#: the figures a run folder may hold, in the order the report shows them
FIGURES = ("coverage.png", "survival_calibration.png")
_BASELINE_WORDS = {"timing": "timing alone (day 0, delay to first post)", "first_seen": "first-seen date alone",
                   "exposure": "exposure alone (days observed, posts)"}


def _f(x, fmt: str = ".3f") -> str:
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else format(x, fmt)


def _ci(m: dict, fmt: str = ".3f") -> str:
    return f"{_f(m.get('ci_low'), fmt)} .. {_f(m.get('ci_high'), fmt)}" if "ci_low" in m else "-"


def _counts(result: dict) -> list[str]:
    d = result["data"]
    ttr = d.get("time_to_return")
    if ttr:
        rate = ttr["returned"] / max(ttr["in_analysis"], 1)
        lines = ["| users in file | in cohort | in the analysis | returns seen | share returned | censored | "
                 "censored by data end | crawl gap in follow-up | out of view |", "|" + "---:|" * 9,
                 f"| {d['users']} | {d['in_cohort']} | {ttr['in_analysis']} | {ttr['returned']} | {rate:.2%} | "
                 f"{ttr['censored']} | {ttr['censored_by_data_end']} | {ttr['in_gap']} | {ttr['out_of_view']} |"]
    else:
        lines = ["| users in file | in cohort | censored (data end) | censored (crawl coverage) | not yet active | "
                 "labelled | retained | rate |", "|" + "---:|" * 8,
                 f"| {d['users']} | {d['in_cohort']} | {d['censored']} | {d.get('censored_by_coverage', 0)} | "
                 f"{d.get('not_yet_active', 0)} | {d['labelled']} | {d['positives']} | {d['positive_rate']:.2%} |"]
    return lines + ["", f"Label: {_md(d['label'])}. Crawl coverage: {_md(d.get('coverage', 'off'))}. "
                        f"Evaluation: {_md(result['evaluation'])}.", ""]


def _binary_rows(result: dict) -> list[str]:
    m = result["metrics"]
    rows = []
    for name in METRIC_NAMES:
        x = m[name]
        p = f"p = {_f(x['p_vs_chance'], '.3g')} against chance" if "p_vs_chance" in x else ""
        if x.get("fallback"):
            p = "every fold fell back to the prevalence threshold"
        rows.append(f"| {name} | {_f(x['mean'])} | {_ci(x)} | {p} |")
    if "brier" in m:
        rows.append(f"| brier (lower is better) | {_f(m['brier']['mean'])} | {_ci(m['brier'])} | "
                    f"a constant at the base rate scores {_f(m['brier'].get('base_rate'))} |")
        rows.append(f"| ece ({m['ece'].get('bins', 10)} bins) | {_f(m['ece']['mean'])} | - | |")
    fold = result.get("fold_roc_auc") or {}
    if fold.get("folds"):
        rows.append(f"| roc_auc, mean of folds | {_f(fold['mean'])} | - | sd {_f(fold['sd'])} over {fold['folds']} folds |")
    return rows


def _time_to_return_rows(metrics: dict, prefix: str = "") -> list[tuple[str, dict]]:
    rows = [("c_index", metrics["c_index"]), ("uno_c", metrics["uno_c"])]
    rows += [(f"auc_at {h} days", m) for h, m in metrics["auc_at"].items()]
    return [(prefix + n, m) for n, m in rows + [("ibs (lower is better)", metrics["ibs"])]]


_ORACLE_NOTE = "synthetic data: the true chances on the same users"


def binary_report_lines(result: dict) -> list[str]:
    """A yes/no run's rows of the metrics table, its oracle's included."""
    oracle = result.get("oracle") or {}
    return _binary_rows(result) + [f"| oracle {n} | {_f(m['mean'])} | {_ci(m)} | {_ORACLE_NOTE} |"
                                   for n, m in oracle.items()]


def time_to_return_report_lines(result: dict) -> list[str]:
    """A time-to-return run's rows of the metrics table, its oracle's included."""
    lines = [f"| {n} | {_f(m['mean'])} | {_ci(m)} | |" for n, m in _time_to_return_rows(result["metrics"])]
    oracle = result.get("oracle")
    return lines + [f"| {n} | {_f(m['mean'])} | {_ci(m)} | {_ORACLE_NOTE} |"
                    for n, m in (_time_to_return_rows(oracle, "oracle ") if oracle else [])]


def _metrics(result: dict) -> list[str]:
    conf = result.get("confidence", 0.95)
    lines = ["## Metrics", "", f"Out-of-fold, with {conf:.0%} intervals.", "",
             f"| metric | mean | {conf:.0%} interval | note |", "|---|---:|---:|---|"]
    lines += task_of(result).report_metric_lines(result)
    lines += [f"| noise-free ceiling {n} | {_f(m['mean'])} | {_ci(m)} | {_ORACLE_NOTE} |"
              for n, m in (result.get("ceiling") or {}).items()]
    intervals = result.get("intervals") or {}
    if intervals.get("method") or intervals.get("note"):
        words = "; ".join(_md(intervals[k]) for k in ("method", "note") if intervals.get(k))
        lines += ["", f"> Intervals: {words}."]
    return lines + [""]


def _permutation(result: dict) -> list[str]:
    perm = result.get("permutation")
    stat = task_of(result).headline()
    if not perm or stat not in perm:
        return []
    lines = ["## Permutation test", "",
             "Each p-value answers the question in its row: how often a model fitted on shuffled labels scores "
             "as well as this one.", "", "| statistic | observed | p | question | null 5%-95% | shuffles |",
             "|---|---:|---:|---|---:|---|"]
    for key in (stat, f"delta_{stat}"):
        p = perm[key]
        name = stat if key == stat else f"Δ {stat} over {p.get('baseline', 'baseline')}"
        lines.append(f"| {_md(name)} | {_f(p.get('observed'), '+.3f' if key != stat else '.3f')} | "
                     f"{_f(p['p_value'], '.3g')} | {_md(p.get('question', ''))} | {_f(p['null']['q05'])} .. "
                     f"{_f(p['null']['q95'])} | {p.get('shuffles', perm['n'])} of {_md(p.get('shuffled', 'the labels'))} |")
    return lines + [""]


def _baselines(result: dict) -> list[str]:
    task = task_of(result)
    score, second, delta = task.headline(), task.second_metric, f"delta_{task.headline()}"
    titles = tuple(task.titles[k] for k in ("headline", "second", "delta"))
    m = result["metrics"]
    lines = ["## Confound baselines", "",
             f"The same folds scored by the confounds alone ({task.titles['baseline_model']}); "
             "the model should be clearly above them, or it may be learning when or how long a user was seen.", "",
             f"| scores from | {titles[0]} | {titles[1]} | {titles[2]} (interval) |", "|---|---:|---:|---:|",
             f"| the model | {_f(m[score]['mean'])} | {_f(m[second]['mean'])} | |"]
    for name, b in (result.get("baselines") or {}).items():
        d = b[delta]
        lines.append(f"| {_md(_BASELINE_WORDS.get(name, name))} | {_f(b[score]['mean'])} [{_ci(b[score])}] | "
                     f"{_f(b[second]['mean'])} | {_f(d['mean'], '+.3f')} [{_ci(d, '+.3f')}] |")
    no_features = result.get("no_features")
    if no_features:
        lines.append(f"| no features (one Kaplan-Meier curve for everyone) | {_f(no_features['c_index']['mean'])} | "
                     f"{_f(no_features['ibs']['mean'])} | |")
    return lines + [""]


def _threshold(result: dict) -> list[str]:
    thr = result.get("threshold")
    if not thr:
        return []
    text = f"Threshold rule {_md(thr['rule'])}, chosen on each fold's validation part: mean {_f(thr['mean'])}"
    if thr.get("fallbacks"):
        text += (f"; {thr['fallbacks']} of {len(result.get('folds', []))} folds fell back to flagging the training "
                 f"positive rate (validation part with fewer than {thr['min_validation_positives']} positives)")
    if thr.get("flagged"):
        text += (f"; flags {thr['flagged']['out_of_fold']:.1%} of users out of fold, the final model "
                 f"{thr['flagged']['final_model']:.1%} of its training users")
    return ["## Threshold", "", text + ".", ""]


def _calibration_over_time(result: dict, figures: set[str]) -> list[str]:
    cal = result.get("calibration_over_time")
    if not cal:
        return []
    days = [str(h) for h in cal["horizons_days"]]
    lines = ["## Calibration over time", "",
             f"Users split into {cal['groups']} groups by out-of-fold risk (1: lowest); per horizon the mean "
             "predicted share returned by then against the Kaplan-Meier one, with its interval.", "",
             "| risk group | users | " + " | ".join(f"by {d} days: predicted / observed" for d in days) + " |",
             "|---:|---:|" + "---:|" * len(days)]
    for g in cal["by_group"]:
        lines.append(f"| {g['group']} | {g['users']} | " + " | ".join(
            f"{_f(c['predicted'])} / {_f(c['observed'])} [{_f(c['observed_low'])}, {_f(c['observed_high'])}]"
            for c in (g["at"][d] for d in days)) + " |")
    if "survival_calibration.png" in figures:
        lines += ["", "![calibration over time](survival_calibration.png)"]
    return lines + [""]


def _cost(result: dict) -> list[str]:
    c = result.get("cost") or {}
    if not c:
        return []
    featurize = ", ".join(f"{_md(k)} {v:.2f}" for k, v in (c.get("featurize_s") or {}).items()) or "-"
    return ["## Cost", "", "| featurize s (per fold) | train s (per fold) | predict ms / 1,000 users | head params | "
            "model MB | peak MB |", "|---|---:|---:|---:|---:|---:|",
            f"| {featurize} | {_f(c.get('train_s'), '.2f')} | {_f(c.get('infer_ms_per_1k'), '.0f')} | "
            f"{_f(c.get('params'), ',')} | {_f((c.get('model_bytes') or 0) / 1e6, '.2f')} | "
            f"{_f(c.get('peak_rss_mb'), '.0f')} |", ""]


def run_markdown(result: dict, figures: set[str]) -> str:
    """The report's markdown; ``figures`` are the PNG names present in the run folder."""
    warnings = [w if w.startswith("warning:") else f"warning: {w}" for w in result.get("warnings", [])]
    lines = [f"# Run: {_md(result['name'])}", "",
             f"Created {_md(result.get('created', ''))} by toolkit {_md(result.get('toolkit_version', ''))}; spec "
             f"sha256 `{_md(str(result.get('spec_sha256', ''))[:16])}`.", ""]
    lines += [f"- **warning:** {_md(w.split(':', 1)[1].strip())}" for w in warnings] + [""]
    lines += ["## Data", "", *_counts(result)]
    if "coverage.png" in figures:
        lines += ["![crawl coverage](coverage.png)", ""]
    lines += _metrics(result) + _permutation(result) + _baselines(result) + _threshold(result)
    lines += _calibration_over_time(result, figures) + _cost(result)
    lines += ["## Files", "", "metrics.json (every number above), predictions.csv (out-of-fold scores per user), "
              "spec.yaml (the resolved spec), run.log, model/ (the final model, for predict); "
              "`python -m toolkit explain` on this folder writes explain/report.html.", ""]
    return "\n".join(lines)


def write_run_report(folder: Path, result: dict) -> Path:
    """Write ``report.html`` into the run ``folder`` (after its figures), atomically; return its path."""
    folder = Path(folder)
    figures = {name for name in FIGURES if (folder / name).is_file()}
    page = markdown_to_html(run_markdown(result, figures), folder, f"Run: {result['name']}", figures=figures)
    atomic_write(folder / "report.html", page, within=folder)
    return folder / "report.html"
