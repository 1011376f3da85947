"""The ``Encoding`` enum: the six wire formats, named as SDP flow configurations name them."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["Encoding"]


class Encoding(StrEnum):
    """How a value becomes the bytes of a Kafka message.

    A ``str`` enum, so ``Encoding("msgpack_numpy") is Encoding.MSGPACK_NUMPY`` and a member
    compares equal to its value. The byte-level formats are in ``docs/encodings.md``.
    """

    UTF8 = "utf-8"
    ASCII = "ascii"
    MSGPACK_NUMPY = "msgpack_numpy"
    XARRAY = "xarray"
    NPY = "npy"
    JSON = "json"
