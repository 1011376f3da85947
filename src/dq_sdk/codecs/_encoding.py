"""The ``Encoding`` enum: the six wire formats, named as SDP flow configurations name them."""

from __future__ import annotations

from enum import StrEnum

from .._exceptions import InvalidArgumentError

__all__ = ["Encoding"]

# Spellings people write for the same format: Python's codec names for text, either separator.
_ALIASES = {
    "utf8": "utf-8",
    "utf_8": "utf-8",
    "us-ascii": "ascii",
    "msgpack-numpy": "msgpack_numpy",
}


class Encoding(StrEnum):
    """How a value becomes the bytes of a Kafka message.

    A ``str`` enum, so ``Encoding("msgpack_numpy") is Encoding.MSGPACK_NUMPY`` and a member
    compares equal to its value. The values are the SDP flow ``format`` names (``utf-8``,
    ``ascii``, ``msgpack_numpy``, ``xarray``, ``npy``, ``json``); any case is accepted, and so
    are ``utf8`` / ``utf_8``, ``us-ascii`` and ``msgpack-numpy``. Any other name is an
    :class:`~dq_sdk.InvalidArgumentError` (a ``ValueError``) listing the valid ones. The
    byte-level formats are in ``docs/encodings.md``.
    """

    UTF8 = "utf-8"
    ASCII = "ascii"
    MSGPACK_NUMPY = "msgpack_numpy"
    XARRAY = "xarray"
    NPY = "npy"
    JSON = "json"

    @classmethod
    def _missing_(cls, value: object) -> Encoding:
        if isinstance(value, str):
            name = value.strip().lower()
            name = _ALIASES.get(name, name)
            for member in cls:
                if member.value == name:
                    return member
        known = ", ".join(repr(member.value) for member in cls)
        raise InvalidArgumentError(
            f"unknown encoding {value!r}: expected one of {known} (any case; 'utf8' is 'utf-8')"
        )
