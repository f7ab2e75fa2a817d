"""One row-cache shard: its file format, its signature, and reading it without trusting it.

A shard ``<uuid>.npz`` is an uncompressed NumPy zip of four arrays: ``digests``
(uint8, n x 32: the texts' sha256), ``rows`` (little-endian float32, n x dim),
``seconds`` (little-endian float64, n: what each row took to compute) and
``hmac`` (uint8, 32). The last is an HMAC-SHA256 under the user's cache key
(:mod:`toolkit.signing`, the key that signs feature-cache entries) over a short
header naming the shard format, the identity folder and ``(n, dim)``, followed
by the exact bytes of ``digests``, ``rows`` and ``seconds``. Naming the
identity folder means a genuine shard copied into another model's folder is
refused as well. The signature sits inside the one file, so a shard appears
whole and signed in one rename, and no reader ever meets a shard without it.

Reading checks, in order, before a row is handed back: the path is a regular
file, not a link, FIFO or device (:func:`toolkit.safe_io.open_regular`, which
does not block); the file is at most :data:`MAX_SHARD_BYTES`; every member is
stored uncompressed and its ``.npy`` header declares exactly the bytes it holds
(:mod:`toolkit.features.cache.arrays`), so nothing larger than the file is ever
allocated; the arrays are the four above with their dtypes and matching shapes;
and the HMAC verifies. A failure is a :class:`BadShard` (:class:`UnsignedShard`
when only the signature is missing or wrong).
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import numpy as np

from toolkit.errors import ToolkitError
from toolkit.features.cache.arrays import MAX_ARRAY_BYTES, check_npz
from toolkit.features.cache.key import sign_parts, verify_parts
from toolkit.safe_io import open_atomic, open_regular

SHARD_FORMAT = 2
DTYPES = {"digests": np.dtype("u1"), "rows": np.dtype("<f4"), "seconds": np.dtype("<f8"), "hmac": np.dtype("u1")}
MAX_SHARD_BYTES = 2 * MAX_ARRAY_BYTES  # a file larger than this is not one the writer makes
ROWS_BYTES_PER_SHARD = 256 << 20  # the writer splits larger batches, so shards stay far below the reader's limits


class BadShard(Exception):
    """A shard that cannot be used; the message says why."""


class UnsignedShard(BadShard):
    """A well-formed shard whose signature is missing, or is not this user's key's over these rows."""


def rows_per_shard(dim: int) -> int:
    """How many rows of ``dim`` floats one shard holds."""
    return max(1, ROWS_BYTES_PER_SHARD // max(1, 4 * dim))


def write_shard(path: Path, identity: str, digests: np.ndarray, rows: np.ndarray, seconds: np.ndarray,
                key: bytes, *, within: Path) -> None:
    """Write one signed shard atomically (a temporary file in the same folder, then a rename)."""
    arrays = {"digests": np.ascontiguousarray(digests, dtype=DTYPES["digests"]),
              "rows": np.ascontiguousarray(rows, dtype=DTYPES["rows"]),
              "seconds": np.ascontiguousarray(seconds, dtype=DTYPES["seconds"])}
    mac = sign_parts(key, _signed_parts(identity, **arrays))
    with open_atomic(path, within=within) as fh:
        np.savez(fh, **arrays, hmac=np.frombuffer(bytes.fromhex(mac), dtype=DTYPES["hmac"]))


def read_shard(path: Path, identity: str, key: bytes) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(digests, rows, seconds)`` of a shard this user's key signed for ``identity``.

    Raises:
        UnsignedShard: No signature, or one that does not verify.
        BadShard: Anything else: not a regular file, too large, headers that do not fit, wrong arrays.
    """
    try:
        arrays = _load(path)
    except BadShard:
        raise
    except (ToolkitError, OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        raise BadShard(f"unreadable ({exc})") from None
    digests, rows, seconds, mac = (arrays[name] for name in DTYPES)
    if digests.ndim != 2 or digests.shape[1] != 32 or rows.ndim != 2 or rows.shape[0] != digests.shape[0] \
            or seconds.shape != (rows.shape[0],) or mac.shape != (32,):
        raise BadShard(f"unreadable (shapes {digests.shape}, {rows.shape}, {seconds.shape} and {mac.shape} "
                       "do not match)")
    if not verify_parts(key, _signed_parts(identity, digests, rows, seconds), bytes(mac).hex()):
        raise UnsignedShard("not signed with your cache key (altered, or signed with another key)")
    return digests, rows, seconds


def _load(path: Path) -> dict[str, np.ndarray]:
    with open_regular(path, "a row cache shard", follow_links=False) as fh:
        size = os.fstat(fh.fileno()).st_size
        if size > MAX_SHARD_BYTES:
            raise BadShard(f"unreadable ({size:,} bytes; a shard is at most {MAX_SHARD_BYTES:,})")
        declared = check_npz(fh, size)
        if "hmac.npy" not in declared:
            raise UnsignedShard("not signed (no signature in it)")
        expected = {f"{name}.npy": dtype for name, dtype in DTYPES.items()}
        if set(declared) != set(expected) or any(declared[m][1] != dtype for m, dtype in expected.items()):
            found = ", ".join(f"{m} {declared[m][1]}" for m in sorted(declared))
            raise BadShard(f"unreadable (holds {found}; expected digests, rows, seconds and hmac)")
        with np.load(fh, allow_pickle=False) as data:
            return {name: data[name] for name in DTYPES}


def _signed_parts(identity: str, digests: np.ndarray, rows: np.ndarray, seconds: np.ndarray) -> list:
    """What the HMAC covers: the format, the identity folder and the shape, then the arrays' exact bytes."""
    head = f"toolkit row shard {SHARD_FORMAT}\n{identity}\n{rows.shape[0]} {rows.shape[1]}\n".encode()
    return [head] + [np.ascontiguousarray(a) for a in (digests, rows, seconds)]
