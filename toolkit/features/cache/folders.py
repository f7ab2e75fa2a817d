"""The cache's own folders: below the cache root, every folder it reads or writes is one it made.

A shared cache folder is writable by others, who could plant a link where the
cache keeps a folder (``<cache>/rows/<identity> -> ~/somewhere``,
``<cache>/features/ab -> /elsewhere``) and have a run write its files through it.
The cache root itself is the user's choice and may be a link; below it, a folder
that is a symbolic link (or is not a folder) is never entered: :func:`own_folder`
raises :class:`PlantedPath`, the caller warns and goes on without the cache for
that entry (a miss, nothing stored), and ``toolkit cache clear`` removes the link
itself, never what it points to. Replacing the link instead would have the cache
delete what others put in a shared folder; refusing it costs only a recompute.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from toolkit.safe_io import describe_path


class PlantedPath(Exception):
    """A path where the cache keeps a folder holds something the cache did not make."""


def own_folder(root: Path, *parts: str, create: bool) -> Path | None:
    """``root/part/...`` once every part below ``root`` is checked to be a real folder.

    Args:
        root: The cache root (followed if it is a link: the user named it).
        parts: The folders below it, outermost first.
        create: Make the missing ones (``mkdir`` never follows a link at its path).

    Returns:
        The folder, or None when a part does not exist and ``create`` is false.

    Raises:
        PlantedPath: A part is a symbolic link, or not a folder.
        OSError: A folder cannot be made.
    """
    path = Path(root)
    if create:
        path.mkdir(parents=True, exist_ok=True)
    for part in parts:
        path = path / part
        if create:
            try:
                os.mkdir(path)
            except FileExistsError:
                pass
        try:
            info = os.lstat(path)
        except FileNotFoundError:
            if create:
                raise
            return None
        if not stat.S_ISDIR(info.st_mode):
            raise PlantedPath(f"{path} {describe_path(path)}, not a folder the cache made; the cache never follows "
                              "a link it did not make, so it is not used (`toolkit cache clear` removes a link there)")
    return path
