"""A self-contained HTML report of a comparison: one file, inline CSS, figures embedded as data URIs.

One file can be mailed or attached to a ticket and still show its figures. Every
piece of text (labels and reasons come from users' sweep files) is escaped.
"""

from __future__ import annotations

import base64
import time
from html import escape
from pathlib import Path

from toolkit.bench.table import COLUMNS, cells

_CSS = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; font-size: 0.85em; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.5em; text-align: right; white-space: nowrap; }
th { background: #f3f3f3; }
td.text { text-align: left; white-space: normal; }
tr.front td { background: #fff4e0; }
tr.notdone td { color: #999; }
tr.oracle td { font-style: italic; color: #2a7a2a; }
ul.header li { margin: 0.2em 0; }
figure { margin: 1.5em 0; }
figure img { max-width: 100%; border: 1px solid #eee; }
.generated { color: #777; font-size: 0.85em; }
"""
_TEXT_COLUMNS = ("config", "cache", "note")


def _row_class(row: dict) -> str:
    if row["status"] != "done":
        return "notdone"
    if row["kind"] == "oracle":
        return "oracle"
    return "front" if row["pareto"] else ""


def _table(rows: list[dict]) -> str:
    titles = [c for c in COLUMNS if c != "status"]  # the note column says it, with the reason
    head = "".join(f"<th>{escape(t)}</th>" for t in titles)
    body = []
    for row in rows:
        tds = "".join(f'<td class="text">{escape(c)}</td>' if t in _TEXT_COLUMNS else f"<td>{escape(c)}</td>"
                      for t, c in zip(titles, cells(row, titles)))
        body.append(f'<tr class="{_row_class(row)}">{tds}</tr>')
    return f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n" + "\n".join(body) + "\n</tbody>\n</table>"


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
    not_run = [r for r in rows if r["status"] != "done"]
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8"><title>Comparison report</title>',
        f"<style>{_CSS}</style></head><body>",
        "<h1>Comparison report</h1>",
        f'<p class="generated">Generated at {escape(time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()))}</p>',
        '<ul class="header">' + "".join(f"<li>{escape(line)}</li>" for line in header) + "</ul>",
        _table(rows),
    ]
    if not_run:
        parts.append("<h2>Skipped or failed</h2><ul>" + "".join(
            f"<li><b>{escape(r['label'])}</b> ({escape(r['config_id'])}): {escape(r['status'])}"
            f"{' - ' + escape(r['reason']) if r['reason'] else ''}</li>" for r in not_run) + "</ul>")
    if plots:
        parts.append("<h2>Figures</h2>")
        parts.extend(_figure(name, path) for name, path in plots.items())
    parts.append("</body></html>")
    path = folder / "report.html"
    path.write_text("\n".join(parts) + "\n", encoding="utf-8")
    return path
