"""The msgpack-numpy 0.4.8 maps for ndarrays, numpy scalars and complex numbers.

Kept byte-compatible with ``msgpack_numpy.encode`` / ``decode`` (read that package's source
for the reference), with deliberate differences: object dtypes are refused both ways
(msgpack-numpy pickles them); numpy ``datetime64`` scalars and arrays are written
(msgpack-numpy cannot) in the same maps, which msgpack-numpy reads back; and records with
padding or titles decode to their original dtype (msgpack-numpy makes padding a field).
"""

from __future__ import annotations

import functools
import operator
from typing import Any

import numpy as np
from numpy.lib import format as npformat

from ..._exceptions import DecodeError
from .._arrays import NDArray, check_readable, checked_shape, readonly_view
from .._encoding import Encoding
from .._limits import DecodeLimits

__all__ = [
    "Unsupported",
    "array_map",
    "array_map_of",
    "complex_map",
    "from_map",
    "scalar_map",
    "share_record_dtype",
]

# Nested structured dtypes deeper than this are not data anyone sends; the bound keeps the
# recursive descr reader far from Python's stack limit.
_MAX_DESCR_DEPTH = 32
_MAX_DTYPE_STR = 256


class Unsupported(Exception):
    """A value with no msgpack-numpy form; the writer turns it into an EncodeError."""


def array_map(array: NDArray, data: bytes | memoryview) -> dict[bytes, object]:
    """The map for ``array`` (whose C-order bytes are ``data``), keys in msgpack-numpy order."""
    return array_map_of(array.dtype, array.shape, data)


def array_map_of(
    dtype: np.dtype[Any], shape: tuple[int, ...], data: bytes | memoryview
) -> dict[bytes, object]:
    """The map for an array of ``dtype`` and ``shape`` whose C-order bytes are ``data``."""
    kind, descr = _type_entries(dtype)
    return {b"nd": True, b"type": descr, b"kind": kind, b"shape": shape, b"data": data}


@functools.lru_cache(maxsize=256)
def _type_entries(dtype: np.dtype[Any]) -> tuple[bytes, object]:
    """``(kind, type)`` entries of a dtype's map. Cached: ``dtype.descr`` of a structured dtype
    costs several microseconds, more than the rest of encoding a one-antenna pointing row, and a
    stream repeats the same few dtypes."""
    if dtype.kind == "V":  # structured: the interface description, as msgpack-numpy stores it
        return b"V", dtype.descr
    return b"", dtype.str


def scalar_map(value: np.generic) -> dict[bytes, object]:
    """The map for a numpy scalar: ``nd`` false, the dtype string and the raw bytes."""
    if not isinstance(value, np.bool_ | np.number | np.datetime64):
        # np.void rows would lose their field names (msgpack-numpy refuses them too).
        raise Unsupported(f"numpy scalar of type {type(value).__name__} has no msgpack form")
    return {b"nd": False, b"type": value.dtype.str, b"data": np.asarray(value).tobytes()}


def complex_map(value: complex) -> dict[bytes, object]:
    """msgpack-numpy's map for a Python complex: its repr, e.g. ``'(1+2j)'``."""
    return {b"complex": True, b"data": repr(value)}


def from_map(mapping: dict[object, object], limits: DecodeLimits, encoding: Encoding) -> object:
    """The array, scalar or complex a decoded map stands for, or the map itself."""
    if b"nd" in mapping:
        if mapping[b"nd"] is True:
            return _array(mapping, limits, encoding)
        if mapping[b"nd"] is False:
            return _scalar(mapping, limits, encoding)
        raise DecodeError(f"{encoding.value} decoding: b'nd' must be true or false")
    if b"complex" in mapping:
        text = mapping.get(b"data")
        if mapping[b"complex"] is not True or not isinstance(text, str):
            raise DecodeError(f"{encoding.value} decoding: malformed complex map")
        try:
            return complex(text)
        except ValueError as exc:
            raise DecodeError(f"{encoding.value} decoding: bad complex {text!r}") from exc
    return mapping


def _array(mapping: dict[object, object], limits: DecodeLimits, encoding: Encoding) -> NDArray:
    kind = mapping.get(b"kind")
    # bin arrives as bytes or memoryview; anything else (a decoded array compares
    # elementwise, and raises in `if`) is not the pickle marker.
    if isinstance(kind, bytes | memoryview) and kind == b"O":
        # msgpack-numpy would pickle.loads() this payload: arbitrary code from the wire.
        raise DecodeError(
            f"{encoding.value} decoding refuses an object array (kind 'O'): "
            "its payload is a pickle, and dq-sdk never unpickles"
        )
    dtype = _dtype(mapping.get(b"type"), encoding)
    data = _payload(mapping, encoding)
    shape = checked_shape(mapping.get(b"shape"), dtype, len(data), limits, encoding)
    return readonly_view(data, dtype, shape, encoding)


def _scalar(mapping: dict[object, object], limits: DecodeLimits, encoding: Encoding) -> object:
    dtype = _dtype(mapping.get(b"type"), encoding)
    data = _payload(mapping, encoding)
    if dtype.itemsize == 0 or len(data) != dtype.itemsize:
        raise DecodeError(
            f"{encoding.value} decoding: scalar of dtype {dtype} needs {dtype.itemsize} "
            f"bytes, the message carries {len(data)}"
        )
    # A record scalar's fields can hold subarrays of itemsize 0 (no data backs them): the
    # array bounds apply to it as to the 0-d array it is read from.
    checked_shape((), dtype, len(data), limits, encoding)
    # A 0-d view checks the value as for arrays; indexing it makes the (copied) scalar.
    return readonly_view(data, dtype, (), encoding)[()]


def _payload(mapping: dict[object, object], encoding: Encoding) -> bytes | memoryview:
    data = mapping.get(b"data")
    if not isinstance(data, bytes | memoryview):
        raise DecodeError(f"{encoding.value} decoding: array data must be msgpack bin")
    return data


def _dtype(wire: object, encoding: Encoding) -> np.dtype[Any]:
    key = _record_key(wire)
    if key is not None:
        cached = _MODEL_RECORDS.get(key)
        if cached is None:
            cached = _RECORDS.get(key)
        if cached is not None:
            return cached
    dtype = _parse_dtype(wire, encoding)
    if key is not None and _canonical(dtype, key):
        if len(_RECORDS) >= _MAX_CACHED_RECORDS:
            _RECORDS.clear()  # a stream repeats a few dtypes; anything else is not worth more
        _RECORDS[key] = dtype
    return dtype


# Parsed record dtypes by their wire description. Parsing a 14-field pointing description
# costs about 10 us, several times the rest of decoding a one-antenna row. Only descriptions
# that are exactly ``dtype.descr`` of their result are kept (plain ``[name, type]`` fields,
# canonical type strings): reading one back can then never differ from parsing it, not even
# in a warning (a deprecated alias is not canonical, so it is parsed every time).
_RECORDS: dict[tuple[tuple[str, str], ...], np.dtype[Any]] = {}
# Models' own dtypes (share_record_dtype): as many as there are models, never evicted by
# whatever descriptions senders send.
_MODEL_RECORDS: dict[tuple[tuple[str, str], ...], np.dtype[Any]] = {}
_MAX_CACHED_RECORDS = 256
_MAX_CACHED_FIELDS = 256


def share_record_dtype(dtype: np.dtype[Any]) -> None:
    """Decode descriptions of ``dtype`` to this very object (a model's own dtype): checking a
    decoded array's dtype is then an identity test (0.04 us) instead of a comparison (0.7)."""
    key = _record_key([list(field) for field in dtype.descr])
    if key is not None and _canonical(dtype, key):
        _MODEL_RECORDS[key] = dtype


def _record_key(wire: object) -> tuple[tuple[str, str], ...] | None:
    """A hashable form of a record description of ``[str, str]`` fields, else None."""
    if type(wire) is not list or not wire or len(wire) > _MAX_CACHED_FIELDS:
        return None
    key = []
    for field in wire:
        # Exact types: 1 == 1.0 == True would let different descriptions share an entry.
        if type(field) is not list or len(field) != 2:
            return None
        name, kind = field
        if type(name) is not str or type(kind) is not str:
            return None
        key.append((name, kind))
    return tuple(key)


def _canonical(dtype: np.dtype[Any], key: tuple[tuple[str, str], ...]) -> bool:
    """Whether ``key`` is exactly how ``dtype`` describes itself (so it parses to it alone)."""
    if not dtype.names:
        return False
    descr = dtype.descr
    return len(descr) == len(key) and all(map(operator.eq, descr, key))


def _parse_dtype(wire: object, encoding: Encoding) -> np.dtype[Any]:
    try:
        # numpy's npy reader of dtype.descr: unlike a bare np.dtype(descr) (msgpack-numpy's
        # way), it turns unnamed void entries back into padding, so padded records round-trip.
        dtype: np.dtype[Any] = npformat.descr_to_dtype(_descr(wire, 0))
    except (TypeError, ValueError, OverflowError, KeyError, IndexError, SyntaxError) as exc:
        raise DecodeError(f"{encoding.value} decoding: bad dtype {wire!r}: {exc}") from exc
    except DeprecationWarning as exc:  # e.g. the 'a' alias, when warnings are errors
        raise DecodeError(f"{encoding.value} decoding: deprecated dtype {wire!r}: {exc}") from exc
    check_readable(dtype, encoding)
    return dtype


def _descr(wire: object, depth: int) -> Any:
    """Rebuild a dtype description as ``msgpack_numpy._unpack_dtype`` does, checking types."""
    if isinstance(wire, str):
        # numpy parses subarray shapes in dtype strings; real ones are a few characters.
        if len(wire) > _MAX_DTYPE_STR:
            raise ValueError(f"dtype string of {len(wire)} characters")
        return wire
    if not isinstance(wire, list) or depth > _MAX_DESCR_DEPTH:
        raise ValueError("expected a dtype string or a list of fields")
    fields: list[tuple[Any, ...]] = []
    for field in wire:
        if not isinstance(field, list) or len(field) not in (2, 3):
            raise ValueError(f"field {field!r} is not [name, type] or [name, type, shape]")
        name = field[0]
        if isinstance(name, bytes):
            name = name.decode("utf-8")
        elif isinstance(name, list):  # (title, name)
            name = tuple(name)
        elif not isinstance(name, str):
            raise ValueError(f"field name {name!r} is not a string")
        entry: tuple[Any, ...] = (name, _descr(field[1], depth + 1))
        if len(field) == 3:
            shape = field[2]
            entry += (tuple(shape) if isinstance(shape, list) else shape,)
        fields.append(entry)
    return fields
