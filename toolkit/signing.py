"""The secret that signs what the toolkit caches (feature blocks, row shards, synthetic data), kept outside the cache.

Whoever can write to a cache folder (a team share, a cluster's disk) could
otherwise forge an entry, manifest and all. Entries are signed with an HMAC
under a per-user key stored in ``$TOOLKIT_CACHE_KEY_FILE`` or
``$XDG_CONFIG_HOME/toolkit/cache.key`` (``~/.config/toolkit/cache.key``),
created on first use with mode 0600. A key file that someone else owns, or
that others may read or write, is refused: it would let them sign entries.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
from pathlib import Path

from toolkit.errors import ToolkitError
from toolkit.user_dirs import config_root

KEY_BYTES = 32


def key_file() -> Path:
    """Where the key lives: ``$TOOLKIT_CACHE_KEY_FILE``, else under ``$XDG_CONFIG_HOME`` or ``~/.config``."""
    given = os.environ.get("TOOLKIT_CACHE_KEY_FILE")
    if given:
        return Path(given).expanduser()
    return config_root() / "toolkit" / "cache.key"


def load_or_create_key(path: Path | None = None) -> bytes:
    """The signing key, created (random, mode 0600) if the file does not exist yet.

    Raises:
        ToolkitError: the file is not the user's own, is open to others, or does not hold a key.
        OSError: the file cannot be created or read (the caller decides to go on without a cache).
    """
    path = key_file() if path is None else Path(path)
    if not os.path.lexists(path):
        _create(path)
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))  # a symlink could point at another's file
    try:
        info = os.fstat(fd)
        _check_private(path, info)
        text = os.read(fd, 4 * KEY_BYTES).decode("ascii", "replace").strip()
    finally:
        os.close(fd)
    try:
        key = bytes.fromhex(text)
    except ValueError:
        key = b""
    if len(key) < KEY_BYTES:
        raise ToolkitError(f"The feature cache key file {path} does not hold a key ({2 * KEY_BYTES} hex digits). "
                           "Delete it and a new one is made on the next run.")
    return key


def sign(key: bytes, payload: bytes) -> str:
    """HMAC-SHA256 of ``payload`` under ``key``, as hex."""
    return hmac.new(key, payload, hashlib.sha256).hexdigest()


def verify(key: bytes, payload: bytes, signature: object) -> bool:
    return isinstance(signature, str) and hmac.compare_digest(sign(key, payload), signature)


def sign_parts(key: bytes, parts) -> str:
    """:func:`sign` over the concatenation of ``parts`` (bytes-like), without joining them in memory."""
    mac = hmac.new(key, digestmod=hashlib.sha256)
    for part in parts:
        mac.update(part)
    return mac.hexdigest()


def verify_parts(key: bytes, parts, signature: object) -> bool:
    return isinstance(signature, str) and hmac.compare_digest(sign_parts(key, parts), signature)


def _create(path: Path) -> None:
    """Write a fresh key to a private temporary file, then link it into place.

    The link fails if another process made the key first; then its key is used,
    so concurrent first runs agree on one key.
    """
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, (secrets.token_hex(KEY_BYTES) + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.link(tmp, path)
    except FileExistsError:
        pass
    finally:
        os.unlink(tmp)


def _check_private(path: Path, info: os.stat_result) -> None:
    if not stat.S_ISREG(info.st_mode):
        raise ToolkitError(f"The feature cache key file {path} is not a regular file.")
    if hasattr(os, "getuid") and info.st_uid != os.getuid():
        raise ToolkitError(f"The feature cache key file {path} belongs to another user (uid {info.st_uid}); "
                           "use a key file of your own (TOOLKIT_CACHE_KEY_FILE).")
    if info.st_mode & 0o077:
        raise ToolkitError(f"The feature cache key file {path} is open to others (mode "
                           f"{stat.S_IMODE(info.st_mode):04o}); expected 0600: chmod 600 {path}")
