"""Making text that came from a file safe for the place it is shown.

Values from data (user ids, post types, topics) and from received folders (sweep labels, run
names in ``metrics.json``) reach three readers that act on what they see:

- a **terminal** runs escape sequences (``ESC]0;...`` sets the window title, others move the
  cursor or rewrite the screen): :func:`for_terminal` removes every control character;
- a **spreadsheet** runs a cell that starts with ``=``, ``+``, ``-``, ``@`` (or a tab or carriage
  return) as a formula: :func:`for_csv` follows OWASP's rule and prefixes such a cell with a
  single quote ``'``, after removing control characters. A cell that is a plain number
  (``-0.011``) is left as it is: spreadsheets read it as a number, not a formula;
- **Markdown** turns a line that starts with ``![x](path)``, ``#``, ``>``, ``|`` or ``<`` into
  a construct: :func:`for_markdown_cell` puts everything on one line, escapes ``|`` and
  backslash-escapes every character Markdown could read as syntax.
"""

from __future__ import annotations

import re

# C0 controls (tab, newline and carriage return included), DEL and the C1 controls; the
# Unicode line and paragraph separators and bidirectional overrides, which reorder what a
# reader sees.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?%?|[+-]?(inf|nan)", re.IGNORECASE)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# the first characters after which for_csv may change a printable cell (it prefixes a formula start)
_FIRST_CHECKED = frozenset("=+-@\t\r")
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]!|<>#~&])")


def strip_controls(text: str, replacement: str = " ") -> str:
    """``text`` with every control character replaced by ``replacement``."""
    return _CONTROL.sub(replacement, text)


def for_terminal(value) -> str:
    """``value`` as text that a terminal shows and never acts on (no escape sequences)."""
    return strip_controls(str(value), "?")


def for_terminal_lines(text: str) -> str:
    """Like :func:`for_terminal` but keeps line breaks (for multi-line messages)."""
    return "\n".join(for_terminal(line) for line in str(text).split("\n"))


def for_csv(value):
    """A CSV cell that a spreadsheet shows as text: controls removed, a formula start quoted.

    Numbers and ``None`` pass through unchanged; strings that are plain numbers too.
    """
    if value is None or isinstance(value, (bool, int, float)):
        return value
    text = str(value)
    if _NUMBER.fullmatch(text):
        return text
    if text.startswith(_FORMULA_START):
        text = "'" + text
    return strip_controls(text, " ")


def for_csv_many(values) -> list:
    """:func:`for_csv` of every value; the common cell (printable, no formula start) is passed over
    in one cheap test, so a million user ids take a fraction of a second."""
    return [for_csv(v) if not isinstance(v, str) or v[:1] in _FIRST_CHECKED or not v.isprintable() else v
            for v in values]


def for_markdown_cell(value) -> str:
    """One table cell of Markdown: a single line, ``|`` escaped, no character read as syntax."""
    text = " ".join(strip_controls(str(value), " ").split())
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def csv_frame(frame):
    """A copy of a pandas DataFrame whose text cells (and column names) pass :func:`for_csv`."""
    out = frame.copy()
    out.columns = [for_csv(c) for c in out.columns]
    for col in out.columns:
        if out[col].dtype == object or str(out[col].dtype) in ("string", "str"):
            out[col] = for_csv_many(out[col].tolist())
    return out
