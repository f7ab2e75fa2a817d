"""A structural check of a fastText ``.bin`` file, before fastText is asked to load it.

``fasttext.load_model`` reads whatever it is given: a file that is not a model
can fail deep inside, and a truncated one can load with a matrix filled from
nowhere. This walks the file's layout (fastText 0.9: header, arguments,
dictionary, input and output matrices) and checks that the sizes it declares
add up to exactly the file's size, without reading the matrices themselves.
"""

from __future__ import annotations

import mmap
import os
import struct

from toolkit.errors import ToolkitError

MAGIC, VERSION = 793712314, 12  # FASTTEXT_FILEFORMAT_MAGIC_INT32, FASTTEXT_VERSION
ARGS_BYTES = 12 * 4 + 8  # Args::save: twelve int32 fields, then the double 't'


class _Bad(Exception):
    pass


def check_fasttext_bin(path: str) -> None:
    """Raise a ToolkitError naming ``path`` unless it is a complete fastText .bin model."""
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as fh:
            if size < 8 or struct.unpack("<ii", fh.read(8)) != (MAGIC, VERSION):
                raise _Bad("it does not start with fastText's file signature; is it a .vec text file or not a model?")
            with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data:
                expected = _expected_size(data)
    except _Bad as exc:
        raise ToolkitError(f"The fastText model file {path!r} is not usable: {exc}") from None
    except OSError as exc:
        raise ToolkitError(f"The fastText model file {path!r} cannot be read: {exc.strerror or exc}.") from None
    if expected is not None and expected != size:
        raise ToolkitError(f"The fastText model file {path!r} is not usable: its layout needs {expected} bytes "
                           f"but the file has {size}; it is truncated or damaged. Copy it again.")


def _expected_size(data) -> int | None:
    """The file size the layout declares; None for a quantized model (its matrices are not walked)."""
    pos = 8 + ARGS_BYTES
    words, _, _, _, pruned = _unpack(data, pos, "<iiiqq")
    if words < 0 or pruned < -1:
        raise _Bad("its dictionary header is invalid")
    pos += 4 * 3 + 8 * 2
    for _ in range(words):
        end = data.find(b"\0", pos)
        if end < 0:
            raise _Bad("it ends inside the dictionary: truncated")
        pos = end + 1 + 8 + 1  # the word, its count (int64) and its type (int8)
    pos += 8 * max(pruned, 0)
    for _ in ("input", "output"):
        (quantized,) = _unpack(data, pos, "<?")
        if quantized:
            return None
        rows, cols = _unpack(data, pos + 1, "<qq")
        if rows < 0 or cols < 0:
            raise _Bad("a matrix header is invalid")
        pos += 1 + 16 + 4 * rows * cols
    return pos


def _unpack(data, pos: int, fmt: str) -> tuple:
    end = pos + struct.calcsize(fmt)
    if end > len(data):
        raise _Bad("it ends too early: truncated")
    return struct.unpack(fmt, data[pos:end])
