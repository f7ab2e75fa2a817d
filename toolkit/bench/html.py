"""A self-contained HTML report of a comparison: one file, inline CSS, figures embedded as data URIs.

One file can be mailed or attached to a ticket and still show its figures. Every
piece of text (labels and reasons come from users' sweep files) loses its control
characters by the console's rule (an ``ESC`` sequence would reach whoever ``cat``s or
greps the file) and is then escaped.
"""

from __future__ import annotations

from pathlib import Path

from toolkit.bench.table import cells, row_note, shown_columns
from toolkit.report_page import escape, figure, page
from toolkit.safe_io import atomic_write

#: first table: quality, paired deltas and the one cost figure the front is drawn on
_MAIN = ("config", "ROC-AUC", "PR-AUC", "recall", "precision", "Δ ROC-AUC", "Δ PR-AUC", "gap to oracle", "timing AUC",
         "exposure AUC",
         "C-index", "Uno's C", "IBS", "Δ C-index", "timing C", "exposure C", "cost s", "front")
#: what the confound-baseline columns are, under the table (the terminal's table names them the same way)
_BASELINE_NOTE = ("timing AUC / timing C: the same folds scored by day 0 and the delay to the first post alone; "
                  "exposure AUC / exposure C: by days observed and posts alone. A model not clearly above them "
                  "may be learning when or how long a user was seen, not what they did.")
#: second table: where the cost comes from, and model size
_COST = ("config", "featurize s", "train s", "predict ms/1k", "head params", "frozen params", "model MB",
         "weights MB", "peak MB", "FLOPs/user", "cache")
_SPLIT = ("ROC-AUC", "PR-AUC", "recall", "precision", "Δ ROC-AUC", "Δ PR-AUC", "C-index", "Uno's C", "IBS",
          "Δ C-index")  # "x [lo, hi]" cells


#: what each of the comparison's figures shows, under it
_CAPTIONS = {
    "pareto": "ROC-AUC against total cost (log scale): the Pareto front (nothing both cheaper and better) in orange, "
              "dominated configurations in grey; the oracle line is the true probabilities on synthetic data.",
    "curves": "ROC and precision-recall curves of the configurations on the front, repeats pooled.",
    "cost": "Where the time goes: featurize and train seconds per fold, predict seconds per 1,000 users.",
}


def _has_baseline(row: dict) -> bool:
    return any(row.get(k) is not None for k in ("timing_roc_auc", "exposure_roc_auc", "timing_c_index",
                                                "exposure_c_index"))


def _row_class(row: dict) -> str:
    if row["status"] != "done":
        return "notdone"
    if row["kind"] == "oracle":
        return "oracle"
    return "front" if row["pareto"] else ""


def _cell(title: str, text: str) -> str:
    if title == "config":
        return f'<td class="text">{text}</td>'
    if title in _SPLIT and " [" in text:  # the interval goes under the estimate: half the width
        value, interval = text.split(" [", 1)
        return f'<td>{escape(value)}<span class="ci">[{escape(interval)}</span></td>'
    return f"<td>{escape(text)}</td>"


def _footnotes(rows: list[dict]) -> dict[str, int]:
    """Footnote number of each row with something to say (a skip reason, an empty delta)."""
    notes: dict[str, int] = {}
    for row in rows:
        if row_note(row):
            notes.setdefault(row["config_id"], len(notes) + 1)
    return notes


def _table(rows: list[dict], titles, notes: dict[str, int], *, results: bool) -> str:
    """The results table (every row; skipped ones in one cell) or the cost table (configurations run)."""
    head = "".join(f"<th>{escape(t)}</th>" for t in titles)
    body = []
    for row in rows:
        if not results and (row["status"] != "done" or row["kind"] == "oracle"):
            continue
        mark = f' <sup>{notes[row["config_id"]]}</sup>' if row["config_id"] in notes else ""
        config = escape(cells(row, ("config",))[0]) + mark
        if row["status"] != "done":  # one short cell instead of a row of empty ones
            tds = f'<td class="text">{config}</td><td class="reason" colspan="{len(titles) - 1}">' \
                  f'{escape(row["status"])}, see note {notes[row["config_id"]]}</td>'
        else:
            tds = f'<td class="text">{config}</td>' + "".join(
                _cell(t, c) for t, c in zip(titles[1:], cells(row, titles[1:])))
        body.append(f'<tr class="{_row_class(row)}">{tds}</tr>')
    return f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n" + "\n".join(body) + "\n</tbody>\n</table>"


def _notes_list(rows: list[dict], notes: dict[str, int]) -> str:
    items = [f'<li value="{notes[r["config_id"]]}"><b>{escape(r["label"])}</b> ({escape(r["config_id"])}): '
             f"{escape(row_note(r))}</li>" for r in rows if r["config_id"] in notes]
    return '<ol class="notes">' + "".join(items) + "</ol>" if items else ""


def write_report(rows: list[dict], header: list[str], plots: dict[str, Path], folder) -> Path:
    """Write ``report.html`` into ``folder``.

    Args:
        rows: Rows of :func:`toolkit.bench.table.build_rows`.
        header: Lines of :func:`toolkit.bench.table.header_lines`, shown above the table.
        plots: ``{caption: PNG path}``; each image is embedded, so the file stands alone.
        folder: Where to write the report.

    Returns:
        The path of ``report.html``.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    notes = _footnotes(rows)
    parts = [
        "<h1>Comparison report</h1>",
        '<ul class="header">' + "".join(f"<li>{escape(line)}</li>" for line in header) + "</ul>",
        "<h2>Results</h2>",
        _table(rows, shown_columns(rows, _MAIN), notes, results=True),
        f"<p>{escape(_BASELINE_NOTE)}</p>" if any(_has_baseline(r) for r in rows) else "",
        "<h2>Cost</h2>",
        _table(rows, _COST, notes, results=False),
    ]
    if notes:
        parts += ["<h2>Notes</h2>", _notes_list(rows, notes)]
    if plots:
        parts.append("<h2>Figures</h2>")
        parts.extend(figure(path, _CAPTIONS.get(name, name)) for name, path in plots.items())
    path = folder / "report.html"  # atomically: a link planted at the name is replaced, never followed
    atomic_write(path, page("Comparison report", parts), within=folder)
    return path
