"""The one look of every HTML report (run, explain, eda, bench/compare): CSS, escaping, embedded figures.

Each report is one self-contained file (inline CSS, figures as data URIs), so it can be mailed or
attached to a ticket. It lives in the core layer so that the run folder (experiment layer) and the
analysis and bench reports all draw the same page.

The reports carry values from a posts file or a received sweep, so nothing here trusts its text:

- every piece of text loses its control characters by the console's rule (``?`` for each, as
  :func:`toolkit.sanitize.for_terminal_lines`: an ``ESC`` sequence would reach whoever ``cat``s or
  greps the file), then goes through ``html.escape``, quotes included;
- :func:`markdown_to_html` embeds an image line only when its target is one of the ``figures`` the
  report wrote itself (a bare file name from its own list, a regular file in the report folder, not
  a link, at most :data:`MAX_FIGURE_BYTES`); any other ``![x](path)`` is shown as text, so a line can
  never make the report read a file such as ``~/.config/toolkit/cache.key``;
- backslash escapes (as :func:`toolkit.sanitize.for_markdown_cell` writes them) give the character
  back, never markup.

Only the markdown the reports write is understood: ``#`` headings, pipe tables (``---:`` right-aligns
a column), ``- `` list items, ``![alt](file.png)`` images, ``> `` notes and paragraphs.
"""

from __future__ import annotations

import base64
import html
import re
import time
from pathlib import Path
from typing import Iterable

from toolkit.sanitize import for_terminal_lines

#: a figure larger than this is not embedded (the reports' own PNGs are well under 1 MB)
MAX_FIGURE_BYTES = 20 * 1024 * 1024

# Laid out for a 1,366 px laptop screen without horizontal scrolling: the page is at most
# 1,300 px wide, intervals sit under their point estimate, long labels wrap anywhere.
CSS = """
body { font-family: system-ui, "Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", sans-serif; margin: 1.5em auto; padding: 0 1em; max-width: 1300px; color: #222;
       line-height: 1.45; }
h1 { font-size: 1.6em; } h2 { margin-top: 1.6em; border-bottom: 1px solid #ddd; } h3 { margin-top: 1.3em; }
table { border-collapse: collapse; font-size: 0.85em; margin: 0.5em 0 1.5em; max-width: 100%; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.45em; text-align: right; vertical-align: top; }
th { background: #f3f3f3; font-weight: 600; }
th:first-child { text-align: left; }
td { white-space: nowrap; }
td.text { text-align: left; white-space: normal; overflow-wrap: anywhere; min-width: 12em; max-width: 26em; }
td.reason { text-align: left; white-space: normal; color: #999; }
table.md td, table.md th { white-space: normal; overflow-wrap: anywhere; text-align: left; }
table.md .num { text-align: right; white-space: nowrap; }
.ci { display: block; color: #777; font-size: 0.85em; }
tr.front td { background: #fff4e0; }
tr.notdone td { color: #999; }
tr.oracle td { font-style: italic; color: #2a7a2a; }
ul.header li, ol.notes li, li { margin: 0.2em 0; overflow-wrap: anywhere; }
li.warn { color: #b00; }
p { max-width: 75em; overflow-wrap: anywhere; }
blockquote { margin: 0.5em 0 1em; padding: 0.3em 0.8em; border-left: 3px solid #c9d7ee; color: #555;
             background: #f7f9fc; }
figure { margin: 1em 0 1.5em; }
figure img { max-width: 100%; border: 1px solid #eee; }
.generated { color: #777; font-size: 0.85em; }
"""


def escape(text) -> str:
    """``text`` for the page: control characters replaced as on the terminal, then HTML-escaped."""
    return html.escape(for_terminal_lines(str(text)), quote=True)


def embed_png(path: Path, alt: str | None = None) -> str:
    """An ``<img>`` whose source is the PNG itself; ``alt`` (default: the file's stem) is escaped."""
    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    alt = Path(path).stem if alt is None else alt
    return f'<img alt="{escape(alt)}" src="data:image/png;base64,{data}">'


def figure(path: Path, caption: str | None = None) -> str:
    """``<figure>`` holding the embedded PNG, with ``caption`` (escaped) under it."""
    under = f"<figcaption>{escape(caption)}</figcaption>" if caption else ""
    return f"<figure>{embed_png(path, alt=caption or Path(path).stem)}{under}</figure>"


def page(title: str, body: Iterable[str]) -> str:
    """The whole document: ``body``'s parts (already HTML) under the shared style and a generated-at line."""
    stamp = escape(time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()))
    return "\n".join([
        "<!DOCTYPE html>",
        f'<html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<style>{CSS}</style></head><body>",
        *body,
        f'<p class="generated">Generated at {stamp}</p>',
        "</body></html>",
    ]) + "\n"


_IMAGE = re.compile(r"^!\[([^\]]*)\]\(([^)]+)\)$")
# one token: a backslash escape, a bold span or a code span (escaped characters never close one)
_WARN = ' class="warn"'
_INLINE = re.compile(r"\\(.)|\*\*((?:[^*\\]|\\.)+?)\*\*|`((?:[^`\\]|\\.)+)`")


def _unescape(text: str) -> str:
    return escape(re.sub(r"\\(.)", r"\1", text))


def _inline(text: str) -> str:
    out, at = [], 0
    for m in _INLINE.finditer(text):
        out.append(escape(text[at:m.start()]))
        if m.group(1) is not None:
            out.append(escape(m.group(1)))
        elif m.group(2) is not None:
            out.append(f"<b>{_inline(m.group(2))}</b>")
        else:
            out.append(f"<code>{_unescape(m.group(3))}</code>")
        at = m.end()
    return "".join(out) + escape(text[at:])


def split_row(line: str) -> list[str]:
    """The cells of one pipe-table row; an escaped ``\\|`` stays inside its cell."""
    cells, cell, escaped = [], [], False
    for ch in line.strip():
        if escaped:
            cell.append(ch)
            escaped = False
        elif ch == "\\":
            cell.append(ch)
            escaped = True
        elif ch == "|":
            cells.append("".join(cell).strip())
            cell = []
        else:
            cell.append(ch)
    cells.append("".join(cell).strip())
    return cells[1:-1] if len(cells) > 1 and not cells[0] and not cells[-1] else cells


def _table(lines: list[str]) -> str:
    rows = [split_row(line) for line in lines]
    head, body = rows[0], rows[2:]
    right = [c.endswith(":") for c in rows[1]] if len(rows) > 1 else []

    def css(i: int) -> str:
        return ' class="num"' if i < len(right) and right[i] else ""

    out = ['<table class="md">', "<tr>" + "".join(f"<th{css(i)}>{_inline(c)}</th>" for i, c in enumerate(head)) + "</tr>"]
    out += ["<tr>" + "".join(f"<td{css(i)}>{_inline(c)}</td>" for i, c in enumerate(r)) + "</tr>" for r in body]
    return "\n".join(out + ["</table>"])


def own_figure(folder: Path, target: str, figures: set[str]) -> Path | None:
    """The figure file ``target`` names, if the report wrote it; None for anything else."""
    if target not in figures or Path(target).name != target or target in (".", ".."):
        return None
    path = folder / target
    if path.is_symlink() or not path.is_file() or path.stat().st_size > MAX_FIGURE_BYTES:
        return None
    return path


def _line(line: str, folder: Path, figures: set[str]) -> str | None:
    image = _IMAGE.match(line.strip())
    if line.startswith("#"):
        level = min(len(line) - len(line.lstrip("#")), 6)
        return f"<h{level}>{_inline(line.lstrip('#').strip())}</h{level}>"
    if image and (path := own_figure(folder, image.group(2), figures)) is not None:
        return f"<figure>{embed_png(path, alt=image.group(1))}</figure>"
    if line.startswith("> "):
        return f"<blockquote>{_inline(line[2:])}</blockquote>"
    return f"<p>{_inline(line)}</p>" if line.strip() else None


def _block(lines: list[str], i: int, prefix: str) -> tuple[list[str], int]:
    """The run of lines from ``i`` that start with ``prefix``, and the index after it."""
    block = []
    while i < len(lines) and lines[i].startswith(prefix):
        block.append(lines[i])
        i += 1
    return block, i


def markdown_body(markdown: str, folder: Path, figures: Iterable[str] = ()) -> list[str]:
    """The HTML parts of ``markdown``; only the file names in ``figures`` (written by the report) are embedded."""
    allowed = {str(f) for f in figures}
    parts, lines, i = [], markdown.splitlines(), 0
    while i < len(lines):
        if lines[i].startswith("|"):
            block, i = _block(lines, i, "|")
            parts.append(_table(block))
        elif lines[i].startswith("- "):
            block, i = _block(lines, i, "- ")
            items = [f"<li{_WARN if b.startswith('- **warning') else ''}>{_inline(b[2:])}</li>" for b in block]
            parts.append("<ul>" + "".join(items) + "</ul>")
        else:
            part = _line(lines[i], Path(folder), allowed)
            if part is not None:
                parts.append(part)
            i += 1
    return parts


def markdown_to_html(markdown: str, folder: Path, title: str, figures: Iterable[str] = ()) -> str:
    """The HTML page of ``markdown``; only the file names in ``figures`` (written by the report) are embedded."""
    return page(title, markdown_body(markdown, folder, figures))
