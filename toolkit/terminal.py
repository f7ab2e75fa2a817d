"""The terminal the toolkit prints to: a rich Console that never passes on an escape sequence from a file."""

from __future__ import annotations

from rich.console import Console
from rich.segment import Segment

from toolkit.sanitize import for_terminal_lines


class SafeConsole(Console):
    """A rich Console that writes no control character it did not make itself.

    Labels, ids and names from received files can hold escape sequences (``ESC]0;...`` sets
    the window title), and rich passes them through. The filter runs on the text of each
    segment before rich adds its own colours and cursor moves, so those still work.
    """

    def _render_buffer(self, buffer) -> str:
        return super()._render_buffer(
            segment if segment.control else Segment(for_terminal_lines(segment.text), segment.style)
            for segment in buffer)


def safe_console(**options) -> SafeConsole:
    """A :class:`SafeConsole`; markup off unless asked for, so ``[`` in a label is never styling."""
    options.setdefault("markup", False)
    return SafeConsole(**options)
