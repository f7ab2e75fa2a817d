"""One self-contained HTML file from the report's markdown: the same text, PNGs embedded.

Only the markdown the analysis reports write is understood: ``#`` headings,
pipe tables, ``- `` list items, ``![alt](file.png)`` images and paragraphs.
Rendering from the markdown keeps the two files saying the same thing.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

from toolkit.analysis.figures import embed_png

_IMAGE = re.compile(r"^!\[([^\]]*)\]\(([^)]+)\)$")
_STYLE = ("body{font-family:sans-serif;max-width:1100px;margin:2em auto;line-height:1.4}"
          "table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:2px 6px}"
          "img{max-width:100%}.warn{color:#b00}")


def _inline(text: str) -> str:
    text = html.escape(text)
    text = re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", text)
    return re.sub(r"`(.+?)`", r"<code>\1</code>", text)


def _table(lines: list[str]) -> str:
    rows = [[c.strip() for c in line.strip().strip("|").split("|")] for line in lines]
    head, body = rows[0], [r for r in rows[2:]]
    out = ["<table>", "<tr>" + "".join(f"<th>{_inline(c)}</th>" for c in head) + "</tr>"]
    out += ["<tr>" + "".join(f"<td>{_inline(c)}</td>" for c in r) + "</tr>" for r in body]
    return "\n".join(out + ["</table>"])


def markdown_to_html(markdown: str, folder: Path, title: str) -> str:
    parts, lines, i = [], markdown.splitlines(), 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("|"):
            block = []
            while i < len(lines) and lines[i].startswith("|"):
                block.append(lines[i])
                i += 1
            parts.append(_table(block))
            continue
        image = _IMAGE.match(line.strip())
        if line.startswith("#"):
            level = len(line) - len(line.lstrip("#"))
            parts.append(f"<h{level}>{_inline(line.lstrip('#').strip())}</h{level}>")
        elif image and (folder / image.group(2)).is_file():
            parts.append(f"<p>{embed_png(folder / image.group(2))}</p>")
        elif line.startswith("- "):
            css = ' class="warn"' if line.startswith("- **warning") else ""
            parts.append(f"<li{css}>{_inline(line[2:])}</li>")
        elif line.strip():
            parts.append(f"<p>{_inline(line)}</p>")
        i += 1
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{_STYLE}</style></head><body>\n" + "\n".join(parts) + "\n</body></html>\n")
