"""Messages that are one row of a structured array, many at a time: the fast paths.

A 1-row array's message is a head fixed by the dtype (map keys, dtype description, shape,
``bin`` header) followed by the row's bytes. The producer packs a run of rows into such
messages from one copy of their array (:func:`pack_rows`); batch receive recognises them by
that head (:func:`row_head`) and reads the rows of many at once (:func:`rows_from_bytes`).
Either way the bytes and arrays are those of ``pack`` and ``unpack`` one row at a time.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._arrays import NDArray, check_carriable, check_text
from .._encoding import Encoding
from ._writer import array_head

__all__ = ["pack_rows", "row_head", "rows_from_bytes"]


def pack_rows(array: NDArray, encoding: Encoding = Encoding.MSGPACK_NUMPY) -> list[bytes]:
    """One message per row of a 1-d array, each that row as a 1-row array: the bytes of
    ``pack(array[i:i + 1])`` for every ``i``, made from one copy of the array's data."""
    if array.ndim != 1:
        raise ValueError(f"pack_rows takes a 1-d array, not {array.ndim}-d")
    check_carriable(array.dtype, encoding, "<root>")
    size = array.dtype.itemsize
    prefix = array_head(array.dtype, (1,), size)
    data = array.tobytes()
    return [prefix + data[start : start + size] for start in range(0, size * len(array), size)]


def row_head(dtype: np.dtype[Any]) -> bytes:
    """What every message of ``pack_rows`` starts with for rows of ``dtype``: the bytes before
    the row's own. A message that is this head and ``dtype.itemsize`` more bytes is a 1-row
    array of ``dtype`` holding those bytes."""
    return array_head(dtype, (1,), dtype.itemsize)


def rows_from_bytes(data: bytes, dtype: np.dtype[Any]) -> NDArray:
    """The rows of messages that were each :func:`row_head` of ``dtype`` and one row, given as
    those rows' bytes joined: one read-only array of ``dtype`` over ``data``, after the checks
    ``unpack`` gives every array it decodes (text code points; raises DecodeError)."""
    array: NDArray = np.frombuffer(data, dtype=dtype)
    check_text(array, Encoding.MSGPACK_NUMPY)
    return array
