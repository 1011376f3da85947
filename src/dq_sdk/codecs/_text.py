"""``utf-8`` and ``ascii``: ``str`` as bytes, strict both ways (nothing is ever replaced)."""

from __future__ import annotations

from .._exceptions import DecodeError, EncodeError
from ._base import DEFAULT_LIMITS, Buffer, as_view, describe
from ._encoding import Encoding
from ._limits import DecodeLimits

__all__ = ["TextCodec"]


class TextCodec:
    """``str.encode(codec)`` / ``bytes.decode(codec)`` with ``errors="strict"``."""

    def __init__(self, encoding: Encoding) -> None:
        if encoding not in (Encoding.UTF8, Encoding.ASCII):
            raise ValueError(f"TextCodec is for utf-8 and ascii, not {encoding.value}")
        self._encoding = encoding

    @property
    def encoding(self) -> Encoding:
        return self._encoding

    def encode(self, value: object) -> bytes:
        name = self._encoding.value
        if not isinstance(value, str):
            hint = " (send bytes with no encoding)" if isinstance(value, bytes) else ""
            raise EncodeError(f"{name} encoding takes str, got {describe(value)}{hint}")
        try:
            return value.encode(name)
        except UnicodeEncodeError as exc:
            char = value[exc.start]
            advice = "; use Encoding.UTF8 for any text" if self._encoding is Encoding.ASCII else ""
            raise EncodeError(
                f"{name} encoding cannot carry {char!r} (U+{ord(char):04X}) at index "
                f"{exc.start}{advice}"
            ) from exc

    def decode(self, data: Buffer, limits: DecodeLimits = DEFAULT_LIMITS) -> str:
        # Text costs a copy whatever we do (str owns its memory); nothing to bound beyond it.
        name = self._encoding.value
        view = as_view(data, self._encoding)
        try:
            return str(view, name)
        except UnicodeDecodeError as exc:
            raise DecodeError(
                f"{name} decoding: byte 0x{view[exc.start]:02x} at offset {exc.start} is not "
                f"valid {name} ({exc.reason})"
            ) from exc
