"""Parse the display counts of the crawl (``3829``, ``7.6万``, ``1万+``, ``99+``).

Xiaohongshu shows engagement counts the way its app displays them, not as
integers: large numbers are abbreviated with a Chinese unit (``万`` = 10,000)
and some are capped lower bounds (``1千+`` = "at least 1,000"). A parsed count is
a float plus a flag that says the display was only a lower bound, so a model can
tell ``1万+`` from an exact ``1.0万``.
"""

from __future__ import annotations

import math
import re
from typing import Any, Iterable

import numpy as np
import pandas as pd

#: multiplier for each unit suffix; ``w`` is the pinyin initial of 万, used by
#: other crawls and by people typing counts by hand
UNITS = {"": 1.0, "千": 1e3, "k": 1e3, "万": 1e4, "w": 1e4, "亿": 1e8}

#: what the error message lists as accepted forms
EXPECTED = "a count like 3829, 1,234, 7.6万, 1.2w, 3k, 2亿, 1万+, 1千+, 10+ or 99+"

# The number is either plain digits or digits with comma thousands separators
# (only in groups of three, so "1,23" is rejected rather than read as 123).
_COUNT_RE = re.compile(
    r"^(?P<num>(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?)\s*(?P<unit>[千kK万wW亿]?)\s*(?P<plus>[+＋]?)$"
)


def parse_count(text: Any) -> tuple[float, bool]:
    """Parse one display count.

    Args:
        text: the cell as read from the CSV (a string), or a number, ``None`` or
            NaN. Empty cells mean "no count shown" and parse as zero.

    Returns:
        ``(value, is_lower_bound)``: ``"7.6万"`` -> ``(76000.0, False)``,
        ``"1万+"`` -> ``(10000.0, True)``.

    Raises:
        ValueError: the text is not a count; the message names the accepted forms.
    """
    if text is None:
        return 0.0, False
    if isinstance(text, (bool, np.bool_)):
        # True/False are ints in Python but are never a count in a posts file.
        raise ValueError(f"Expected {EXPECTED}. Got the boolean {text!r} instead.")
    if isinstance(text, (int, float, np.integer, np.floating)):
        value = float(text)
        if math.isnan(value):
            return 0.0, False
        if value < 0 or math.isinf(value):
            raise ValueError(f"Expected {EXPECTED}. Got {text!r} instead.")
        return value, False
    if not isinstance(text, str):
        raise ValueError(f"Expected {EXPECTED}. Got a {type(text).__name__} ({text!r}) instead.")
    stripped = text.strip()
    if stripped == "" or stripped.lower() == "nan":
        return 0.0, False
    match = _COUNT_RE.match(stripped)
    if match is None:
        raise ValueError(f"Expected {EXPECTED}. Got {text!r} instead.")
    number = float(match["num"].replace(",", ""))
    value = number * UNITS[match["unit"].lower()]
    # 7.6 * 1e4 is 75999.99999999999 in binary floating point; counts shown with
    # one or two decimals of a unit are whole numbers, so round away the noise.
    if match["unit"]:
        value = round(value, 6)
    return value, bool(match["plus"])


def parse_counts(values: Iterable[Any], *, errors: str = "raise") -> tuple[np.ndarray, np.ndarray]:
    """Parse a column of display counts.

    Each distinct string is parsed once: a crawl holds few distinct displays
    (``0``, ``10+``, ``1万+`` ...), so this is much faster than parsing per row.

    Args:
        values: a pandas Series, list or array of cells.
        errors: ``"raise"`` raises on the first value that is not a count;
            ``"coerce"`` returns NaN for it (and ``False`` for its flag), so the
            caller can report which rows failed.

    Returns:
        ``(values, flags)``: float64 values and bool lower-bound flags, one per cell.

    Raises:
        ValueError: with ``errors="raise"``, a cell is not a count.
    """
    if errors not in ("raise", "coerce"):
        raise ValueError(f"errors must be 'raise' or 'coerce'. Got {errors!r} instead.")
    series = values if isinstance(values, pd.Series) else pd.Series(list(values), dtype=object)
    # factorize maps missing cells to -1 and gives each distinct value one code.
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    unique_values = np.empty(len(uniques) + 1, dtype=np.float64)
    unique_flags = np.zeros(len(uniques) + 1, dtype=bool)
    for i, cell in enumerate(uniques):
        try:
            unique_values[i], unique_flags[i] = parse_count(cell)
        except ValueError:
            if errors == "raise":
                raise
            unique_values[i], unique_flags[i] = np.nan, False
    # The extra last slot is what code -1 (a missing cell) indexes: zero, exact.
    unique_values[-1], unique_flags[-1] = 0.0, False
    return unique_values[codes], unique_flags[codes]
