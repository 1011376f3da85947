"""``npy``: the NumPy ``.npy`` format, byte-identical to ``numpy.save``, read without pickle.

Writing builds the header exactly as ``numpy.lib.format`` does (its header writer is private)
and appends the array's own memory, so a contiguous array costs one copy, where
``numpy.save`` to a ``BytesIO`` and ``getvalue()`` would cost two.

Reading parses the header (``ast.literal_eval`` of at most ``DecodeLimits.max_npy_header``
characters, by default numpy's own safety bound of 10000), refuses object dtypes
(``allow_pickle=False``), checks the claimed size against the bytes received and
:class:`DecodeLimits` before anything is built, and returns a read-only view of the received
buffer.
"""

from __future__ import annotations

import ast
import struct
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.lib import format as npformat

from .._exceptions import DecodeError, EncodeError
from ._arrays import NDArray, check_carriable, check_readable, checked_shape, readonly_view
from ._base import DEFAULT_LIMITS, Buffer, as_view, describe
from ._encoding import Encoding
from ._limits import DecodeLimits

__all__ = ["NpyCodec"]

# version -> (struct of the header length, text encoding of the header), as numpy defines.
_HEADER_INFO = {(1, 0): ("<H", "latin1"), (2, 0): ("<I", "latin1"), (3, 0): ("<I", "utf8")}
_KEYS = {"descr", "fortran_order", "shape"}


def _header(array: NDArray) -> bytes:
    """The magic, length and padded header ``numpy.save`` writes for ``array``."""
    d = npformat.header_data_from_array_1_0(array)
    text = "{" + "".join(f"'{key}': {value!r}, " for key, value in sorted(d.items())) + "}"
    shape = d["shape"]
    if shape:  # spare room numpy leaves so the growth axis can be rewritten in place
        grow = shape[-1 if d["fortran_order"] else 0]
        text += " " * (npformat.GROWTH_AXIS_MAX_DIGITS - len(repr(grow)))
    # The oldest version that can hold the header, as numpy chooses it.
    for version, (fmt, codec) in _HEADER_INFO.items():
        try:
            raw = text.encode(codec)
        except UnicodeEncodeError:
            continue  # non-latin1 field names need 3.0
        stored = len(raw) + 1  # + the final newline
        pad = npformat.ARRAY_ALIGN - (
            (npformat.MAGIC_LEN + struct.calcsize(fmt) + stored) % npformat.ARRAY_ALIGN
        )
        try:
            prefix = npformat.magic(*version) + struct.pack(fmt, stored + pad)
        except struct.error:
            continue  # over 64 KiB: needs a 4-byte length
        return prefix + raw + b" " * pad + b"\n"
    raise EncodeError("npy encoding: the array header is too large for any npy version")


class NpyCodec:
    """The ``npy`` encoding (see ``docs/encodings.md``)."""

    @property
    def encoding(self) -> Encoding:
        return Encoding.NPY

    def encode(self, value: object) -> bytes:
        if isinstance(value, Mapping):
            raise EncodeError(
                f"npy encoding: a {type(value).__name__} cannot be npy, which carries one numpy "
                "array; send a dict as json or msgpack_numpy"
            )
        try:
            array: NDArray = np.asarray(value)
        except (TypeError, ValueError) as exc:  # e.g. ragged nested lists
            raise EncodeError(f"npy encoding: {describe(value)} is not an array: {exc}") from exc
        check_carriable(array.dtype, Encoding.NPY, "<root>")
        header = _header(array)
        if array.flags.f_contiguous and not array.flags.c_contiguous:
            # Fortran order on the wire too (the header says so): the transpose is C-contiguous.
            array = array.T
        if array.flags.c_contiguous and array.dtype.itemsize:
            data: bytes | memoryview = array.reshape(-1).view(np.uint8).data
        else:
            data = array.tobytes()
        return b"".join((header, data))

    def decode(self, data: Buffer, limits: DecodeLimits = DEFAULT_LIMITS) -> NDArray:
        view = as_view(data, Encoding.NPY)
        shape, fortran, dtype, offset = _read_header(view, limits.max_npy_header)
        shape = checked_shape(shape, dtype, len(view) - offset, limits, Encoding.NPY)
        return readonly_view(view, dtype, shape, Encoding.NPY, offset=offset, fortran=fortran)


def _read_header(
    view: memoryview, max_chars: int
) -> tuple[tuple[int, ...], bool, np.dtype[Any], int]:
    """Shape, Fortran order, dtype and data offset; DecodeError for anything else."""
    if len(view) < npformat.MAGIC_LEN or bytes(view[:6]) != npformat.MAGIC_PREFIX:
        raise DecodeError("npy decoding: the data does not start with the npy magic b'\\x93NUMPY'")
    version = (view[6], view[7])
    if version not in _HEADER_INFO:
        raise DecodeError(f"npy decoding: unknown npy format version {version[0]}.{version[1]}")
    fmt, codec = _HEADER_INFO[version]
    start = npformat.MAGIC_LEN + struct.calcsize(fmt)
    if len(view) < start:
        raise DecodeError("npy decoding: truncated header")
    (length,) = struct.unpack_from(fmt, view, npformat.MAGIC_LEN)
    if length > 4 * max_chars:  # utf8 needs at most 4 bytes a character
        raise DecodeError(
            f"npy decoding: header of {length} bytes is over "
            f"DecodeLimits.max_npy_header={max_chars} characters"
        )
    end = start + length
    if len(view) < end:
        raise DecodeError(f"npy decoding: truncated header ({length} bytes announced)")
    try:
        text = str(view[start:end], codec)
        if len(text) > max_chars:
            raise ValueError(
                f"header of {len(text)} characters is over DecodeLimits.max_npy_header={max_chars}"
            )
        header = _literal(text)
        if not isinstance(header, dict) or header.keys() != _KEYS:
            raise ValueError(f"header is not a dict with keys {sorted(_KEYS)}: {text.strip()!r}")
        shape, fortran = header["shape"], header["fortran_order"]
        if not isinstance(shape, tuple) or not isinstance(fortran, bool):
            raise ValueError(f"bad shape or fortran_order in {text.strip()!r}")
        dtype = npformat.descr_to_dtype(header["descr"])
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError) as exc:
        raise DecodeError(f"npy decoding: invalid header: {exc}") from exc
    except DeprecationWarning as exc:  # e.g. the 'a' dtype alias, when warnings are errors
        raise DecodeError(f"npy decoding: deprecated dtype in header: {exc}") from exc
    check_readable(dtype, Encoding.NPY)
    return shape, fortran, dtype, end


def _literal(text: str) -> object:
    """``ast.literal_eval``, refusing invalid escapes (``"\\e"``) with a SyntaxError instead of
    printing a DeprecationWarning for every such message; numpy never writes one. Warnings
    become errors only for headers with a backslash, which numpy writes only in odd field
    names, as changing the warning filters is not thread-safe."""
    if "\\" not in text:
        return ast.literal_eval(text)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return ast.literal_eval(text)
