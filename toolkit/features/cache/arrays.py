"""NumPy arrays read back from the cache with their headers checked before anything is allocated.

An ``.npy`` header declares a shape and a dtype, and NumPy allocates what they
add up to before it reads a byte of data: a 1.3 MB deflated ``.npz`` member can
declare a gigabyte, and the reader dies of a MemoryError. The toolkit writes its
arrays uncompressed (``np.savez``, ``np.save``, ``save_npz(compressed=False)``),
so here an array is accepted only if its header declares exactly the bytes its
file (or zip member) holds, no more than ``limit``, and no Python objects; a zip
member must be stored, not compressed, and lie within the file. Anything else is
a :class:`BadArray`, which callers treat as a damaged cache file.
"""

from __future__ import annotations

import math
import zipfile
from typing import BinaryIO

import numpy as np
from numpy.lib import format as npy_format

#: the most one cached array may declare; the row cache writes shards well below it
MAX_ARRAY_BYTES = 1 << 30


class BadArray(ValueError):
    """An array whose header does not fit its file; the message says how."""


def check_npy(fh: BinaryIO, available: int, name: str, *, limit: int | None = MAX_ARRAY_BYTES) -> tuple:
    """Read the ``.npy`` header at ``fh``'s position and check it against ``available`` bytes.

    Args:
        fh: Positioned at the start of an ``.npy`` (a file, or a zip member); left after its header.
        available: The bytes the ``.npy`` holds, header included.
        name: The array's name, for messages.
        limit: The most its data may declare, or None when the bytes are in memory already.

    Returns:
        ``(shape, dtype)`` as declared.

    Raises:
        BadArray: Python objects, a negative dimension, or declared data that
            is larger than ``limit`` or is not exactly what the file holds.
    """
    start = fh.tell()
    version = npy_format.read_magic(fh)
    if version == (1, 0):
        shape, _, dtype = npy_format.read_array_header_1_0(fh)
    elif version == (2, 0):
        shape, _, dtype = npy_format.read_array_header_2_0(fh)
    else:
        raise BadArray(f"{name}: .npy format {version} is not one the toolkit writes")
    if dtype.hasobject or any(d < 0 for d in shape):
        raise BadArray(f"{name}: header declares {dtype} with shape {shape}; the toolkit writes plain arrays")
    declared = math.prod(shape) * dtype.itemsize  # Python ints: a huge shape cannot overflow to a small number
    held = available - (fh.tell() - start)
    if limit is not None and declared > limit:
        raise BadArray(f"{name}: header declares {declared:,} bytes, more than the {limit:,} a cached array may hold")
    if declared != held:
        raise BadArray(f"{name}: header declares {declared:,} bytes of data but the file holds {held:,}")
    return shape, dtype


def check_npz(fh: BinaryIO, size: int, *, limit: int | None = MAX_ARRAY_BYTES) -> dict[str, tuple]:
    """Check every member of the ``.npz`` in ``fh`` (``size`` bytes) before NumPy loads it.

    Returns ``{member name: (shape, dtype)}`` and leaves ``fh`` at its start, ready for ``np.load``.

    Raises:
        BadArray: A member is compressed, claims more bytes than the file has, or fails :func:`check_npy`.
        zipfile.BadZipFile: Not a zip file.
    """
    found = {}
    with zipfile.ZipFile(fh) as archive:
        for info in archive.infolist():
            if info.compress_type != zipfile.ZIP_STORED:
                raise BadArray(f"{info.filename} is compressed; the toolkit stores its arrays uncompressed")
            if info.file_size != info.compress_size or info.header_offset + info.compress_size > size:
                raise BadArray(f"{info.filename}: the zip directory claims {info.file_size:,} bytes "
                               f"in a file of {size:,}")
            with archive.open(info) as member:
                found[info.filename] = check_npy(member, info.file_size, info.filename, limit=limit)
    fh.seek(0)
    return found


def load_checked(fh: BinaryIO, size: int, *, sparse: bool = False):
    """An ``.npy`` array, or with ``sparse`` a SciPy matrix from an ``.npz``, after its headers check out.

    For bytes already in memory (a verified cache payload): no size limit beyond what they hold.
    """
    if sparse:
        import scipy.sparse as sp

        check_npz(fh, size, limit=None)
        return sp.load_npz(fh)
    check_npy(fh, size, "array", limit=None)
    fh.seek(0)
    return np.load(fh, allow_pickle=False)
