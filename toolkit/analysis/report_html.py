"""One self-contained HTML file from the report's markdown: the same text, PNGs embedded.

Only the markdown the analysis reports write is understood: ``#`` headings,
pipe tables, ``- `` list items, ``![alt](file.png)`` images and paragraphs.
Rendering from the markdown keeps the two files saying the same thing.

The markdown carries values from a posts file, so the renderer trusts none of its lines:

- an image line is embedded only when its target is one of the ``figures`` the analysis
  wrote itself (a bare file name from its own list, a regular file in the report folder, not a
  link, at most :data:`MAX_FIGURE_BYTES`); any other ``![x](path)`` is shown as text, so a line
  can never make the report read a file such as ``~/.config/toolkit/cache.key``;
- text and attributes go through ``html.escape`` (quotes included); backslash escapes (as
  :func:`toolkit.sanitize.for_markdown_cell` writes them) give the character back, never markup.
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Iterable

from toolkit.analysis.figures import embed_png

#: a figure larger than this is not embedded (the analysis's own PNGs are well under 1 MB)
MAX_FIGURE_BYTES = 20 * 1024 * 1024

_IMAGE = re.compile(r"^!\[([^\]]*)\]\(([^)]+)\)$")
# one token: a backslash escape, a bold span or a code span (escaped characters never close one)
_INLINE = re.compile(r"\\(.)|\*\*((?:[^*\\]|\\.)+?)\*\*|`((?:[^`\\]|\\.)+)`")
_STYLE = ("body{font-family:sans-serif;max-width:1100px;margin:2em auto;line-height:1.4}"
          "table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:2px 6px}"
          "img{max-width:100%}.warn{color:#b00}")


def _unescape(text: str) -> str:
    return html.escape(re.sub(r"\\(.)", r"\1", text), quote=True)


def _inline(text: str) -> str:
    out, at = [], 0
    for m in _INLINE.finditer(text):
        out.append(html.escape(text[at:m.start()], quote=True))
        if m.group(1) is not None:
            out.append(html.escape(m.group(1), quote=True))
        elif m.group(2) is not None:
            out.append(f"<b>{_inline(m.group(2))}</b>")
        else:
            out.append(f"<code>{_unescape(m.group(3))}</code>")
        at = m.end()
    return "".join(out) + html.escape(text[at:], quote=True)


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
    out = ["<table>", "<tr>" + "".join(f"<th>{_inline(c)}</th>" for c in head) + "</tr>"]
    out += ["<tr>" + "".join(f"<td>{_inline(c)}</td>" for c in r) + "</tr>" for r in body]
    return "\n".join(out + ["</table>"])


def own_figure(folder: Path, target: str, figures: set[str]) -> Path | None:
    """The figure file ``target`` names, if the analysis wrote it; None for anything else."""
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
        return f"<p>{embed_png(path, alt=image.group(1))}</p>"
    if line.startswith("- "):
        css = ' class="warn"' if line.startswith("- **warning") else ""
        return f"<li{css}>{_inline(line[2:])}</li>"
    return f"<p>{_inline(line)}</p>" if line.strip() else None


def markdown_to_html(markdown: str, folder: Path, title: str, figures: Iterable[str] = ()) -> str:
    """The HTML page; only the file names in ``figures`` (written by the analysis) are embedded."""
    allowed = {str(f) for f in figures}
    parts, lines, i = [], markdown.splitlines(), 0
    while i < len(lines):
        if lines[i].startswith("|"):
            block = []
            while i < len(lines) and lines[i].startswith("|"):
                block.append(lines[i])
                i += 1
            parts.append(_table(block))
            continue
        part = _line(lines[i], Path(folder), allowed)
        if part is not None:
            parts.append(part)
        i += 1
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title, quote=True)}</title>"
            f"<style>{_STYLE}</style></head><body>\n" + "\n".join(parts) + "\n</body></html>\n")
