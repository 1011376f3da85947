"""What every codec is, and the input checks they share."""

from __future__ import annotations

from typing import Protocol, TypeAlias

from .._exceptions import DecodeError
from ._encoding import Encoding
from ._limits import DecodeLimits

__all__ = ["DEFAULT_LIMITS", "Buffer", "Codec", "as_view", "child_path", "describe"]

#: What ``decode`` accepts: the received bytes, never copied by the array codecs.
Buffer: TypeAlias = bytes | bytearray | memoryview

DEFAULT_LIMITS = DecodeLimits()


class Codec(Protocol):
    """One wire format: ``encode`` a value to bytes, ``decode`` bytes to a value.

    There is one codec object per :class:`Encoding`; :func:`dq_sdk.codecs.get_codec` finds it.
    Errors are always :class:`~dq_sdk.EncodeError` / :class:`~dq_sdk.DecodeError`.
    """

    @property
    def encoding(self) -> Encoding:
        """The encoding this codec implements."""
        ...

    def encode(self, value: object) -> bytes:
        """The bytes of ``value``; :class:`~dq_sdk.EncodeError` if it cannot be carried."""
        ...

    def decode(self, data: Buffer, limits: DecodeLimits = DEFAULT_LIMITS) -> object:
        """The value of ``data``; :class:`~dq_sdk.DecodeError` if it is not valid."""
        ...


def as_view(data: object, encoding: Encoding) -> memoryview:
    """``data`` as a flat unsigned-byte view, without copying it."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise DecodeError(
            f"{encoding.value} decoding takes bytes, bytearray or memoryview, got {describe(data)}"
        )
    view = memoryview(data)
    if not view.c_contiguous:
        raise DecodeError(f"{encoding.value} decoding needs a contiguous buffer")
    # A memoryview over e.g. an int32 array indexes by element; cast so offsets are bytes.
    return view if view.format == "B" and view.ndim == 1 else view.cast("B")


def describe(value: object) -> str:
    """A short name for the type of ``value``, for error messages."""
    kind = type(value)
    if kind.__module__ == "builtins":
        return kind.__qualname__
    return f"{kind.__module__}.{kind.__qualname__}"


def child_path(path: str, key: object) -> str:
    """The path of ``key`` under ``path``, as error messages show it: ``data[2].power``."""
    if isinstance(key, str) and key.isidentifier():
        return f"{path}.{key}" if path else key
    return f"{path}[{key!r}]"
