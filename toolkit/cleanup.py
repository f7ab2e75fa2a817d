"""Deleting only what the toolkit wrote: by exact name pattern, never through a link, never halfway.

``cache clear`` used to remove whatever lay under the folder it was given. Here
every file or folder is matched against the names the toolkit gives its own
files; anything else is left alone and reported, symbolic links are never
followed (a link named like an entry is removed, not what it points to), and a
file that cannot be removed is reported while the rest goes on.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Removal:
    """What a clean-up removed, left alone and could not remove."""

    removed: int = 0  # items (files or entry folders) removed
    bytes: int = 0  # bytes freed
    kept: list[str] = field(default_factory=list)  # paths left alone: not named as the toolkit names its files
    failed: list[str] = field(default_factory=list)  # "path: reason" for items that could not be removed

    def merge(self, other: "Removal") -> None:
        self.removed += other.removed
        self.bytes += other.bytes
        self.kept += other.kept
        self.failed += other.failed

    def summary(self) -> str:
        """``" (2 unknown items left alone: a, b)"`` and failures, or an empty string."""
        parts = []
        if self.kept:
            parts.append(f"{len(self.kept)} item(s) the toolkit did not write left alone: {', '.join(self.kept[:5])}"
                         + (" ..." if len(self.kept) > 5 else ""))
        if self.failed:
            parts.append(f"{len(self.failed)} could not be removed: {'; '.join(self.failed[:5])}"
                         + (" ..." if len(self.failed) > 5 else ""))
        return "".join(f"\n  {p}" for p in parts)


def remove_file(path: Path, removal: Removal) -> None:
    """Unlink one file (or link), counting its size; a failure is recorded, not raised."""
    try:
        info = os.lstat(path)
        os.unlink(path)
    except FileNotFoundError:
        return  # removed meanwhile by another clean-up
    except OSError as exc:
        removal.failed.append(f"{path}: {exc.strerror or exc}")
        return
    removal.removed += 1
    removal.bytes += info.st_size if stat.S_ISREG(info.st_mode) else 0


def remove_matching_files(folder: Path, pattern: re.Pattern) -> Removal:
    """Remove the regular files and links directly in ``folder`` whose whole name matches ``pattern``."""
    removal = Removal()
    try:
        entries = list(os.scandir(folder))
    except FileNotFoundError:
        return removal
    except OSError as exc:
        removal.failed.append(f"{folder}: {exc.strerror or exc}")
        return removal
    for entry in sorted(entries, key=lambda e: e.name):
        if pattern.fullmatch(entry.name) and not entry.is_dir(follow_symlinks=False):
            remove_file(Path(entry.path), removal)
        else:
            removal.kept.append(entry.path)
    return removal


def remove_dir_if_empty(folder: Path) -> None:
    try:
        os.rmdir(folder)
    except OSError:
        pass  # not empty (something the toolkit did not write), or already gone
