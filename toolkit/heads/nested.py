"""Heads inside a head (``tuned``, ``stack``): their specs checked up front, their files in one archive.

A wrapper head is saved as one file, so that a results folder records (and hashes) one head file
whatever its members are: a zip holding ``manifest.json`` (each member's registry key and file
name) and each member's own saved file (a Keras model stays a ``.keras`` file, a scikit-learn one
a pickle). Only the names the manifest lists, under the member folders this module writes, are
ever extracted.
"""

from __future__ import annotations

import json
import re
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from toolkit.errors import ToolkitError
from toolkit.params import check_params
from toolkit.registry import HEADS
from toolkit.safe_io import open_atomic

MANIFEST = "manifest.json"
_MEMBER_FILE = re.compile(r"member_\d{1,4}/[A-Za-z0-9_.-]{1,64}")
WRAPPERS = ("tuned", "stack")  # heads of heads: not members of one another (one level keeps costs readable)


def member_spec(block: Any, where: str) -> tuple[str, dict]:
    """``{type: NAME, **params}`` -> (NAME, params with defaults), checked by the member's own rules."""
    if isinstance(block, str):
        block = {"type": block}
    if not isinstance(block, dict) or not isinstance(block.get("type"), str):
        raise ToolkitError(f"{where} must be a head block with a 'type' key, e.g. {{type: logreg, C: 1.0}}. "
                           f"Got {block!r} instead.")
    key = block["type"]
    if key in WRAPPERS:
        raise ToolkitError(f"{where}: a {key!r} head cannot sit inside another tuned or stack head; "
                           "expected a plain head (logreg, gbdt, mlp, ...).")
    cls = HEADS.get(key)
    params = check_params(cls, {k: v for k, v in block.items() if k != "type"}, where=where)
    return key, params


def save_members(path: str | Path, members: list[tuple[str, Any]], extra: dict | None = None) -> Path:
    """Write ``(registry key, fitted head)`` pairs into one zip at ``path`` (atomically).

    ``extra``: the wrapper's own fitted state, as JSON (a stack's weights, a search's best values).
    """
    entries = []
    with tempfile.TemporaryDirectory(prefix="toolkit-heads-") as tmp, open_atomic(path) as fh:
        with zipfile.ZipFile(fh, "w", zipfile.ZIP_DEFLATED) as archive:
            for i, (key, head) in enumerate(members):
                name = f"member_{i}/{type(head).filename}"
                local = Path(tmp) / f"member_{i}"
                local.mkdir()
                saved = head.save(local / type(head).filename)
                archive.write(saved, name)
                entries.append({"type": key, "file": name})
            archive.writestr(MANIFEST, json.dumps({"members": entries, "extra": extra or {}}))
    return Path(path)


def load_members(path: str | Path, *, with_extra: bool = False):
    """The ``(registry key, head)`` pairs :func:`save_members` wrote (and its ``extra``, ``with_extra``)."""
    try:
        with zipfile.ZipFile(path) as archive, tempfile.TemporaryDirectory(prefix="toolkit-heads-") as tmp:
            manifest = json.loads(archive.read(MANIFEST))
            entries = manifest["members"]
            out = []
            for entry in entries:
                name = entry["file"]
                if not isinstance(name, str) or not _MEMBER_FILE.fullmatch(name):
                    raise ToolkitError(f"{path}: member file {name!r} is not one this toolkit writes.")
                target = Path(tmp) / name
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(archive.read(name))
                out.append((entry["type"], HEADS.get(entry["type"]).load(target)))
            return (out, manifest.get("extra", {})) if with_extra else out
    except (zipfile.BadZipFile, KeyError, TypeError, ValueError) as exc:
        raise ToolkitError(f"{path} is not a saved tuned or stack head ({type(exc).__name__}: {exc}).") from None
