"""A fast path for msgpack_numpy messages that are one array, the commonest message there is.

Such a message is an array map followed by the array's bytes, and everything before the bytes
(the map's keys, dtype description, shape and the ``bin`` header) is fixed by the dtype and
shape. A stream repeats a few of these: a one-antenna pointing row is 458 bytes, of which 322
are that head. Once a message has been decoded the slow way and found to be one array whose
head is exactly what dq-sdk's writer (and msgpack-numpy) produce for its dtype and shape, the
head is remembered with the limits it passed, keyed by the message's length. A later message
of that length that starts with the same bytes, decoded under the same limits, decodes to the
same dtype and shape by construction, so it becomes a read-only view of its data straight
away, through the same value checks (impossible code points) as every array. A one-antenna
row then decodes in about 4 us instead of 15.

Only read-only buffers (``bytes``, as every Kafka client delivers) take this path: a view of a
``bytearray`` would change when its owner changes the buffer, and small messages in writable
buffers keep being copied.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .._arrays import NDArray, readonly_view
from .._encoding import Encoding
from .._limits import DecodeLimits

__all__ = ["OneArrayLayouts"]

# A stream repeats a few layouts; anything more varied is not worth remembering.
_MAX_LENGTHS = 64
# Different layouts of one message length (say float64 and int64 arrays of one shape).
_MAX_PER_LENGTH = 4


@dataclass(frozen=True, slots=True)
class _Layout:
    head: bytes
    dtype: np.dtype[Any]
    shape: tuple[int, ...]
    # Every bound the slow path applied to the whole message (container lengths and msgpack
    # str/bin sizes of the head, the array's shape and size): a call with other limits, even
    # equal ones in another object, goes the slow way and is remembered with its own.
    limits: DecodeLimits


class OneArrayLayouts:
    """Heads of one-array messages seen before, by message length (see the module doc)."""

    def __init__(self) -> None:
        self._by_length: dict[int, list[_Layout]] = {}

    def read(self, view: memoryview, limits: DecodeLimits, encoding: Encoding) -> NDArray | None:
        """The array ``view`` holds if it has a known head, else None (decode it the slow way)."""
        layouts = self._by_length.get(len(view))
        if layouts is None or not view.readonly:
            return None
        for layout in layouts:
            # tobytes() and a bytes comparison: 0.1 us; comparing the memoryview: 0.6 us.
            if layout.limits is limits and view[: len(layout.head)].tobytes() == layout.head:
                start = len(layout.head)
                return readonly_view(view, layout.dtype, layout.shape, encoding, offset=start)
        return None

    def learn(
        self, view: memoryview, array: NDArray, head: bytes, limits: DecodeLimits
    ) -> NDArray | None:
        """Remember the layout of ``view``, which decoded to ``array`` under ``limits``, if it
        is one array written with ``head`` (the canonical head for that array's dtype and
        shape) in a read-only buffer; return the array as a view of ``view`` then, else None.
        Only canonical heads are kept, so a remembered head can never decode differently from
        the slow path."""
        if not view.readonly or len(head) + array.nbytes != len(view):
            return None
        if view[: len(head)] != head:
            return None
        layouts = self._by_length.get(len(view))
        if layouts is None:
            if len(self._by_length) >= _MAX_LENGTHS:
                self._by_length.clear()
            layouts = self._by_length[len(view)] = []
        if len(layouts) >= _MAX_PER_LENGTH:
            layouts.pop(0)
        layouts.append(_Layout(head, array.dtype, array.shape, limits))
        view_array = np.ndarray(array.shape, array.dtype, buffer=view, offset=len(head))
        view_array.flags.writeable = False
        return view_array
