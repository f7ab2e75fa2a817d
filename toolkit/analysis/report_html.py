"""One self-contained HTML file from an analysis report's markdown: the same text, its PNGs embedded.

Rendering from the markdown keeps the two files saying the same thing. The renderer and its
safety rules (only the report's own figures embedded, by name; text escaped, control characters
replaced) are :mod:`toolkit.report_page`'s, shared with the run folder's and bench's reports.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

from toolkit.report_page import MAX_FIGURE_BYTES, markdown_body, markdown_to_html, own_figure, split_row
from toolkit.safe_io import atomic_write

__all__ = ["MAX_FIGURE_BYTES", "markdown_body", "markdown_to_html", "own_figure", "split_row", "write_pages"]


def write_pages(folder: Path, markdown: str, figures: Iterable[str], title: str, *, name: str = "explain.md") -> None:
    """``name`` (the markdown) and its page ``report.html`` in ``folder``; only ``figures`` are embedded."""
    atomic_write(folder / name, markdown, within=folder)
    page = markdown_to_html(markdown, folder, title, figures=figures)
    atomic_write(folder / "report.html", page, within=folder)
