"""Checks of the values a caller passes: the Python API's arguments and the command line's caps.

Python hands the API values that a command line never could: a spec dict nested 5,000 deep,
``10**5000`` users, a NUL byte in a path, ``workers=2**64``. Each would end deep inside a
library as a ``RecursionError``, ``OverflowError`` or ``ValueError``; checked here first, each is
a :class:`~toolkit.errors.ToolkitError` that says what was expected and what was given.

Decisions:
    * The caps the command line enforces are defined once, here (:data:`MAX_REPEATS`,
      :data:`MAX_WORKERS`), and both the API and ``toolkit/cli.py`` check against them with the
      same functions, so the two can never disagree.
    * A spec dict is checked as if it had been read from YAML: plain data only (mappings, lists,
      text, numbers, booleans, null, dates), nested at most as deep as the YAML reader allows,
      integers within 64 bits. The walk is iterative, so checking cannot itself overflow the stack.
    * Messages never ``repr`` a huge value: an int of 5,000 digits cannot even be printed.
"""

from __future__ import annotations

import datetime
import os
from pathlib import Path

from toolkit.errors import ToolkitError

#: ``explain --repeats`` and ``Run.explain(repeats=)``: each repeat scores every held-out user once per block
MAX_REPEATS = 1000
#: ``bench --workers`` and ``bench(workers=)``: processes or Ray tasks at once; a sweep holds at most
#: 1,000 configurations by default, so more workers than this could never all be busy
MAX_WORKERS = 1024
#: the largest integer a spec value may hold: what 64-bit libraries (NumPy, Keras, LightGBM) can take
MAX_SPEC_INT = 2**63 - 1
#: the most values (mappings, lists and scalars) a spec dict may hold: a 1 MiB YAML spec holds fewer, and a
#: dict that shares one list at every level (a "billion laughs" built in Python) would hold 2**64
MAX_SPEC_VALUES = 1_000_000
#: the longest path accepted, in bytes (Linux's PATH_MAX less the final NUL)
MAX_PATH_BYTES = 4095
_SCALARS = (str, int, float, bool, type(None), datetime.date)


def shown(value) -> str:
    """``value`` for a message, short whatever it is (a 5,000-digit int is described, not printed)."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 64:
        return f"an int of about {int(value.bit_length() * 0.30103) + 1:,} digits"
    try:
        text = repr(value)
    except Exception:  # a caller's object whose repr fails still gets a message
        text = f"<{type(value).__name__}>"
    return text if len(text) <= 80 else text[:77] + "..."


def check_int(name: str, value, low: int, high: int, why: str = "") -> int:
    """``value`` if it is an int from ``low`` to ``high`` (a bool is not an int here).

    Raises:
        ToolkitError: naming ``name``, the range, ``why`` (when given) and what was passed.
    """
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        reason = f" ({why})" if why else ""
        raise ToolkitError(f"{name} must be an int from {low} to {high}{reason}. Got {shown(value)} instead.")
    return value


def check_repeats(name: str, value) -> int:
    """Permutation repeats of ``explain``: from 2 (an interval) to :data:`MAX_REPEATS`."""
    return check_int(name, value, 2, MAX_REPEATS,
                     "an interval needs 2 repeats; each repeat scores every held-out user again")


def check_workers(name: str, value) -> int:
    """Configurations run at once by ``bench``: from 1 to :data:`MAX_WORKERS`."""
    return check_int(name, value, 1, MAX_WORKERS)


def check_bool(name: str, value) -> bool:
    """``value`` if it is True or False (not a truthy string such as ``"no"``)."""
    if not isinstance(value, bool):
        raise ToolkitError(f"{name} must be True or False. Got {shown(value)} instead.")
    return value


def check_choice(name: str, value, choices: tuple[str, ...]) -> str:
    """``value`` if it is one of ``choices``."""
    if not isinstance(value, str) or value not in choices:
        raise ToolkitError(f"{name} must be one of {', '.join(repr(c) for c in choices)}. Got {shown(value)} instead.")
    return value


def check_path(name: str, value, *, optional: bool = False) -> Path | None:
    """``value`` as a Path if it is a usable path (a str or os.PathLike); None passes when ``optional``.

    Raises:
        ToolkitError: not a path, empty, holding a NUL byte (no file system accepts one), or
            longer than :data:`MAX_PATH_BYTES`.
    """
    if value is None and optional:
        return None
    text = os.fspath(value) if isinstance(value, os.PathLike) else value
    if not isinstance(text, str):
        kind = "a path (str or pathlib.Path)" + (" or None" if optional else "")
        raise ToolkitError(f"{name} must be {kind}. Got {type(value).__name__} {shown(value)} instead.")
    if not text:
        raise ToolkitError(f"{name} must be a path; got an empty string.")
    if "\0" in text:
        raise ToolkitError(f"{name} holds a NUL byte (\\0), which no file name can contain. Got {shown(text)}.")
    if len(os.fsencode(text)) > MAX_PATH_BYTES:
        raise ToolkitError(f"{name} is {len(os.fsencode(text)):,} bytes long; a path is at most "
                           f"{MAX_PATH_BYTES:,} bytes.")
    return Path(text)


def check_paths(name: str, value, *, allow_empty: bool = True) -> list[Path]:
    """One path, or a list or tuple of paths, as a list of Paths."""
    if isinstance(value, (str, os.PathLike)):
        return [check_path(name, value)]
    if not isinstance(value, (list, tuple)):
        raise ToolkitError(f"{name} must be a path or a list of paths. Got {type(value).__name__} "
                           f"{shown(value)} instead.")
    if not value and not allow_empty:
        raise ToolkitError(f"{name} must name at least one file; got an empty {type(value).__name__}.")
    return [check_path(f"{name}[{i}]", item) for i, item in enumerate(value)]


def check_plain_data(name: str, value) -> None:
    """Refuse what a YAML spec could never hold: deep nesting, foreign objects, integers beyond 64 bits.

    ``value`` is walked without recursion; every problem names its place (``spec.data.synthetic.users``).

    Raises:
        ToolkitError: nested deeper than the YAML reader's limit, more than :data:`MAX_SPEC_VALUES`
            values, a value or key that is not plain data (mapping, list, text, number, boolean,
            null, date; keys scalars), or an integer beyond :data:`MAX_SPEC_INT`.
    """
    from toolkit.yaml_io import MAX_DEPTH  # here: the command line imports this module, and needs no YAML to start

    stack = [(value, name, 1)]  # depth counted as the YAML reader counts it: the top mapping is level 1
    seen = 0
    while stack:
        node, where, depth = stack.pop()
        seen += 1
        if seen > MAX_SPEC_VALUES:
            raise ToolkitError(f"{name} holds more than {MAX_SPEC_VALUES:,} values (counting a list or dict "
                               "each time it is reached); a spec holds a few hundred.")
        if not isinstance(node, (dict, list, tuple)):
            _check_scalar(node, where)
            continue
        if node and depth >= MAX_DEPTH:
            raise ToolkitError(f"{_short(where)} is nested deeper than {MAX_DEPTH} levels; a spec is a few "
                               "levels deep (the YAML reader refuses deeper nesting too).")
        for key, child in (node.items() if isinstance(node, dict) else enumerate(node)):
            if isinstance(node, dict):
                _check_scalar(key, f"{where} (a key)")
            label = key if isinstance(key, str) and len(key) <= 80 else shown(key)
            stack.append((child, f"{where}.{label}", depth + 1))


def _check_scalar(value, where: str) -> None:
    if not isinstance(value, _SCALARS):
        raise ToolkitError(f"{_short(where)} is a {type(value).__module__}.{type(value).__name__}; a spec holds "
                           "plain data (dict, list, str, int, float, bool, None, date). Convert it, e.g. "
                           "int(x) or float(x) for a NumPy number.")
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_SPEC_INT:
        raise ToolkitError(f"{_short(where)} is {shown(value)}; a spec's integers are at most {MAX_SPEC_INT:,} "
                           "in size.")


def _short(where: str) -> str:
    """A place in a spec for a message: the start and the end of a very long key path."""
    return where if len(where) <= 120 else f"{where[:60]}...{where[-50:]}"
