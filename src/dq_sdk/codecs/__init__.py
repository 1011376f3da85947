"""Codecs: a value to the bytes of a Kafka message and back, one module per wire format.

``encode(value, encoding)`` and ``decode(data, encoding)`` dispatch through one registry
(``get_codec``) to one :class:`Codec` per :class:`Encoding`. Byte-level formats, bounds and
the no-copy rules are in ``docs/encodings.md``.
"""

from ._base import Buffer, Codec
from ._encoding import Encoding
from ._limits import DecodeLimits
from ._registry import decode, encode, get_codec

__all__ = [
    "Buffer",
    "Codec",
    "DecodeLimits",
    "Encoding",
    "decode",
    "encode",
    "get_codec",
]
