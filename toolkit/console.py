"""Rich tables for the terminal: a run's metrics with intervals, its cost, and the plugin list."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text

from toolkit.evaluation.metrics import METRIC_NAMES


def _fmt(x: float) -> str:
    return "nan" if x != x else f"{x:.3f}"


def run_header(result: dict) -> str:
    data = result["data"]
    return (f"{result['name']}: {data['labelled']} users, {data['positives']} retained "
            f"({data['positive_rate']:.2%}); {result['evaluation']}")


def metrics_table(result: dict) -> Table:
    conf = result.get("confidence", 0.95)
    table = Table()
    table.add_column("metric")
    table.add_column("mean", justify="right")
    table.add_column(f"{conf:.0%} CI", justify="right")
    for name in METRIC_NAMES:
        m = result["metrics"][name]
        table.add_row(name, _fmt(m["mean"]), f"{_fmt(m['ci_low'])} - {_fmt(m['ci_high'])}")
    for name, m in result.get("oracle", {}).items():
        table.add_row(f"oracle {name}", _fmt(m["mean"]), f"{_fmt(m['ci_low'])} - {_fmt(m['ci_high'])}",
                      style="dim")
    thr = result["threshold"]
    table.caption = f"threshold {thr['rule']!r} (on validation data): mean {thr['mean']:.3f}"
    return table


def cost_table(result: dict) -> Table:
    """One row per cost figure, so it stays readable in a narrow terminal."""
    cost = result["cost"]
    table = Table(title="cost", title_justify="left")
    table.add_column("what")
    table.add_column("value", justify="right")
    table.add_column("measured as", style="dim")
    for name, seconds in cost["featurize_s"].items():
        table.add_row(f"featurize {name}", f"{seconds:.2f} s", "per fold, fit + transform")
    table.add_row("train", f"{cost['train_s']:.2f} s", "per fold, no graph tracing")
    table.add_row("predict", f"{cost['infer_ms_per_1k']:.0f} ms/1k users", "featurize + score")
    table.add_row("parameters", f"{cost['params']:,}", "trainable, head")
    table.add_row("model size", f"{cost['model_bytes'] / 1e6:.2f} MB", "head + featurizers")
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


def eda_summary(counts: dict) -> Table:
    """The EDA counts in one row."""
    table = Table(title="data")
    keys = ("posts", "users", "cohort", "censored_by_data_end", "censored_by_coverage", "labelled", "positives")
    for key in keys:
        table.add_column(key.replace("_", " "), justify="right")
    table.add_column("rate", justify="right")
    table.add_row(*(str(counts[k]) for k in keys), f"{counts['positive_rate']:.2%}")
    return table
