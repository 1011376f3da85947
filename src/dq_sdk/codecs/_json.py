"""``json``: UTF-8 JSON; numpy arrays become lists, numpy scalars numbers.

NaN and infinities are written as ``NaN``, ``Infinity`` and ``-Infinity``, as Python's
``json`` module does by default, and read back: SDP data legitimately holds NaN (a failed fit),
producers and consumers are Python, and turning NaN into ``null`` would silently lose it.
Strict JSON parsers (browsers) reject these tokens; ``docs/encodings.md`` says so.
"""

from __future__ import annotations

import json

import numpy as np

from .._exceptions import DecodeError, EncodeError
from ._base import DEFAULT_LIMITS, Buffer, as_view, child_path, describe
from ._encoding import Encoding
from ._limits import DecodeLimits

__all__ = ["JsonCodec"]

# Array kinds whose tolist() gives JSON values: bool, ints, floats, str.
_JSON_KINDS = "biufU"
_JSON_LEAVES = (str, int, float, bool, type(None))


def _default(value: object) -> object:
    if isinstance(value, np.ndarray) and value.dtype.kind in _JSON_KINDS:
        return value.tolist()
    if isinstance(value, np.bool_ | np.integer | np.floating):
        return value.item()
    raise TypeError(f"{describe(value)} is not JSON serialisable")


def _why_not(value: object, path: str, seen: set[int]) -> tuple[str, str] | None:
    """The path of the first value JSON cannot carry, and why (None if all is fine)."""
    where = path or "<root>"
    if isinstance(value, _JSON_LEAVES):
        return None
    if isinstance(value, np.ndarray):
        if value.dtype.kind in _JSON_KINDS:
            return None
        return where, f"an array of dtype {value.dtype} has no JSON form"
    if isinstance(value, np.bool_ | np.integer | np.floating):
        return None
    if not isinstance(value, dict | list | tuple):
        return where, f"{describe(value)} is not JSON serialisable"
    if id(value) in seen:
        return where, "a container that contains itself"
    seen.add(id(value))
    if isinstance(value, dict):
        for key, item in value.items():
            child = child_path(path, key)
            if not isinstance(key, _JSON_LEAVES):
                return child, f"a key of type {describe(key)} (JSON keys are str)"
            found = _why_not(item, child, seen)
            if found:
                return found
    else:
        for index, item in enumerate(value):
            found = _why_not(item, f"{path}[{index}]", seen)
            if found:
                return found
    seen.discard(id(value))
    return None


class JsonCodec:
    """The ``json`` encoding (see ``docs/encodings.md``)."""

    @property
    def encoding(self) -> Encoding:
        return Encoding.JSON

    def encode(self, value: object) -> bytes:
        try:
            text = json.dumps(
                value,
                default=_default,
                allow_nan=True,
                ensure_ascii=False,
                separators=(",", ":"),
            )
            return text.encode("utf-8")
        except (TypeError, ValueError, RecursionError) as exc:
            try:
                found = _why_not(value, "", set())
            except RecursionError:
                found = None
            if found is None:  # e.g. a lone surrogate in a str, or extreme nesting
                raise EncodeError(f"json encoding failed: {exc}") from exc
            where, why = found
            raise EncodeError(f"json encoding cannot carry the value at {where}: {why}") from exc

    def decode(self, data: Buffer, limits: DecodeLimits = DEFAULT_LIMITS) -> object:
        view = as_view(data, Encoding.JSON)
        try:
            # Decode as UTF-8 ourselves: json.loads(bytes) would also accept UTF-16/32.
            text = str(view, "utf-8")
        except UnicodeDecodeError as exc:
            raise DecodeError(f"json decoding: not UTF-8 at byte {exc.start}") from exc
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise DecodeError(
                f"json decoding: {exc.msg} at line {exc.lineno} column {exc.colno}"
            ) from exc
        except (ValueError, RecursionError) as exc:  # over-long ints, extreme nesting
            raise DecodeError(f"json decoding: {exc}") from exc
