"""Bounds on what a decoder may allocate for one message."""

from __future__ import annotations

from dataclasses import dataclass, fields

__all__ = ["DecodeLimits"]

_GIB = 1024**3


@dataclass(frozen=True, slots=True, kw_only=True)
class DecodeLimits:
    """What one decoded message may claim, checked before anything is allocated.

    Bytes come from the network: a header can claim any shape or length, so every decoder
    checks the claim against these bounds (and against the bytes actually received) first.
    ``DecodeLimits()`` holds the defaults; override one field with e.g.
    ``DecodeLimits(max_array_bytes=8 * 1024**3)``.
    """

    #: Data bytes of one decoded array (``npy``, ``msgpack_numpy``, ``xarray`` variables),
    #: and the length of one msgpack ``str``/``bin``/``ext`` value.
    max_array_bytes: int = 2 * _GIB
    #: Elements of itemsize 0 (``V0``, ``S0``, ``U0``, a record with no fields) in one decoded
    #: array, counting those a record field exposes (``array["a"]`` of a field ``("a", [],
    #: (1000,))`` has 1000 a row). No data backs them, so max_array_bytes cannot bound them:
    #: a message of under 100 bytes could claim 2**31, and copying or iterating over them
    #: takes minutes and gigabytes.
    max_empty_elements: int = 2**20
    #: Dimensions of one decoded array (numpy itself allows 64).
    max_ndim: int = 32
    #: Items in one msgpack array, or pairs in one msgpack map.
    max_container_len: int = 2**24
    #: Characters of one ``npy`` header, parsed with ``ast.literal_eval``. numpy's own bound:
    #: ``numpy.load`` refuses longer headers unless the file is trusted. Only structured
    #: dtypes with hundreds of fields need more.
    max_npy_header: int = 10_000

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            # bool is an int subclass; DecodeLimits(max_ndim=True) is a bug, not a bound.
            if type(value) is not int or value < 0:
                raise ValueError(f"DecodeLimits.{field.name} must be an int >= 0, got {value!r}")
