"""A fast path for msgpack_numpy messages that are one array, the commonest message there is.

Such a message is an array map followed by the array's bytes, and everything before the bytes
(the map's keys, dtype description, shape and the ``bin`` header) is fixed by the dtype and
shape. A stream repeats a few of these: a one-antenna pointing row is 458 bytes, of which 322
are that head. Once a message has been decoded the slow way and found to be one array whose
head is exactly what dq-sdk's writer (and msgpack-numpy) produce for its dtype and shape, the
head is remembered, keyed by the message's length. A later message of that length that starts
with the same bytes decodes to the same dtype and shape by construction, so it becomes a
read-only view of its data straight away, through the same value checks (impossible code
points) and limits as every array. A one-antenna row then decodes in about 2 us instead of 15.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .._exceptions import DecodeError
from ._arrays import NDArray, checked_shape, readonly_view
from ._encoding import Encoding
from ._limits import DecodeLimits

__all__ = ["OneArrayLayouts"]

# A stream repeats a few layouts; anything more varied is not worth remembering.
_MAX_LAYOUTS = 64


@dataclass(frozen=True, slots=True)
class _Layout:
    head: bytes
    dtype: np.dtype[Any]
    shape: tuple[int, ...]
    nbytes: int
    limits: DecodeLimits  # the limits it was first checked against

    def within(self, limits: DecodeLimits, encoding: Encoding) -> bool:
        """Whether the array is inside ``limits``: known when they are the limits it was
        learned under (the same object, in practice always), else checked again."""
        if limits is self.limits:
            return True
        try:
            checked_shape(self.shape, self.dtype, self.nbytes, limits, encoding)
        except DecodeError:
            return False  # the slow path raises the error, worded as for any message
        return True


class OneArrayLayouts:
    """Heads of one-array messages seen before, by message length (see the module doc)."""

    def __init__(self) -> None:
        self._by_length: dict[int, _Layout] = {}

    def read(self, view: memoryview, limits: DecodeLimits, encoding: Encoding) -> NDArray | None:
        """The array ``view`` holds if it has a known head, else None (decode it the slow way)."""
        layout = self._by_length.get(len(view))
        if layout is None or not layout.within(limits, encoding):
            return None
        start = len(layout.head)
        # tobytes() and a bytes comparison: 0.1 us; comparing the memoryview itself: 0.6 us.
        if view[:start].tobytes() != layout.head:
            return None
        return readonly_view(view, layout.dtype, layout.shape, encoding, offset=start)

    def learn(
        self, view: memoryview, array: NDArray, head: bytes, limits: DecodeLimits
    ) -> NDArray | None:
        """Remember the layout of ``view``, which decoded to ``array``, if it is one array
        written with ``head`` (the canonical head for that array's dtype and shape); return
        the array as a view of ``view`` then, else None. Only canonical heads are kept, so a
        remembered head can never decode differently from the slow path."""
        if len(head) + array.nbytes != len(view) or view[: len(head)] != head:
            return None
        if len(self._by_length) >= _MAX_LAYOUTS:
            self._by_length.clear()
        self._by_length[len(view)] = _Layout(head, array.dtype, array.shape, array.nbytes, limits)
        view_array = np.ndarray(array.shape, array.dtype, buffer=view, offset=len(head))
        view_array.flags.writeable = False
        return view_array
