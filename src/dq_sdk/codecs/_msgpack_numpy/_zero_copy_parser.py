"""A msgpack parser that leaves ``bin`` payloads inside the received buffer.

msgpack-python copies every ``bin`` into a new ``bytes`` object, so arrays built on them are
not views of the message. This parser walks the message itself and hands ``bin`` values on
as ``memoryview`` slices of the input; the map hook turns array payloads into zero-copy
``ndarray`` views, and every other ``bin`` becomes ``bytes`` as msgpack-python would make it.

It follows msgpack-python's decoding rules (``raw=False``, ``strict_map_key=True``,
``use_list=True``, ``timestamp=0``, at most 1024 nested containers) and delegates ``ext``
values to msgpack-python itself. It is iterative, so deep nesting cannot exhaust the Python
stack. It is slower than msgpack-python per item, so the codec only uses it for messages
that carry ``bin`` values (every ndarray does); others go to msgpack-python directly.
"""

from __future__ import annotations

import struct
from collections.abc import Callable

# msgpack ships no type information (and the project's mypy config does not list it).
import msgpack  # type: ignore[import-untyped]

from ..._exceptions import DecodeError
from .._encoding import Encoding
from .._limits import DecodeLimits

__all__ = ["MAX_DEPTH", "MapHook", "read"]

#: msgpack-python's decoder fails beyond 1024 nested containers; this parser does too.
MAX_DEPTH = 1024

MapHook = Callable[[dict[object, object]], object]

_NUMBERS: dict[int, struct.Struct] = {
    0xCA: struct.Struct(">f"),
    0xCB: struct.Struct(">d"),
    0xCC: struct.Struct(">B"),
    0xCD: struct.Struct(">H"),
    0xCE: struct.Struct(">I"),
    0xCF: struct.Struct(">Q"),
    0xD0: struct.Struct(">b"),
    0xD1: struct.Struct(">h"),
    0xD2: struct.Struct(">i"),
    0xD3: struct.Struct(">q"),
}
_U8, _U16, _U32 = struct.Struct(">B"), struct.Struct(">H"), struct.Struct(">I")
# tag -> struct of the length that follows it
_STR_LEN = {0xD9: _U8, 0xDA: _U16, 0xDB: _U32}
_BIN_LEN = {0xC4: _U8, 0xC5: _U16, 0xC6: _U32}
_EXT_LEN = {0xC7: _U8, 0xC8: _U16, 0xC9: _U32}
_FIXEXT_LEN = {0xD4: 1, 0xD5: 2, 0xD6: 4, 0xD7: 8, 0xD8: 16}
_ARRAY_LEN = {0xDC: _U16, 0xDD: _U32}
_MAP_LEN = {0xDE: _U16, 0xDF: _U32}
_CONSTANTS: dict[int, object] = {0xC0: None, 0xC2: False, 0xC3: True}


class _Frame:
    """A container being filled: ``remaining`` items (keys and values count apart)."""

    __slots__ = ("has_view", "is_map", "items", "remaining")

    def __init__(self, is_map: bool, remaining: int) -> None:
        self.is_map = is_map
        self.remaining = remaining
        self.items: list[object] = []
        self.has_view = False


def read(view: memoryview, limits: DecodeLimits, hook: MapHook, encoding: Encoding) -> object:
    """Decode the one msgpack value that fills ``view`` (a flat byte view)."""
    name = encoding.value
    size = len(view)
    pos = 0
    stack: list[_Frame] = []

    def fail(message: str) -> DecodeError:
        return DecodeError(f"{name} decoding: {message} (at byte {pos})")

    def length(fmt: struct.Struct) -> int:
        if pos + 1 + fmt.size > size:
            raise fail("message is truncated")
        value: int = fmt.unpack_from(view, pos + 1)[0]
        return value

    def payload_end(start: int, count: int, what: str) -> int:
        if count > limits.max_array_bytes:
            raise fail(
                f"{what} of {count} bytes is over DecodeLimits.max_array_bytes="
                f"{limits.max_array_bytes}"
            )
        if start + count > size:
            raise fail(f"message is truncated: {what} of {count} bytes")
        return start + count

    while True:
        if pos >= size:
            raise fail("message is truncated")
        tag = view[pos]
        value: object
        count = -1  # >= 0 when tag opens a container
        is_map = False
        if tag <= 0x7F:
            value, pos = tag, pos + 1
        elif tag >= 0xE0:
            value, pos = tag - 0x100, pos + 1
        elif tag in _NUMBERS:
            fmt = _NUMBERS[tag]
            if pos + 1 + fmt.size > size:
                raise fail("message is truncated")
            value = fmt.unpack_from(view, pos + 1)[0]
            pos += 1 + fmt.size
        elif 0xA0 <= tag <= 0xBF or tag in _STR_LEN:
            if tag <= 0xBF:
                start, n = pos + 1, tag & 0x1F
            else:
                start, n = pos + 1 + _STR_LEN[tag].size, length(_STR_LEN[tag])
            end = payload_end(start, n, "str")
            try:
                value = str(view[start:end], "utf-8")
            except UnicodeDecodeError as exc:
                raise fail(f"str is not valid UTF-8: {exc.reason}") from exc
            pos = end
        elif tag in _BIN_LEN:
            start = pos + 1 + _BIN_LEN[tag].size
            end = payload_end(start, length(_BIN_LEN[tag]), "bin")
            value, pos = view[start:end], end
        elif tag in _CONSTANTS:
            value, pos = _CONSTANTS[tag], pos + 1
        elif 0x90 <= tag <= 0x9F or tag in _ARRAY_LEN:
            count = tag & 0x0F if tag <= 0x9F else length(_ARRAY_LEN[tag])
            pos += 1 if tag <= 0x9F else 1 + _ARRAY_LEN[tag].size
        elif 0x80 <= tag <= 0x8F or tag in _MAP_LEN:
            is_map = True
            count = tag & 0x0F if tag <= 0x8F else length(_MAP_LEN[tag])
            pos += 1 if tag <= 0x8F else 1 + _MAP_LEN[tag].size
        elif tag in _FIXEXT_LEN or tag in _EXT_LEN:
            if tag in _FIXEXT_LEN:
                start, n = pos + 2, _FIXEXT_LEN[tag]
            else:
                start, n = pos + 2 + _EXT_LEN[tag].size, length(_EXT_LEN[tag])
            end = payload_end(start, n, "ext")
            try:  # msgpack-python's own ExtType / Timestamp, exactly as the fast path makes
                value = msgpack.unpackb(view[pos:end], timestamp=0)
            except ValueError as exc:
                raise fail(f"invalid ext value: {exc}") from exc
            pos = end
        else:  # 0xC1 is the one byte msgpack never uses
            raise fail(f"byte 0x{tag:02x} does not start a msgpack value")

        if count >= 0:
            if count > limits.max_container_len:
                raise fail(
                    f"{'map' if is_map else 'array'} of {count} items is over "
                    f"DecodeLimits.max_container_len={limits.max_container_len}"
                )
            items = 2 * count if is_map else count
            # Every item takes at least one byte: refuse impossible counts before looping.
            if items > size - pos:
                raise fail(f"message is truncated: {items} items announced")
            if len(stack) >= MAX_DEPTH:
                raise fail(f"containers nest deeper than {MAX_DEPTH} levels")
            if items:
                stack.append(_Frame(is_map, items))
                continue
            value = hook({}) if is_map else []

        # Attach the finished value to its parents, closing every container it completes.
        while True:
            if not stack:
                if pos != size:
                    raise fail(f"{size - pos} bytes follow the message")
                return bytes(value) if isinstance(value, memoryview) else value
            frame = stack[-1]
            frame.items.append(value)
            frame.has_view = frame.has_view or isinstance(value, memoryview)
            frame.remaining -= 1
            if frame.remaining:
                break
            stack.pop()
            value = _close(frame, hook, fail)


def _close(frame: _Frame, hook: MapHook, fail: Callable[[str], DecodeError]) -> object:
    items = frame.items
    if not frame.is_map:
        if frame.has_view:
            return [bytes(x) if isinstance(x, memoryview) else x for x in items]
        return items
    mapping: dict[object, object] = {}
    for i in range(0, len(items), 2):
        key = items[i]
        if isinstance(key, memoryview):
            key = bytes(key)
        elif not isinstance(key, str):
            # msgpack-python's strict_map_key: other key types can be made to hash badly.
            raise fail(f"map key of type {type(key).__name__} is not allowed (str or bytes only)")
        mapping[key] = items[i + 1]
    result = hook(mapping)
    if result is mapping and frame.has_view:
        # Not an array map: its bin values are plain bytes, as msgpack-python returns them.
        for key, item in mapping.items():
            if isinstance(item, memoryview):
                mapping[key] = bytes(item)
    return result
