"""Turn finished configurations into the comparison: terminal table, table files, plots, report.html.

Used by ``bench`` after a sweep and by ``compare``, which rebuilds the same
outputs from finished run or sweep folders without running anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from toolkit.bench.html import write_report
from toolkit.bench.plots import cost_plot, curves_plot, pareto_plot
from toolkit.bench.records import ConfigResult
from toolkit.bench.sweep_record import LEDGER_FILE, SweepRecord
from toolkit.bench.table import build_rows, header_lines, nonfinite, rich_table, write_tables
from toolkit.errors import ToolkitError
from toolkit.experiment.record import METRICS_FILE, RunRecord, is_run_folder
from toolkit.sanitize import for_terminal


@dataclass
class Written:
    """What :func:`write_outputs` wrote: the rows and header it used, the files and the plots."""

    folder: Path
    rows: list[dict]
    header: list[str]
    files: dict
    plots: dict


def finish(folder: Path, results: list[ConfigResult], baselines: dict[str, str | None], console, *,
           per_seed: bool = False, rows: list[dict] | None = None) -> dict:
    """Write table.md/csv/json, the plots and report.html into ``folder``; print the table.

    Rows are aggregated over the seed axis unless ``per_seed`` (see :mod:`toolkit.bench.seeds`);
    ``rows`` already built from the same results (the Python API keeps them) are used as they are.
    """
    written = write_outputs(folder, results, baselines, per_seed=per_seed, rows=rows)
    print_outputs(written, console)
    return written.files


def write_outputs(folder: Path, results: list[ConfigResult], baselines: dict[str, str | None], *,
                  per_seed: bool = False, rows: list[dict] | None = None) -> Written:
    """The files of :func:`finish`, without printing (``bench`` writes them under the sweep's lock)."""
    if rows is None:
        rows = build_rows(results, baselines=baselines, per_seed=per_seed)
    header = header_lines(results)
    written = write_tables(rows, folder, header)
    by_id = {r.config_id: r for r in results}
    front = [by_id[r["config_id"]] for r in rows if r.get("pareto") and r["config_id"] in by_id]
    plots = {
        "pareto": pareto_plot(rows, folder / "pareto.png"),
        "curves": curves_plot(front, folder / "curves.png"),
        "cost": cost_plot(rows, folder / "cost.png"),
    }
    written["report"] = write_report(rows, header, plots, folder)
    return Written(folder, rows, header, written, plots)


def print_outputs(written: Written, console) -> None:
    """The table, skip reasons, warnings and the files' names, as :func:`finish` prints them."""
    rows, header, folder, plots = written.rows, written.header, written.folder, written.plots
    console.print(rich_table(rows, header))
    reasons: dict[str, list[str]] = {}
    for r in rows:
        if r["status"] != "done":
            reasons.setdefault(f"{r['status']}: {r['reason']}", []).append(r["label"])
    for reason, labels in reasons.items():  # once per reason: a grid repeats the same refusal per seed
        console.print(f"- {for_terminal(', '.join(labels))}\n  {for_terminal(reason)}")
    for r in rows:
        if r["status"] == "done" and (bad := nonfinite(r)):
            console.print(f"warning: {for_terminal(r['label'])} ({for_terminal(r['config_id'])}) has metrics "
                          f"that are not finite numbers ({', '.join(bad)}; marked ! in the table): its run "
                          "folder is damaged or was edited")
    console.print(f"comparison: {folder} (table.md, table.csv, table.json, report.html, "
                  f"{', '.join(p.name for p in plots.values())})")


def gather(paths: list[str]) -> tuple[list[ConfigResult], dict[str, str | None]]:
    """ConfigResults from run folders and sweep folders (see :mod:`toolkit.experiment.record`).

    A sweep folder brings its own baselines; among plain run folders the first is the baseline.
    Every finished run is read (and checked) here, once; the table and plots use what was read.
    """
    results: list[ConfigResult] = []
    baselines: dict[str, str | None] = {}
    first_run: str | None = None
    for text in paths:
        path = Path(text)
        if SweepRecord.is_sweep_folder(path):
            sweep = SweepRecord.open(path)
            results += sweep.results
            baselines.update(sweep.baselines)
        elif is_run_folder(path):
            record = RunRecord.open(path)
            config_id = f"r{len(results):02d}-{record.name}"
            first_run = first_run or config_id
            results.append(ConfigResult(config_id, f"{record.name} ({path.name})", "done", "", path,
                                        is_baseline=config_id == first_run, _record=record))
            baselines[config_id] = first_run
        else:
            raise ToolkitError(f"{text!r} is neither a run folder (with {METRICS_FILE}) nor a sweep folder "
                               f"(with {LEDGER_FILE}).")
    if not results:
        raise ToolkitError("Nothing to compare: the folders given hold no finished configuration.")
    ids = [r.config_id for r in results]
    if len(set(ids)) != len(ids):
        raise ToolkitError("The same configuration appears twice; give each sweep or run folder once.")
    return results, baselines
