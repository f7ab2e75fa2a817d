"""The one YAML reader for specs, sweeps and ``--set`` values.

PyYAML's ``safe_load`` builds only plain data, but it still expands aliases (a
few lines of ``&a [*b, *b, ...]`` grow into gigabytes), lets a repeated key
silently replace the first, and reads a file of any size. This loader refuses
all three and reports every problem as one line naming the file and line:

- anchors and aliases are refused outright: a spec has no use for them, and
  refusing is simpler to trust than bounding an expansion;
- a key given twice in one mapping is refused, naming the key and both lines;
- files over :data:`MAX_BYTES`, nesting deeper than :data:`MAX_DEPTH`, text that
  is not UTF-8 and integers too long for Python to convert are refused.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from toolkit.errors import ToolkitError, os_reason
from toolkit.safe_io import open_regular

MAX_BYTES = 1 << 20  # a spec or sweep is a few kilobytes; 1 MiB leaves room and bounds the work
MAX_VALUE_BYTES = 64 << 10  # one --set value
MAX_DEPTH = 64  # nesting of mappings and lists; PyYAML recurses and would hit Python's limit


class _Refused(yaml.YAMLError):
    """A construct this loader does not accept; the message is complete on its own."""


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader without anchors, aliases or duplicate keys, and with a nesting limit."""

    def __init__(self, stream):
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent, index):
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            kind = "alias *" if isinstance(event, yaml.AliasEvent) else "anchor &"
            raise _Refused(f"line {event.start_mark.line + 1}: YAML anchors and aliases are not accepted "
                           f"(found {kind}{event.anchor}); write the value out in full")
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _Refused(f"line {event.start_mark.line + 1}: nested deeper than {MAX_DEPTH} levels")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node, deep=False):
        self.flatten_mapping(node)  # merge keys (``<<: {...}``) first, as SafeLoader does
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            try:
                if key in seen:
                    raise _Refused(f"line {line}: key {key!r} is given twice (first on line {seen[key]}); "
                                   "give each key once")
                seen[key] = line
            except TypeError:
                continue  # an unhashable key: PyYAML's own check below reports it
        return super().construct_mapping(node, deep=deep)


def _load(text: str) -> Any:
    loader = _StrictLoader(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def _problem(exc: Exception) -> str:
    """One line: what is wrong and where, without PyYAML's multi-line excerpt."""
    if isinstance(exc, _Refused):
        return str(exc)
    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        return f"{where}{exc.problem}" + (f" ({exc.context})" if exc.context else "")
    if isinstance(exc, RecursionError):
        return f"nested too deeply (more than {MAX_DEPTH} levels)"
    if isinstance(exc, ValueError):  # Python's limit on converting very long integers
        return f"a value cannot be read: {str(exc).split(';')[0]}"
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def read_yaml_mapping(path: Path, expected: str, keys: str) -> dict:
    """A YAML file's top-level mapping, or a ToolkitError saying what is wrong with the file.

    Args:
        path: the file.
        expected: what the file should be, for messages ("a YAML spec, e.g. experiments/quickstart.yaml").
        keys: the keys such a mapping holds, for messages ("name:, data:, ...").
    """
    path = Path(path)
    if not os.path.lexists(path):
        raise ToolkitError(f"File {str(path)!r} not found. Expected {expected}.")
    # a FIFO, a device or a folder is refused, naming what it is, before it is opened
    with open_regular(path, expected) as fh:
        try:
            data = fh.read(MAX_BYTES + 1)  # never more than the limit, whatever the file claims to be
        except OSError as exc:
            raise ToolkitError(f"Cannot read {path}: {os_reason(exc)}.") from None
    if len(data) > MAX_BYTES:
        raise ToolkitError(f"{path} is larger than {MAX_BYTES // 1024} KiB; expected {expected}.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ToolkitError(f"{path} is not UTF-8 text (byte {exc.start}: {exc.reason}).") from None
    try:
        raw = _load(text)
    except (yaml.YAMLError, ValueError, RecursionError) as exc:
        raise ToolkitError(f"{path} is not valid YAML: {_problem(exc)}.") from None
    if not isinstance(raw, dict):
        raise ToolkitError(f"{path} must hold a YAML mapping ({keys}). Got {type(raw).__name__} instead.")
    return raw


def parse_yaml_value(text: str, where: str) -> Any:
    """A ``--set`` value parsed as YAML; text that is not YAML stays a string.

    Anchors, aliases, duplicate keys, deep nesting and values over
    :data:`MAX_VALUE_BYTES` are refused with a ToolkitError naming ``where``
    (e.g. ``--set training.epochs``); other syntax errors keep the text as given,
    so ``--set name=a: b`` still means the string ``a: b``.
    """
    if len(text.encode("utf-8", "surrogatepass")) > MAX_VALUE_BYTES:
        raise ToolkitError(f"{where}: the value is longer than {MAX_VALUE_BYTES // 1024} KiB.")
    try:
        return _load(text)
    except (_Refused, ValueError, RecursionError) as exc:
        raise ToolkitError(f"{where}: {_problem(exc)}.") from None
    except yaml.YAMLError:
        return text
