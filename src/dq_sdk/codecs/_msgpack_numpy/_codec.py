"""The ``msgpack_numpy`` codec: the registry's entry for this package's writer and reader."""

from __future__ import annotations

from .._base import DEFAULT_LIMITS, Buffer, as_view
from .._encoding import Encoding
from .._limits import DecodeLimits
from ._reader import unpack
from ._writer import pack

__all__ = ["MsgpackNumpyCodec"]


class MsgpackNumpyCodec:
    """The ``msgpack_numpy`` encoding (see ``docs/encodings.md``)."""

    @property
    def encoding(self) -> Encoding:
        return Encoding.MSGPACK_NUMPY

    def encode(self, value: object) -> bytes:
        return pack(value)

    def decode(self, data: Buffer, limits: DecodeLimits = DEFAULT_LIMITS) -> object:
        return unpack(as_view(data, Encoding.MSGPACK_NUMPY), limits)
