"""Rich tables for the terminal: a run's metrics with intervals, its cost, and the plugin list."""

from __future__ import annotations

from rich.cells import cell_len
from rich.text import Text

from toolkit.evaluation.metrics import METRIC_NAMES
from toolkit.registry import task_of
from toolkit.terminal import Table


def _fmt(x: float) -> str:
    return "nan" if x != x else f"{x:.3f}"


def run_header(result: dict) -> str:
    """A run's first line (its task says what it counts)."""
    return task_of(result).console_header(result)


def metrics_table(result: dict) -> Table:
    """A run's metrics with their intervals, as its task lays them out."""
    return task_of(result).console_metrics(result)


def baselines_table(result: dict) -> Table:
    """The model beside the confound baselines (same folds), as its task lays them out."""
    return task_of(result).console_baselines(result)


def binary_header(result: dict) -> str:
    data = result["data"]
    return (f"{result['name']}: {data['labelled']} users, {data['positives']} retained "
            f"({data['positive_rate']:.2%}); {result['evaluation']}")


def binary_metrics_table(result: dict) -> Table:
    conf = result.get("confidence", 0.95)
    table = Table()
    table.add_column("metric")
    table.add_column("mean", justify="right")
    note = (result.get("intervals") or {}).get("note")
    table.add_column(f"{conf:.0%} CI" + (f" ({note})" if note else ""), justify="right")
    for name in METRIC_NAMES:
        m = result["metrics"][name]
        if m.get("fallback"):
            table.add_row(name, "fallback", f"{_fmt(m['mean'])} at the prevalence threshold, every fold")
        else:
            table.add_row(name, _fmt(m["mean"]), f"{_fmt(m['ci_low'])} - {_fmt(m['ci_high'])}")
    _calibration_rows(table, result)
    _permutation_rows(table, result.get("permutation"))
    fold = result.get("fold_roc_auc")
    if fold and fold.get("folds"):
        table.add_row("roc_auc, mean of folds", _fmt(fold["mean"]), f"sd {_fmt(fold['sd'])} over {fold['folds']}",
                      style="dim")
    for key, words in (("oracle", "oracle"), ("ceiling", "noise-free ceiling")):
        for name, m in result.get(key, {}).items():
            table.add_row(f"{words} {name}", _fmt(m["mean"]), f"{_fmt(m['ci_low'])} - {_fmt(m['ci_high'])}",
                          style="dim")
    thr = result["threshold"]
    caption = f"threshold {thr['rule']!r} (on validation data): mean {thr['mean']:.3f}"
    if thr.get("fallbacks") and thr["fallbacks"] == len(result["folds"]):
        # no fold chose by the rule: a mean "max_f1" threshold would describe a choice never made
        caption = (f"threshold {thr['rule']!r} never chosen: all {thr['fallbacks']} folds fell back to flagging "
                   f"the training positive rate (validation part with < {thr['min_validation_positives']} "
                   f"positives); mean fallback threshold {thr['mean']:.3f}")
    elif thr.get("fallbacks"):
        caption += (f"; {thr['fallbacks']} of {len(result['folds'])} folds fell back to flagging the training "
                    f"positive rate (validation part with < {thr['min_validation_positives']} positives)")
    flagged = thr.get("flagged")
    if flagged:
        caption += (f"; flags {flagged['out_of_fold']:.1%} of users out of fold, the final model (predict) "
                    f"{flagged['final_model']:.1%} of its training users")
    table.caption = caption
    return table


def _calibration_rows(table: Table, result: dict) -> None:
    """Brier score beside a constant at the base rate, and the expected calibration error."""
    m = result["metrics"]
    if "brier" not in m:
        return
    b = m["brier"]
    cal = result.get("calibration", {})
    words = f"calibrated ({cal['method']})" if cal.get("calibrated") else "scores not calibrated"
    table.add_row("brier", _fmt(b["mean"]), f"{_fmt(b['ci_low'])} - {_fmt(b['ci_high'])}; base rate "
                  f"{_fmt(b['base_rate'])}", style="dim")
    e = m["ece"]
    table.add_row("ece (10 bins)", _fmt(e["mean"]), words, style="dim")


def _permutation_rows(table: Table, perm: dict | None, stat: str = "roc_auc") -> None:
    """The permutation test's p-values under the metrics, with the null's median and spread.

    ``stat`` is the statistic the test shuffles for: ``roc_auc``, or ``c_index`` for a time-to-return run.
    """
    if not perm or stat not in perm:
        return
    delta = f"delta_{stat}"
    for key, words in ((stat, stat), (delta, f"Δ {stat} over {perm[delta].get('baseline', 'baseline')}")):
        p = perm[key]
        null = p["null"]
        # the question names what the p-value answers (older results: the shuffle that made it)
        question = f" ({p['question']})" if p.get("question") else ""
        table.add_row(f"{words}, permutation p{question}", _fmt(p["p_value"]),
                      f"null {_fmt(null['q05'])} .. {_fmt(null['q95'])} over {p.get('shuffles', perm['n'])} "
                      f"shuffles of {p.get('shuffled', 'the labels')}", style="dim")


def binary_baselines_table(result: dict) -> Table:
    """The model beside the confound baselines (same folds), with the paired Δ over each."""
    conf = result.get("confidence", 0.95)
    table = Table(title="confound baselines (logistic regression, same folds)", title_justify="left")
    for title in ("scores from", "ROC-AUC", "PR-AUC", f"model Δ ROC-AUC ({conf:.0%} CI)"):
        table.add_column(title, justify="left" if title == "scores from" else "right")
    m = result["metrics"]
    table.add_row("the model", _fmt(m["roc_auc"]["mean"]), _fmt(m["pr_auc"]["mean"]), "")
    words = {"timing": "timing alone (day 0, delay to first post)", "first_seen": "first-seen date alone",
             "exposure": "exposure alone (days observed, posts)"}
    below = []
    for name, b in result.get("baselines", {}).items():
        d = b["delta_roc_auc"]
        mark = ""
        if b.get("below_chance", b["roc_auc"]["mean"] < 0.5):
            mark, _ = " †", below.append(name)
        table.add_row(words.get(name, name) + mark, _interval(b["roc_auc"]), _interval(b["pr_auc"]),
                      f"{d['mean']:+.3f} [{d['ci_low']:+.3f}, {d['ci_high']:+.3f}]")
    notes = []
    if below:
        notes.append(f"† {', '.join(below)} ranks below chance (ROC-AUC < 0.5): the Δ over it measures the "
                     "baseline's failure, not what the model adds; compare the model's ROC-AUC with 0.5 instead")
    method = (result.get("intervals") or {}).get("method")
    if method:
        notes.append(f"intervals: {method}")
    note = (result.get("intervals") or {}).get("note")
    if note:
        notes.append(f"{note}; read the permutation p-values under the metrics")
    if notes:
        table.caption = "\n".join(notes)
    return table


def _interval(m: dict) -> str:
    return f"{_fmt(m['mean'])} [{_fmt(m['ci_low'])}, {_fmt(m['ci_high'])}]"


def data_lines(report, chart_lines: list[str]) -> list[str]:
    """Counts, the crawl's volume per day with the windows, and the data warnings (validate and run)."""
    lines = [f"users: {report.users} in file, {report.in_cohort} in cohort, {report.censored} censored by data_end "
             f"({report.data_end}), {report.censored_by_coverage} censored by crawl coverage, {report.not_yet_active} "
             f"not yet active, {report.positives} "
             f"positive ({report.positive_rate:.2%})", f"coverage: {report.coverage}", report.arrival_text(),
             *chart_lines]
    return lines + [f"warning: {w}" for w in report.warnings]


def run_summary(result: dict) -> list:
    """What ``run`` prints when a run is done, in order: header, metrics, baselines, cost, warnings.

    The terminal and the end of ``run.log`` (:func:`summary_text`) show the same items.
    """
    items = [run_header(result), metrics_table(result), baselines_table(result)]
    if (over_time := calibration_over_time_table(result)) is not None:
        items.append(over_time)
    items.append(cost_table(result))
    return items + [w if w.startswith("warning:") else f"warning: {w}" for w in result.get("warnings", [])]


def summary_text(result: dict, width: int | None = None) -> str:
    """:func:`run_summary` as plain text, no colour (the end of ``run.log``).

    As wide as piped output (:data:`toolkit.terminal.PIPED_WIDTH`) unless ``width`` is given:
    a log file has no terminal to fit, and ``run ... > out.txt`` then holds the same lines.
    """
    import io

    from toolkit.terminal import PIPED_WIDTH, safe_console

    width = PIPED_WIDTH if width is None else width

    out = io.StringIO()
    console = safe_console(file=out, width=width, color_system=None, force_terminal=False, highlight=False,
                           emoji=False)
    for item in run_summary(result):
        console.print(item, soft_wrap=isinstance(item, str))  # a line of text is never broken; a table fits
    return out.getvalue()


def cost_table(result: dict) -> Table:
    """One row per cost figure, so it stays readable in a narrow terminal."""
    cost = result["cost"]
    table = Table(title="cost", title_justify="left")
    table.add_column("what")
    table.add_column("value", justify="right")
    table.add_column("measured as", style="dim")
    for name, seconds in cost["featurize_s"].items():
        table.add_row(f"featurize {name}", f"{seconds:.2f} s", "per fold, fit + transform")
    for name, rows in result.get("rows", {}).items():  # stateless featurizers: each text embedded once per run
        table.add_row(f"rows {name}", f"{rows['computed']:,} new, {rows['from_cache']:,} cached",
                      f"{rows['seconds']:.2f} s once per run, all folds")
    table.add_row("train", f"{cost['train_s']:.2f} s", "per fold, no graph tracing")
    table.add_row("predict", f"{cost['infer_ms_per_1k']:.0f} ms/1k users", "featurize + score")
    table.add_row("parameters", f"{cost['params']:,}", "trainable, head")
    table.add_row("frozen parameters", f"{cost.get('frozen_params', 0):,}", "pretrained encoders, not trained")
    table.add_row("model size", f"{cost['model_bytes'] / 1e6:.2f} MB", "head + featurizers")
    table.add_row("encoder weights", f"{cost.get('weights_bytes', 0) / 1e6:.2f} MB",
                  "pretrained files needed to predict")
    table.add_row("peak memory", f"{cost['peak_rss_mb']:.0f} MB", "resident, process")
    table.add_row("FLOPs / user", f"{cost['flops_per_user']:.3g}", "estimate")
    return table


def plugins_table(role: str, entries, describe_params) -> Table:
    table = Table(title=f"{role}s", title_justify="left")
    table.add_column("name")
    table.add_column("parameters: type = default")
    if role == "featurizer":
        table.add_column("block")
    table.add_column("from")
    for entry in entries:
        cells = [entry.name, Text(describe_params(entry.cls))]  # Text: "[int, int]" is not markup
        if role == "featurizer":
            cells.append(getattr(entry.cls, "kind", ""))
        table.add_row(*cells, entry.source)
    return table


def models_table(models: list[dict]) -> Table:
    """Installed model folders (``toolkit models``), with how much of Chinese each tokenizer can read."""
    table = Table(title="models", title_justify="left",
                  caption="Chinese -> [UNK]: share of the 100 most common Chinese characters the tokenizer does not know; "
                          "near 100% means an English-only model.")
    # the first column is what a spec's `model:` takes: it keeps its whole width however narrow the
    # terminal (the other columns wrap first), so it can be copied as it is
    longest = max([cell_len(m["spec"]) for m in models] + [cell_len("model: (in a spec)")])
    table.add_column("model: (in a spec)", no_wrap=True, min_width=longest)
    for title in ("from", "type", "layers x width", "files MB", "Chinese -> [UNK]", "licence", "folder"):
        table.add_column(title, justify="right" if title in ("files MB", "Chinese -> [UNK]") else "left")
    for m in models:
        shape = f"{m['layers'] or '-'} x {m['width']}" if m["width"] else "?"
        unk = "?" if m["chinese_unk"] is None else f"{m['chinese_unk']:.0%}"
        table.add_row(Text(m["spec"]), m["source"], m["architecture"], shape, f"{m['bytes'] / 1e6:.1f}", unk,
                      Text(m.get("licence") or "?"), Text(m["folder"]))
    return table


def eda_summary(counts: dict, task: str | None = None) -> Table:
    """The EDA counts in one row, titled in the words of the label's task (``eda``'s first table).

    ``task`` is the registry name of the result's task (``result["task"]``); its
    :attr:`~toolkit.tasks.base.Task.count_titles` say which counts to show and what each is called
    (a time-to-return label has users in the analysis and returns, not labelled users and positives).
    """
    titles = task_of({"task": task}).count_titles  # no task: a yes/no label's, as before tasks had names
    table = Table(title="data")
    table.caption = f"crawl coverage: {counts.get('coverage', 'off')}"
    shown = [(key, title) for key, title in titles if key in counts]
    for _, title in shown:
        table.add_column(title, justify="right", overflow="fold")
    table.add_row(*(f"{counts[k]:.2%}" if k.endswith("_rate") else str(counts[k]) for k, _ in shown))
    return table


def time_to_return_header(result: dict) -> str:
    """A time-to-return run's first line: users in the analysis, returns seen, censored."""
    counts = result["data"]["time_to_return"]
    return (f"{result['name']}: {counts['in_analysis']} users in the analysis, {counts['returned']} returned "
            f"({counts['returned'] / max(counts['in_analysis'], 1):.2%}), {counts['censored']} censored "
            f"({counts['in_gap']} with a crawl gap in follow-up); {result['evaluation']}")


def _time_to_return_rows(metrics: dict) -> list[tuple[str, dict]]:
    """``c_index``, ``uno_c``, one ``auc_at`` row per horizon, ``ibs``, in that order."""
    rows = [("c_index", metrics["c_index"]), ("uno_c", metrics["uno_c"])]
    rows += [(f"auc_at {h} days", m) for h, m in metrics["auc_at"].items()]
    return rows + [("ibs (lower is better)", metrics["ibs"])]


def time_to_return_metrics_table(result: dict) -> Table:
    """A time-to-return run's metrics with their intervals."""
    conf = result.get("confidence", 0.95)
    table = Table()
    table.add_column("metric")
    table.add_column("mean", justify="right")
    table.add_column(f"{conf:.0%} CI", justify="right")
    for name, m in _time_to_return_rows(result["metrics"]):
        table.add_row(name, _fmt(m["mean"]), f"{_fmt(m['ci_low'])} - {_fmt(m['ci_high'])}")
    reference = result.get("no_features")
    if reference:  # the IBS means little without what one curve for everyone scores
        ibs = reference["ibs"]
        table.add_row("ibs, no features (one KM curve)", _fmt(ibs["mean"]), f"{_fmt(ibs['ci_low'])} - {_fmt(ibs['ci_high'])}")
        skill = reference.get("ibs_skill")
        table.add_row("ibs skill (1 - model / no features)", _fmt(skill) if skill is not None else "n/a", "")
    _permutation_rows(table, result.get("permutation"), "c_index")
    if result.get("oracle"):  # synthetic data: the true survival curves on the same users
        for name, m in _time_to_return_rows(result["oracle"]):
            table.add_row(f"oracle {name}", _fmt(m["mean"]), f"{_fmt(m['ci_low'])} - {_fmt(m['ci_high'])}",
                          style="dim")
    s = result.get("survival", {})
    table.caption = (f"days after after_days; uno_c up to {s.get('tau_days')} days; "
                     f"{s.get('bins')} time bins, censored users kept")
    intervals = result.get("intervals") or {}
    if intervals.get("method"):
        table.caption += f"; intervals: {intervals['method']}"
    if intervals.get("note"):
        table.caption += f"; {intervals['note']}"
        if result.get("permutation"):  # few returns: the shuffles, not the t over few folds, have the power
            table.caption += "; read the permutation p-values above"
    return table


def time_to_return_baselines_table(result: dict) -> Table:
    """The model beside the confounds' Cox models (same folds), with the paired Δ C-index over each."""
    conf = result.get("confidence", 0.95)
    table = Table(title="confound baselines (Cox model, same folds)", title_justify="left")
    for title in ("scores from", "C-index", "IBS", f"model Δ C-index ({conf:.0%} CI)"):
        table.add_column(title, justify="left" if title == "scores from" else "right")
    m = result["metrics"]
    table.add_row("the model", _fmt(m["c_index"]["mean"]), _fmt(m["ibs"]["mean"]), "")
    words = {"timing": "timing alone (day 0, delay to first post)", "first_seen": "first-seen date alone",
             "exposure": "exposure alone (days observed, posts)"}
    for name, b in result.get("baselines", {}).items():
        d = b["delta_c_index"]
        table.add_row(words.get(name, name), _interval(b["c_index"]), _interval(b["ibs"]),
                      f"{d['mean']:+.3f} [{d['ci_low']:+.3f}, {d['ci_high']:+.3f}]")
    note = (result.get("intervals") or {}).get("note")
    if note and result.get("permutation"):  # the Δ intervals resample users too
        table.caption = f"intervals: {note}; read the permutation p-values under the metrics"
    return table


def calibration_over_time_table(result: dict) -> Table | None:
    """Predicted versus observed share returned by each horizon, per risk group (time-to-return runs only)."""
    cal = result.get("calibration_over_time")
    if not cal:
        return None
    conf = cal.get("confidence", 0.95)
    table = Table(title=f"calibration over time: share returned, predicted / observed [{conf:.0%} CI]",
                  title_justify="left")
    table.add_column("risk group")
    table.add_column("users", justify="right")
    days = [f"{h}" for h in cal["horizons_days"]]
    for h in days:
        table.add_column(f"by {h} days", justify="right")
    for g in cal["by_group"]:
        cells = [g["at"][h] for h in days]
        table.add_row(f"{g['group']} of {cal['groups']}", str(g["users"]),
                      *(f"{_fmt(c['predicted'])} / {_fmt(c['observed'])} [{_fmt(c['observed_low'])}, "
                        f"{_fmt(c['observed_high'])}]" for c in cells))
    summary = [cal["summary"][h] for h in days]
    table.add_row("mean |gap|, GND p", "", *(f"{_fmt(s['mean_abs_gap'])}, p "
                                             f"{'n/a' if s['p_value'] is None else _fmt(s['p_value'])}"
                                             for s in summary), style="dim")
    table.caption = ("groups by out-of-fold risk, 1 the lowest; observed: Kaplan-Meier; GND: Greenwood-Nam-"
                     f"D'Agostino chi-square over groups with {summary[0].get('min_returns', 5)}+ returns by then "
                     "(small p: off by more than noise)")
    return table
