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
    count = 1
    for n in shape:
        count *= n
    nbytes = count * dtype.itemsize
    # count is bounded too: an itemsize-0 dtype would otherwise let any shape through.
    if nbytes > limits.max_array_bytes or count > limits.max_array_bytes:
        raise DecodeError(
            f"{name} decoding: array of shape {tuple(shape)} and dtype {dtype} claims "
            f"{nbytes} bytes, over the limit DecodeLimits.max_array_bytes="
            f"{limits.max_array_bytes}"
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
    *,
    offset: int = 0,
    fortran: bool = False,
) -> NDArray:
    """An array over ``buffer`` itself (no copy), read-only.

    Read-only always, also over a writable ``bytearray``: the array shares the caller's
    buffer, and a decoded message should not change under its reader.
    """
    array: NDArray = np.ndarray(
        shape, dtype=dtype, buffer=buffer, offset=offset, order="F" if fortran else "C"
    )
    array.flags.writeable = False
    return array


def data_buffer(array: NDArray) -> memoryview | bytes:
    """The array's bytes in C order: a view when C-contiguous, else one copy."""
    if array.flags.c_contiguous and array.dtype.itemsize > 0:
        # memoryview(array) fails for datetime64/timedelta64 ("cannot include dtype 'M' in a
        # buffer"); a uint8 view of the same memory works for every fixed-size dtype.
        flat = np.asarray(array).reshape(-1)
        return flat.view(np.uint8).data
    return array.tobytes()
