"""Where the toolkit keeps a user's files: the cache (``~/.cache/toolkit``) and its key (``~/.config``).

Both hang off ``$HOME``. An empty or relative ``HOME`` (``HOME=""`` in a service's environment)
would put them at ``/.cache`` and ``/.config``, or in whatever folder the command runs from; then
a private folder of this user's in the temporary directory (``toolkit-<uid>``, mode 0700) is used
instead, with a warning. Set ``HOME``, or ``TOOLKIT_CACHE_DIR`` and ``TOOLKIT_CACHE_KEY_FILE``, to
keep the cache between sessions.
"""

from __future__ import annotations

import os
import stat
import tempfile
import warnings
from pathlib import Path

from toolkit.errors import ToolkitError


def home() -> Path:
    """``$HOME``, or this user's private temporary folder (with a warning) when it is unusable."""
    value = os.environ.get("HOME")
    if value is None:
        return Path.home()  # unset: Python asks the password database
    if value and os.path.isabs(value) and (value != "/" or not hasattr(os, "getuid") or os.getuid() == 0):
        return Path(value)
    folder = _private_temp()
    warnings.warn(f"HOME is {value!r}, not a usable home folder; keeping the toolkit's cache and key in "
                  f"{folder} for now (set HOME, or TOOLKIT_CACHE_DIR and TOOLKIT_CACHE_KEY_FILE)", stacklevel=2)
    return folder


def cache_root(cache_dir: str | Path | None = None) -> Path:
    """``cache_dir`` if given, else ``$TOOLKIT_CACHE_DIR``, else ``~/.cache/toolkit``."""
    if cache_dir is not None:
        return Path(cache_dir)
    env = os.environ.get("TOOLKIT_CACHE_DIR")
    return Path(env) if env else home() / ".cache" / "toolkit"


def config_root() -> Path:
    """``$XDG_CONFIG_HOME``, else ``~/.config``."""
    given = os.environ.get("XDG_CONFIG_HOME")
    return Path(given) if given and os.path.isabs(given) else home() / ".config"


def _private_temp() -> Path:
    """``<tmp>/toolkit-<uid>``, made 0700; refused if another user made it or others may enter it."""
    uid = os.getuid() if hasattr(os, "getuid") else 0
    folder = Path(tempfile.gettempdir()) / f"toolkit-{uid}"
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
        info = os.lstat(folder)
    except OSError as exc:
        raise ToolkitError(f"HOME is not set to a usable folder and {folder} cannot be made ({exc}). "
                           "Set HOME, or TOOLKIT_CACHE_DIR and TOOLKIT_CACHE_KEY_FILE.") from None
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != uid or info.st_mode & 0o077:
        raise ToolkitError(f"HOME is not set to a usable folder and {folder} is not a private folder of yours "
                           "(another user may have made it). Set HOME, or TOOLKIT_CACHE_DIR and "
                           "TOOLKIT_CACHE_KEY_FILE.")
    return folder
