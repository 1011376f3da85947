"""Writing ``msgpack_numpy``: a value to msgpack bytes, numpy arrays as msgpack-numpy maps.

msgpack-python would copy a large array twice (into its buffer, then into the result). The
writer packs everything with msgpack-python except arrays over ``_INLINE_MAX`` bytes: those are
written as their own chunks (map header, ``bin`` header, the array's memory), and one
``b"".join`` makes the message, so a large contiguous array costs one copy. A container is
first packed whole; only when that meets a large array or an error does the writer descend
into it, which also names the path of a value that cannot travel.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

# msgpack ships no type information (and the project's mypy config does not list it).
import msgpack  # type: ignore[import-untyped]
import numpy as np

from ..._exceptions import EncodeError
from .._arrays import NDArray, check_carriable, data_buffer
from .._base import child_path, describe
from .._encoding import Encoding
from ._maps import Unsupported, array_map, array_map_of, complex_map, scalar_map

__all__ = ["array_head", "pack"]

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


def array_head(dtype: np.dtype[Any], shape: tuple[int, ...], nbytes: int) -> bytes:
    """Everything the writer puts before the data of an array of ``dtype`` and ``shape`` whose
    C-order bytes number ``nbytes``: its map up to the data, and the data's ``bin`` header."""
    return _map_head(dtype, shape) + _bin_header(nbytes)


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
