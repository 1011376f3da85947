"""numpy helpers shared by the array codecs: what may travel, bounds, zero-copy views."""

from __future__ import annotations

from typing import Any, TypeAlias

import numpy as np

from .._exceptions import DecodeError, EncodeError
from ._encoding import Encoding
from ._limits import DecodeLimits

__all__ = [
    "NDArray",
    "check_carriable",
    "check_readable",
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
    if nbytes != available:
        raise DecodeError(
            f"{name} decoding: array of shape {tuple(shape)} and dtype {dtype} needs "
            f"{nbytes} bytes of data, the message carries {available}"
        )
    return tuple(shape)


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
    if _bad_text(array):
        # numpy would accept it, and fail later with SystemError when a str is made from it.
        raise DecodeError(
            f"{encoding.value} decoding: a text (dtype 'U') value holds a code point over U+10FFFF"
        )
    return array


def _bad_text(array: NDArray) -> bool:
    """Whether any 'U' value (also inside records) holds an impossible code point."""
    dtype = array.dtype
    if dtype.names:
        return any(_bad_text(array[name]) for name in dtype.names)
    if dtype.kind != "U" or array.size == 0 or dtype.itemsize == 0:
        return False
    # The same memory as 32-bit code units: same itemsize, so any layout can take the view.
    order = "=" if dtype.byteorder == "|" else dtype.byteorder
    codes = array.view(np.dtype((f"{order}u4", (dtype.itemsize // 4,))))
    return bool(codes.max() > 0x10FFFF)


def data_buffer(array: NDArray) -> memoryview | bytes:
    """The array's bytes in C order: a view when C-contiguous, else one copy."""
    if array.flags.c_contiguous and array.dtype.itemsize > 0:
        # memoryview(array) fails for datetime64/timedelta64 ("cannot include dtype 'M' in a
        # buffer"); a uint8 view of the same memory works for every fixed-size dtype.
        flat = np.asarray(array).reshape(-1)
        return flat.view(np.uint8).data
    return array.tobytes()
