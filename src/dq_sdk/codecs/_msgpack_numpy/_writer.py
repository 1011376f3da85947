"""``msgpack_numpy``: msgpack with numpy arrays as msgpack-numpy 0.4.8 maps.

Writing. msgpack-python would copy a large array twice (into its buffer, then into the
result). The writer packs everything with msgpack-python except arrays over
``_INLINE_MAX`` bytes: those are written as their own chunks (map header, ``bin`` header, the
array's memory), and one ``b"".join`` makes the message, so a large contiguous array costs
one copy. A container is first packed whole; only when that meets a large array or an error
does the writer descend into it, which also names the path of a value that cannot travel.

Reading. Messages under ``COPY_BELOW`` bytes are read by msgpack-python's C unpacker, whose
map hook makes arrays through the same checks (:func:`._ndmap.from_map`): their data is a
copy, which for a small message costs far less than walking it in Python. Larger messages
without ``bin`` values go to msgpack-python too; the others (every ndarray travels as
``bin``) go to :mod:`._msgpack_reader`, which returns arrays as read-only views of the
received buffer. A message that msgpack-python refuses is read again by that reader, which
either accepts it (its bounds are the same, so this is rare) or explains what is wrong.
"""

from __future__ import annotations

from functools import lru_cache, partial
from typing import Any

# msgpack ships no type information (and the project's mypy config does not list it).
import msgpack  # type: ignore[import-untyped]
import numpy as np

from .._exceptions import DecodeError, EncodeError
from ._arrays import NDArray, check_carriable, data_buffer
from ._base import DEFAULT_LIMITS, Buffer, as_view, child_path, describe
from ._encoding import Encoding
from ._limits import DecodeLimits
from ._msgpack_reader import MapHook, read
from ._ndmap import Unsupported, array_map, array_map_of, complex_map, from_map, scalar_map
from ._one_array import OneArrayLayouts

__all__ = ["COPY_BELOW", "MsgpackNumpyCodec", "pack", "pack_rows", "row_head", "unpack"]

# Below this, an array is packed inside msgpack-python's buffer: two copies of a few KiB
# cost less than the chunk bookkeeping.
_INLINE_MAX = 64 * 1024
# Up to this, array data is copied with tobytes rather than exported as a view.
_COPY_MAX = 4 * 1024
# msgpack-python's Packer refuses deeper nesting; the writer's own descent stops there too.
_MAX_DEPTH = 511


class _Descend(Exception):
    """Raised from inside msgpack-python: this value must be written by the walker."""


class _Writer:
    def __init__(self, encoding: Encoding) -> None:
        self.name = encoding.value
        self.encoding = encoding
        # msgpack-numpy's Packer settings: bin type for bytes, float64 floats, lists for tuples.
        self.packer = msgpack.Packer(default=self._default, use_bin_type=True)
        self.chunks: list[bytes | memoryview] = []

    def _default(self, value: object) -> object:
        if isinstance(value, np.ndarray):
            if value.dtype.hasobject or value.dtype.kind == "T" or value.nbytes > _INLINE_MAX:
                raise _Descend
            return array_map(value, _data(value))
        if isinstance(value, np.generic):
            return scalar_map(value)
        if isinstance(value, complex):
            return complex_map(value)
        raise Unsupported(f"{describe(value)} has no msgpack form")

    def emit(self, value: object, path: str, depth: int) -> None:
        if isinstance(value, np.ndarray):
            self._array(value, path)
            return
        container = isinstance(value, dict | list | tuple)
        if depth > _MAX_DEPTH:
            raise EncodeError(
                f"{self.name} encoding: containers nest deeper than {_MAX_DEPTH} levels at "
                f"{path or '<root>'} (does a container hold itself?)"
            )
        try:
            self.chunks.append(self.packer.pack(value))
            return
        except _Descend:
            pass
        except (Unsupported, TypeError, ValueError, OverflowError) as exc:
            if not container:  # e.g. a set, or an int over 64 bits
                raise EncodeError(
                    f"{self.name} encoding cannot carry {describe(value)} at "
                    f"{path or '<root>'}: {exc}"
                ) from exc
        if isinstance(value, dict):
            self.chunks.append(self.packer.pack_map_header(len(value)))
            for key, item in value.items():
                self.emit(key, f"{child_path(path, key)} (key)", depth + 1)
                self.emit(item, child_path(path, key), depth + 1)
        else:
            assert isinstance(value, list | tuple)
            self.chunks.append(self.packer.pack_array_header(len(value)))
            for index, item in enumerate(value):
                self.emit(item, f"{path}[{index}]", depth + 1)

    def _array(self, array: NDArray, path: str) -> None:
        self.chunks += _array_chunks(array, path, self.encoding)


def _array_chunks(array: NDArray, path: str, encoding: Encoding) -> list[bytes | memoryview]:
    """The map of ``array`` as chunks: everything up to the bin's data, the bin header, data."""
    check_carriable(array.dtype, encoding, path or "<root>")
    data = _data(array)
    size = len(data)
    if size >= 2**32:
        raise EncodeError(
            f"{encoding.value} encoding: the array at {path or '<root>'} has {size} bytes; "
            "a msgpack bin holds at most 4 GiB - 1"
        )
    return [_map_head(array.dtype, array.shape), _bin_header(size), data]


def _bin_header(size: int) -> bytes:
    if size < 2**8:
        return b"\xc4" + size.to_bytes(1, "big")
    if size < 2**16:
        return b"\xc5" + size.to_bytes(2, "big")
    return b"\xc6" + size.to_bytes(4, "big")


def pack_rows(array: NDArray, encoding: Encoding = Encoding.MSGPACK_NUMPY) -> list[bytes]:
    """One message per row of a 1-d array, each that row as a 1-row array: the bytes of
    ``pack(array[i:i + 1])`` for every ``i``, made from one copy of the array's data."""
    if array.ndim != 1:
        raise ValueError(f"pack_rows takes a 1-d array, not {array.ndim}-d")
    check_carriable(array.dtype, encoding, "<root>")
    size = array.dtype.itemsize
    prefix = _map_head(array.dtype, (1,)) + _bin_header(size)
    data = array.tobytes()
    return [prefix + data[start : start + size] for start in range(0, size * len(array), size)]


def row_head(dtype: np.dtype[Any]) -> bytes:
    """What every message of ``pack_rows`` starts with for rows of ``dtype``: the bytes before
    the row's own. A message that is this head and ``dtype.itemsize`` more bytes is a 1-row
    array of ``dtype`` holding those bytes."""
    return _map_head(dtype, (1,)) + _bin_header(dtype.itemsize)


def _data(array: NDArray) -> bytes | memoryview:
    """The array's C-order bytes: a copy when small (``tobytes`` costs less than exporting a
    view, about 0.1 against 0.9 us), else a view when the array is contiguous."""
    return array.tobytes() if array.nbytes <= _COPY_MAX else data_buffer(array)


@lru_cache(maxsize=256)
def _map_head(dtype: np.dtype[Any], shape: tuple[int, ...]) -> bytes:
    """The packed array map up to its data's bin header, once per dtype and shape.

    Packed with an empty bin last (c4 00), which is cut off: with the real bin header and the
    array's memory after it, the bytes are those of packing the map with the data inline.
    (Equal dtypes have the same ``str`` and ``descr``, so they may share an entry.)
    """
    head: bytes = msgpack.packb(array_map_of(dtype, shape, b""), use_bin_type=True)
    return head[:-2]


def pack(value: object, encoding: Encoding = Encoding.MSGPACK_NUMPY) -> bytes:
    """msgpack-numpy bytes of ``value``; ``encoding`` names the caller in errors."""
    if isinstance(value, np.ndarray):  # a message that is one array: no writer needed
        return b"".join(_array_chunks(value, "", encoding))
    writer = _Writer(encoding)
    writer.emit(value, "", 0)
    chunks = writer.chunks
    return chunks[0] if len(chunks) == 1 and isinstance(chunks[0], bytes) else b"".join(chunks)


#: Messages shorter than this (in bytes) are decoded by msgpack-python's C unpacker, their
#: arrays copied out of the message; longer ones keep their arrays as views of it. Below this
#: size the copy costs less than the pure-Python walk that makes views possible, even for a
#: message that is one array (the walk's best case: 11 us against 15 us at 256 KiB); a
#: message of four 32 KiB spectra takes 26 us instead of 73. (Messages that are one array,
#: such as pointing rows, are read by their remembered head: see ._one_array.)
COPY_BELOW = 256 * 1024


def unpack(
    view: memoryview,
    limits: DecodeLimits,
    encoding: Encoding = Encoding.MSGPACK_NUMPY,
    *,
    copy_below: int | None = None,
) -> object:
    """Decode one msgpack-numpy message.

    Arrays are read-only in every case. A ``msgpack_numpy`` message that is one array, written
    as dq-sdk and msgpack-numpy write it, in a read-only buffer (``bytes``), is a view of
    ``view`` (see :mod:`._one_array`). In
    other messages of at least ``copy_below`` bytes arrays are views of ``view``; in smaller
    ones, copies. ``copy_below`` defaults to :data:`COPY_BELOW` for ``msgpack_numpy`` and to 0
    (always views) for other encodings (an ``xarray`` Dataset keeps its variables as views of
    the message); passing it forces that path, also for one-array messages (tests use it).
    """
    if copy_below is not None or encoding is not Encoding.MSGPACK_NUMPY:
        return _unpack_any(view, limits, encoding, copy_below)
    known = _LAYOUTS.read(view, limits, encoding)
    if known is not None:
        return known
    value = _unpack_any(view, limits, encoding, COPY_BELOW)
    if isinstance(value, np.ndarray) and view.readonly:
        try:
            head = _map_head(value.dtype, value.shape) + _bin_header(value.nbytes)
        except (TypeError, ValueError, OverflowError):  # a dtype our writer would not write
            return value
        viewed = _LAYOUTS.learn(view, value, head, limits)
        return value if viewed is None else viewed
    return value


_LAYOUTS = OneArrayLayouts()


def _unpack_any(
    view: memoryview, limits: DecodeLimits, encoding: Encoding, copy_below: int | None
) -> object:
    """Decode any message: by msgpack-python's C unpacker below ``copy_below`` bytes, else
    by the zero-copy reader whenever the message carries ``bin`` values."""
    hook = _hook(limits, encoding)
    if copy_below is None:
        copy_below = COPY_BELOW if encoding is Encoding.MSGPACK_NUMPY else 0
    if len(view) < copy_below:
        try:
            return _unpackb(view, limits, hook, limits.max_array_bytes)
        except DecodeError:  # from the hook: an array map that is wrong, said by the checks
            raise
        except (ValueError, TypeError, OverflowError):
            # A broken message, or one over a bound: the reader explains which and where.
            return read(view, limits, hook, encoding)
    try:
        # max_bin_len=0: any non-empty bin stops msgpack-python before it copies anything,
        # and the message goes to the zero-copy reader instead. Messages without bin values
        # cannot hold an array map (its keys are bin), so no object hook is needed here.
        return _unpackb(view, limits, None, 0)
    except (ValueError, TypeError, OverflowError):
        # A bin, or a broken message: the reader decodes the first and explains the second.
        pass
    return read(view, limits, hook, encoding)


def _unpackb(view: memoryview, limits: DecodeLimits, hook: MapHook | None, max_bin: int) -> object:
    """msgpack-python's decoding, with the reader's rules and bounds (see _msgpack_reader)."""
    return msgpack.unpackb(
        view,
        raw=False,
        strict_map_key=True,
        use_list=True,
        object_hook=hook,
        max_bin_len=max_bin,
        max_str_len=limits.max_array_bytes,
        max_ext_len=limits.max_array_bytes,
        max_array_len=limits.max_container_len,
        max_map_len=limits.max_container_len,
    )


@lru_cache(maxsize=64)
def _hook(limits: DecodeLimits, encoding: Encoding) -> MapHook:
    """The map hook for these limits (DecodeLimits is frozen, so it can key a cache)."""
    return partial(from_map, limits=limits, encoding=encoding)


class MsgpackNumpyCodec:
    """The ``msgpack_numpy`` encoding (see ``docs/encodings.md``)."""

    @property
    def encoding(self) -> Encoding:
        return Encoding.MSGPACK_NUMPY

    def encode(self, value: object) -> bytes:
        return pack(value)

    def decode(self, data: Buffer, limits: DecodeLimits = DEFAULT_LIMITS) -> object:
        return unpack(as_view(data, Encoding.MSGPACK_NUMPY), limits)
