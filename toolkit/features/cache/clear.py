"""``cache clear``: remove the feature cache's own entries, by their exact names, and nothing else.

The layout is ``<root>/<key[:2]>/<key>/`` with ``manifest.json``, ``train.npy``
or ``.npz``, ``other-N.npy`` or ``.npz`` and ``fitted.pkl``; interrupted writes
and discards leave ``.<key>.<pid>.<8 hex>.tmp`` and ``.<key>.<8 hex>.trash``.
Only those names are removed; an entry folder holding anything else is left
whole and reported, so a mistyped ``--cache-dir`` cannot delete someone's files.
A link where the cache keeps a folder (``features`` itself, ``<xx>``, an entry)
was planted, not made by the cache: it is removed as a link and never entered,
so what it points to is untouched.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from toolkit.cleanup import Removal, remove_dir_if_empty, remove_file, remove_matching_files

_PREFIX = re.compile(r"[0-9a-f]{2}")
_ENTRY = re.compile(r"[0-9a-f]{64}")
_LEFTOVER = re.compile(r"\.[0-9a-f]{64}\.(?:\d+\.[0-9a-f]{8}\.tmp|[0-9a-f]{8}\.trash)")
_PAYLOAD = re.compile(r"manifest\.json|fitted\.pkl|(?:train|other-\d+)\.np[yz]")


def clear_entries(root: Path) -> Removal:
    """Remove every entry and leftover under ``root`` (the ``features`` folder); ``removed`` counts entries."""
    removal = Removal()
    if os.path.islink(root):
        remove_file(root, Removal())  # the link goes, never what it points to
        return removal
    for prefix in _scan(root, removal):
        if _PREFIX.fullmatch(prefix.name) and prefix.is_symlink():
            remove_file(Path(prefix.path), Removal())
            continue
        if not (_PREFIX.fullmatch(prefix.name) and prefix.is_dir(follow_symlinks=False)):
            removal.kept.append(prefix.path)
            continue
        for item in _scan(Path(prefix.path), removal):
            is_entry = _ENTRY.fullmatch(item.name) and item.name[:2] == prefix.name
            if not (is_entry or _LEFTOVER.fullmatch(item.name)):
                removal.kept.append(item.path)
            elif item.is_symlink():
                remove_file(Path(item.path), Removal())  # the link goes, never what it points to
            elif item.is_dir(follow_symlinks=False):
                _remove_entry(Path(item.path), removal, count=bool(is_entry))
            else:
                removal.kept.append(item.path)
        remove_dir_if_empty(Path(prefix.path))
    remove_dir_if_empty(root)
    return removal


def _remove_entry(folder: Path, removal: Removal, *, count: bool) -> None:
    """Remove an entry folder, but only if every file in it is named as an entry's files are."""
    names = [item.name for item in _scan(folder, removal)]
    foreign = [name for name in names if not _PAYLOAD.fullmatch(name)]
    if foreign:
        removal.kept.append(f"{folder} (holds {foreign[0]})")
        return
    inside = remove_matching_files(folder, _PAYLOAD)
    removal.bytes += inside.bytes
    removal.failed += inside.failed + inside.kept  # something appeared meanwhile
    if not inside.failed and not inside.kept:
        try:
            os.rmdir(folder)
        except OSError as exc:
            removal.failed.append(f"{folder}: {exc.strerror or exc}")
            return
        removal.removed += int(count)


def _scan(folder: Path, removal: Removal) -> list[os.DirEntry]:
    try:
        with os.scandir(folder) as it:
            return sorted(it, key=lambda e: e.name)
    except FileNotFoundError:
        return []
    except OSError as exc:
        removal.failed.append(f"{folder}: {exc.strerror or exc}")
        return []
