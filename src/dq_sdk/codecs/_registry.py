"""One codec object per encoding, and the one place ``encode``/``decode`` dispatch."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Literal, overload

from .._exceptions import CodecError, DecodeError, EncodeError
from ._arrays import NDArray
from ._base import Buffer, Codec
from ._encoding import Encoding
from ._json import JsonCodec
from ._limits import DecodeLimits
from ._msgpack_numpy import MsgpackNumpyCodec
from ._npy import NpyCodec
from ._text import TextCodec
from ._xarray import XarrayCodec

if TYPE_CHECKING:
    import xarray

__all__ = ["CODECS", "decode", "encode", "get_codec"]

#: The codec of each encoding. Read-only: the encodings are fixed by the wire contract.
CODECS: Mapping[Encoding, Codec] = MappingProxyType(
    {
        Encoding.UTF8: TextCodec(Encoding.UTF8),
        Encoding.ASCII: TextCodec(Encoding.ASCII),
        Encoding.MSGPACK_NUMPY: MsgpackNumpyCodec(),
        Encoding.XARRAY: XarrayCodec(),
        Encoding.NPY: NpyCodec(),
        Encoding.JSON: JsonCodec(),
    }
)


def get_codec(encoding: Encoding | str) -> Codec:
    """The codec for ``encoding`` (an :class:`Encoding` or its value, e.g. ``"npy"``).

    Raises :class:`~dq_sdk.CodecError` naming the known encodings for anything else.
    """
    try:
        return CODECS[Encoding(encoding)]
    except ValueError:
        known = ", ".join(repr(member.value) for member in Encoding)
        raise CodecError(f"unknown encoding {encoding!r}; expected one of {known}") from None


def encode(value: object, encoding: Encoding | str) -> bytes:
    """The bytes of ``value`` in ``encoding``; :class:`~dq_sdk.EncodeError` if it cannot be.

    >>> encode("hi", "ascii")
    b'hi'
    """
    try:
        codec = get_codec(encoding)
    except CodecError as exc:
        raise EncodeError(exc.message) from None
    return codec.encode(value)


@overload
def decode(
    data: Buffer,
    encoding: Literal[Encoding.UTF8, Encoding.ASCII],
    *,
    limits: DecodeLimits | None = None,
) -> str: ...
@overload
def decode(
    data: Buffer, encoding: Literal[Encoding.NPY], *, limits: DecodeLimits | None = None
) -> NDArray: ...
@overload
def decode(
    data: Buffer, encoding: Literal[Encoding.XARRAY], *, limits: DecodeLimits | None = None
) -> xarray.Dataset: ...
@overload
def decode(
    data: Buffer, encoding: Encoding | str, *, limits: DecodeLimits | None = None
) -> object: ...
def decode(data: Buffer, encoding: Encoding | str, *, limits: DecodeLimits | None = None) -> object:
    """The value in ``data`` (``bytes``, ``bytearray`` or ``memoryview``).

    Decoded arrays are read-only. They are views of ``data``, not copies, for ``npy``,
    ``xarray`` and ``msgpack_numpy`` messages of 256 KiB or more; smaller ``msgpack_numpy``
    messages are read by msgpack's C unpacker and their small arrays copied. Every
    claimed size is checked against ``limits`` (default ``DecodeLimits()``) before anything
    is allocated. A literal :class:`Encoding` member gives the precise type: ``str`` for
    ``UTF8``/``ASCII``, an ndarray for ``NPY``, an ``xarray.Dataset`` for ``XARRAY``.
    Raises :class:`~dq_sdk.DecodeError` for bytes that do not decode.
    """
    try:
        codec = get_codec(encoding)
    except CodecError as exc:
        raise DecodeError(exc.message) from None
    if limits is None:
        return codec.decode(data)
    return codec.decode(data, limits)
