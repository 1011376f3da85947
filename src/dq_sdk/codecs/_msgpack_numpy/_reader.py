"""Reading ``msgpack_numpy``: which parser reads a message, and when arrays are views of it.

Messages under ``COPY_BELOW`` bytes are read by msgpack-python's C unpacker, whose map hook
makes arrays through the same checks (:func:`._maps.from_map`): their data is a copy, which for
a small message costs far less than walking it in Python. Larger messages without ``bin``
values go to msgpack-python too; the others (every ndarray travels as ``bin``) go to
:mod:`._zero_copy_parser`, which returns arrays as read-only views of the received buffer. A
message that msgpack-python refuses is read again by that parser, which either accepts it (its
bounds are the same, so this is rare) or explains what is wrong. Messages that are one array
are read by their remembered head (:mod:`._one_array`).
"""

from __future__ import annotations

from functools import lru_cache, partial

# msgpack ships no type information (and the project's mypy config does not list it).
import msgpack  # type: ignore[import-untyped]
import numpy as np

from ..._exceptions import DecodeError
from .._encoding import Encoding
from .._limits import DecodeLimits
from ._maps import from_map
from ._one_array import OneArrayLayouts
from ._writer import array_head
from ._zero_copy_parser import MapHook, read

__all__ = ["COPY_BELOW", "unpack"]


#: Messages shorter than this (in bytes) are decoded by msgpack-python's C unpacker, their
#: arrays copied out of the message; longer ones keep their arrays as views of it. Below this
#: size the copy costs less than the pure-Python walk that makes views possible, even for a
#: message that is one array (the walk's best case: 11 us against 15 us at 256 KiB); a
#: message of four 32 KiB spectra takes 26 us instead of 73. (Messages that are one array,
#: such as pointing rows, are read by their remembered head: see _one_array.)
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
    ``view`` (see ``_one_array``). In other messages of at least ``copy_below`` bytes arrays
    are views of ``view``; in smaller ones, copies. ``copy_below`` defaults to
    :data:`COPY_BELOW` for ``msgpack_numpy`` and to 0 (always views) for other encodings (an
    ``xarray`` Dataset keeps its variables as views of the message); passing it forces that
    path, also for one-array messages (tests use it).
    """
    if copy_below is not None or encoding is not Encoding.MSGPACK_NUMPY:
        return _unpack_any(view, limits, encoding, copy_below)
    known = _LAYOUTS.read(view, limits, encoding)
    if known is not None:
        return known
    value = _unpack_any(view, limits, encoding, COPY_BELOW)
    if isinstance(value, np.ndarray) and view.readonly:
        try:
            head = array_head(value.dtype, value.shape, value.nbytes)
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
    by the zero-copy parser whenever the message carries ``bin`` values."""
    hook = _hook(limits, encoding)
    if copy_below is None:
        copy_below = COPY_BELOW if encoding is Encoding.MSGPACK_NUMPY else 0
    if len(view) < copy_below:
        try:
            return _unpackb(view, limits, hook, limits.max_array_bytes)
        except DecodeError:  # from the hook: an array map that is wrong, said by the checks
            raise
        except (ValueError, TypeError, OverflowError):
            # A broken message, or one over a bound: the parser explains which and where.
            return read(view, limits, hook, encoding)
    try:
        # max_bin_len=0: any non-empty bin stops msgpack-python before it copies anything,
        # and the message goes to the zero-copy parser instead. Messages without bin values
        # cannot hold an array map (its keys are bin), so no object hook is needed here.
        return _unpackb(view, limits, None, 0)
    except (ValueError, TypeError, OverflowError):
        # A bin, or a broken message: the parser decodes the first and explains the second.
        pass
    return read(view, limits, hook, encoding)


def _unpackb(view: memoryview, limits: DecodeLimits, hook: MapHook | None, max_bin: int) -> object:
    """msgpack-python's decoding, with the parser's rules and bounds (see _zero_copy_parser)."""
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
