"""numpy helpers shared by the array codecs: what may travel, bounds, zero-copy views."""

from __future__ import annotations

import functools
import math
import sys
from typing import Any, TypeAlias

import numpy as np

from .._exceptions import DecodeError, EncodeError
from ._encoding import Encoding
from ._limits import DecodeLimits

__all__ = [
    "NDArray",
    "check_carriable",
    "check_readable",
    "check_text",
    "checked_shape",
    "data_buffer",
    "readonly_view",
]

NDArray: TypeAlias = np.ndarray[Any, np.dtype[Any]]


def _refusal(dtype: np.dtype[Any]) -> str | None:
    if dtype.hasobject:
        # Object arrays only travel as pickles, and unpickling runs arbitrary code.
        return f"dtype {dtype} holds Python objects, which are never pickled or unpickled"
    if dtype.kind == "T":
        # numpy 2 StringDType keeps pointers in the array buffer, not the text.
        return f"dtype {dtype} (StringDType) has no fixed-size byte layout; use a 'U' dtype"
    return None


def check_carriable(dtype: np.dtype[Any], encoding: Encoding, where: str) -> None:
    """Raise :class:`EncodeError` if arrays of ``dtype`` cannot be written."""
    reason = _refusal(dtype)
    if reason is not None:
        raise EncodeError(f"{encoding.value} encoding refuses the array at {where}: {reason}")


def check_readable(dtype: np.dtype[Any], encoding: Encoding) -> None:
    """Raise :class:`DecodeError` if received bytes claim a dtype we never build."""
    reason = _refusal(dtype)
    if reason is not None:
        raise DecodeError(f"{encoding.value} decoding refuses the array: {reason}")


def checked_shape(
    shape: object,
    dtype: np.dtype[Any],
    available: int,
    limits: DecodeLimits,
    encoding: Encoding,
) -> tuple[int, ...]:
    """Validate a received shape against the limits and the bytes that came with it.

    Runs before any array exists, so a header that claims 100 GB is refused without
    allocating anything. Python ints cannot overflow, so a product of huge dimensions is
    caught too.
    """
    name = encoding.value
    if not isinstance(shape, tuple | list) or not all(type(n) is int and n >= 0 for n in shape):
        raise DecodeError(f"{name} decoding: shape {shape!r} is not a list of ints >= 0")
    if len(shape) > limits.max_ndim:
        raise DecodeError(
            f"{name} decoding: array has {len(shape)} dimensions, over the limit "
            f"DecodeLimits.max_ndim={limits.max_ndim}"
        )
    count = span = 1
    for n in shape:
        count *= n
        # numpy multiplies out the non-zero dimensions even for an empty array.
        span *= max(n, 1)
    nbytes = count * dtype.itemsize
    if span * max(dtype.itemsize, 1) > limits.max_array_bytes:
        raise DecodeError(
            f"{name} decoding: array of shape {tuple(shape)} and dtype {dtype} is over the "
            f"limit DecodeLimits.max_array_bytes={limits.max_array_bytes} (it claims "
            f"{span} elements of {dtype.itemsize} bytes)"
        )
    # Elements of itemsize 0 need no data, so the check above lets 2**31 of them through in
    # a message of under 100 bytes; they get their own, much smaller bound.
    empty = span * _empty_elements(dtype)
    if empty > limits.max_empty_elements:
        raise DecodeError(
            f"{name} decoding: array of shape {tuple(shape)} and dtype {dtype} is over the "
            f"limit DecodeLimits.max_empty_elements={limits.max_empty_elements} (it claims "
            f"{empty} elements of itemsize 0, which no data backs)"
        )
    if nbytes != available:
        raise DecodeError(
            f"{name} decoding: array of shape {tuple(shape)} and dtype {dtype} needs "
            f"{nbytes} bytes of data, the message carries {available}"
        )
    return tuple(shape)


@functools.lru_cache(maxsize=256)
def _empty_elements(dtype: np.dtype[Any]) -> int:
    """Elements of itemsize 0 that one element of ``dtype`` amounts to, in the largest array
    it shows: 1 if its own itemsize is 0, and for a record, what its biggest field shows. A
    record may hold them with an itemsize that is not 0: a field ``("a", [], (10**9,))``
    beside a ``u1`` is 1 byte a row, and ``array["a"]`` has 10**9 empty records a row.
    Subarray shapes count as array shapes do (their non-zero dimensions multiplied).
    Cached: walking a record's fields costs microseconds, and a stream repeats its dtypes."""
    count = 1 if dtype.itemsize == 0 else 0
    if dtype.subdtype is not None:
        base, shape = dtype.subdtype
        count = max(count, math.prod(max(n, 1) for n in shape) * _empty_elements(base))
    for name in dtype.names or ():
        count = max(count, _empty_elements(dtype[name]))
    return count


def readonly_view(
    buffer: bytes | memoryview,
    dtype: np.dtype[Any],
    shape: tuple[int, ...],
    encoding: Encoding,
    *,
    offset: int = 0,
    fortran: bool = False,
) -> NDArray:
    """An array over ``buffer`` itself (no copy), read-only; call after :func:`checked_shape`.

    Read-only always, also over a writable ``bytearray``: the array shares the caller's
    buffer, and a decoded message should not change under its reader.
    """
    try:
        array: NDArray = np.ndarray(
            shape, dtype=dtype, buffer=buffer, offset=offset, order="F" if fortran else "C"
        )
    except (TypeError, ValueError) as exc:  # not expected after checked_shape; never bare
        raise DecodeError(f"{encoding.value} decoding: {exc}") from exc
    array.flags.writeable = False
    check_text(array, encoding)
    return array


def check_text(array: NDArray, encoding: Encoding) -> None:
    """Refuse an array whose text (dtype 'U') values hold a code point over U+10FFFF: numpy
    accepts them, and fails later with SystemError when a str is made from one."""
    if _bad_text(array):
        raise DecodeError(
            f"{encoding.value} decoding: a text (dtype 'U') value holds a code point over U+10FFFF"
        )


def _bad_text(array: NDArray) -> bool:
    """Whether any 'U' value (also inside records) holds an impossible code point."""
    dtype = array.dtype
    if array.size == 0 or dtype.itemsize == 0:
        return False
    if dtype.names:
        fields = _text_fields(dtype)
        if fields is None:  # subarrays of records: look field by field
            return any(_bad_text(array[name]) for name in dtype.names)
        if not fields:
            return False
        if array.size * len(fields) <= _BYTEWISE_FIELDS and array.flags.c_contiguous:
            # A row or two (a pointing row's name): slices of one small copy, no numpy calls.
            data, size = array.tobytes(), dtype.itemsize
            for row_start in range(0, size * array.size, size):
                for offset, big, units in fields:
                    start = row_start + offset
                    if _bad_units(data[start : start + 4 * units], big):
                        return True
            return False
        # Every text field at once, as 32-bit code units at its offset: one view, no copies.
        view = array.view(_text_codes(dtype))
        return any(_over_max(view[f"text{i}"]) for i in range(len(fields)))
    if dtype.kind != "U":
        return False
    # The same memory as 32-bit code units: same itemsize, so any layout can take the view.
    return _over_max(array.view(np.dtype((f"{_order(dtype)}u4", (dtype.itemsize // 4,)))))


# Below this many bytes, code units are checked as bytes: a numpy reduction costs about 1.5 us
# whatever its size, bytes methods a few hundred ns for a pointing row's name.
_BYTEWISE_MAX = 4096
# Up to this many text values (rows x text fields), records are checked by slicing bytes.
_BYTEWISE_FIELDS = 4
# The bytes a code unit's second-highest byte may hold: 0x10FFFF is the last code point.
_PLANE_BYTES = bytes(range(0x11))
_BIG_ENDIAN = sys.byteorder == "big"


def _over_max(codes: NDArray) -> bool:
    """Whether any of these 32-bit code units is over U+10FFFF."""
    if codes.nbytes > _BYTEWISE_MAX:
        return bool(codes.max() > 0x10FFFF)
    order = codes.dtype.byteorder
    return _bad_units(codes.tobytes(), order == ">" or (order in "=|" and _BIG_ENDIAN))


def _bad_units(data: bytes, big: bool) -> bool:
    """Whether any 32-bit code unit in ``data`` (big- or little-endian) is over U+10FFFF:
    exactly when its highest byte is not 0 or the next one is over 0x10."""
    high, plane = (data[0::4], data[1::4]) if big else (data[3::4], data[2::4])
    return bool(high.strip(b"\0")) or bool(plane.translate(None, _PLANE_BYTES))


def _order(dtype: np.dtype[Any]) -> str:
    return "=" if dtype.byteorder == "|" else dtype.byteorder


@functools.lru_cache(maxsize=256)
def _text_fields(dtype: np.dtype[Any]) -> tuple[tuple[int, bool, int], ...] | None:
    """For a record dtype: ``(offset, big-endian, code units)`` of each text field (also in
    nested records), or None when a subarray of records holds text."""
    fields: list[tuple[int, str, int]] = []
    if not _collect_text(dtype, 0, fields):
        return None
    return tuple(
        (offset, order == ">" or (order == "=" and _BIG_ENDIAN), units)
        for offset, order, units in fields
    )


@functools.lru_cache(maxsize=256)
def _text_codes(dtype: np.dtype[Any]) -> np.dtype[Any]:
    """For a record dtype with text fields: a dtype of the same size whose fields
    ``text0, text1...`` are those fields as 32-bit code units. Checking a pointing array's
    names this way costs about 2 us; field by field, recursively, it cost 5."""
    fields = _text_fields(dtype) or ()
    return np.dtype(
        {
            "names": [f"text{i}" for i in range(len(fields))],
            "formats": [(f"{'>' if big else '<'}u4", (units,)) for _, big, units in fields],
            "offsets": [offset for offset, _, _ in fields],
            "itemsize": dtype.itemsize,
        }
    )


def _collect_text(dtype: np.dtype[Any], offset: int, out: list[tuple[int, str, int]]) -> bool:
    """Append ``(offset, byte order, code units)`` of every text field; False if a subarray
    of records holds text (no single view describes it)."""
    if dtype.names:
        for name in dtype.names:
            field, field_offset = dtype.fields[name][:2]  # type: ignore[index]
            if not _collect_text(field, offset + field_offset, out):
                return False
        return True
    base = dtype.subdtype[0] if dtype.subdtype is not None else dtype
    if base.names:
        return _text_fields(base) == ()  # records in a subarray: only without text
    if base.kind == "U" and dtype.itemsize:
        out.append((offset, _order(base), dtype.itemsize // 4))
    return True


def data_buffer(array: NDArray) -> memoryview | bytes:
    """The array's bytes in C order: a view when C-contiguous, else one copy."""
    if array.flags.c_contiguous and array.dtype.itemsize > 0:
        # memoryview(array) fails for datetime64/timedelta64 ("cannot include dtype 'M' in a
        # buffer"); a uint8 view of the same memory works for every fixed-size dtype.
        flat = np.asarray(array).reshape(-1)
        return flat.view(np.uint8).data
    return array.tobytes()
