"""A self-contained HTML report of a comparison: one file, inline CSS, figures embedded as data URIs.

One file can be mailed or attached to a ticket and still show its figures. Every
piece of text (labels and reasons come from users' sweep files) loses its control
characters by the console's rule (an ``ESC`` sequence would reach whoever ``cat``s or
greps the file) and is then escaped.
"""

from __future__ import annotations

import base64
import time
from html import escape as _html_escape
from pathlib import Path

from toolkit.bench.table import cells, row_note, shown_columns
from toolkit.safe_io import atomic_write
from toolkit.sanitize import for_terminal_lines

# Laid out for a 1,366 px laptop screen without horizontal scrolling: the page is at most
# 1,300 px wide, intervals sit under their point estimate, long labels wrap anywhere, the
# cost columns are a second table, and reasons are footnotes instead of a wide column.
_CSS = """
body { font-family: system-ui, sans-serif; margin: 1.5em auto; padding: 0 1em; max-width: 1300px; color: #222; }
table { border-collapse: collapse; font-size: 0.85em; margin: 0.5em 0 1.5em; max-width: 100%; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.45em; text-align: right; vertical-align: top; }
th { background: #f3f3f3; font-weight: 600; }
th:first-child { text-align: left; }
td { white-space: nowrap; }
td.text { text-align: left; white-space: normal; overflow-wrap: anywhere; min-width: 12em; max-width: 26em; }
td.reason { text-align: left; white-space: normal; color: #999; }
.ci { display: block; color: #777; font-size: 0.85em; }
tr.front td { background: #fff4e0; }
tr.notdone td { color: #999; }
tr.oracle td { font-style: italic; color: #2a7a2a; }
ul.header li, ol.notes li { margin: 0.2em 0; overflow-wrap: anywhere; }
figure { margin: 1.5em 0; }
figure img { max-width: 100%; border: 1px solid #eee; }
.generated { color: #777; font-size: 0.85em; }
"""
#: first table: quality, paired deltas and the one cost figure the front is drawn on
_MAIN = ("config", "ROC-AUC", "PR-AUC", "recall", "precision", "Δ ROC-AUC", "Δ PR-AUC", "C-index", "Uno's C", "IBS",
         "Δ C-index", "cost s", "front")
#: second table: where the cost comes from, and model size
_COST = ("config", "featurize s", "train s", "predict ms/1k", "head params", "frozen params", "model MB",
         "weights MB", "peak MB", "FLOPs/user", "cache")
_SPLIT = ("ROC-AUC", "PR-AUC", "recall", "precision", "Δ ROC-AUC", "Δ PR-AUC", "C-index", "Uno's C", "IBS",
          "Δ C-index")  # "x [lo, hi]" cells


def escape(text) -> str:
    """``text`` for the page: control characters replaced as on the terminal, then HTML-escaped."""
    return _html_escape(for_terminal_lines(str(text)))


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


def _figure(name: str, path: Path) -> str:
    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    return (f'<figure><img alt="{escape(name)}" src="data:image/png;base64,{data}">'
            f"<figcaption>{escape(name)}</figcaption></figure>")


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
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8"><title>Comparison report</title>',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<style>{_CSS}</style></head><body>",
        "<h1>Comparison report</h1>",
        f'<p class="generated">Generated at {escape(time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()))}</p>',
        '<ul class="header">' + "".join(f"<li>{escape(line)}</li>" for line in header) + "</ul>",
        "<h2>Results</h2>",
        _table(rows, shown_columns(rows, _MAIN), notes, results=True),
        "<h2>Cost</h2>",
        _table(rows, _COST, notes, results=False),
    ]
    if notes:
        parts += ["<h2>Notes</h2>", _notes_list(rows, notes)]
    if plots:
        parts.append("<h2>Figures</h2>")
        parts.extend(_figure(name, path) for name, path in plots.items())
    parts.append("</body></html>")
    path = folder / "report.html"  # atomically: a link planted at the name is replaced, never followed
    atomic_write(path, "\n".join(parts) + "\n", within=folder)
    return path
