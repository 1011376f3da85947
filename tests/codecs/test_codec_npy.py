"""npy: byte-identical to numpy.save, read without pickle, zero-copy, bounded."""

from __future__ import annotations

import io
import os
import struct
import time
import tracemalloc
import warnings
from pathlib import Path
from typing import Any, Final

import numpy as np
import pytest

from dq_sdk import DecodeError, EncodeError
from dq_sdk.codecs import DecodeLimits, Encoding, decode, encode

NPY: Final = Encoding.NPY
Array = np.ndarray[Any, np.dtype[Any]]

ARRAYS: dict[str, Array] = {
    "f8": np.arange(10.0),
    "i2 3-d": np.arange(24, dtype=np.int16).reshape(2, 3, 4),
    "big-endian": np.arange(6, dtype=">f4"),
    "bool": np.array([True, False]),
    "c16": np.array([1 + 2j, np.nan]),
    "c8": np.array([1j], dtype=np.complex64),
    "M8[ns]": np.array(["2025-01-01T12:00:00.000000001", "NaT"], dtype="M8[ns]"),
    "m8[s]": np.array([1, -2], dtype="m8[s]"),
    "U": np.array(["SKA001", "é∞"]),
    "S": np.array([b"ab", b""]),
    "0-d": np.array(7, dtype=np.uint32),
    "empty": np.zeros((0, 3)),
    "empty fortran": np.asfortranarray(np.zeros((3, 0))),
    "fortran": np.asfortranarray(np.arange(12.0).reshape(3, 4)),
    "non-contiguous": np.arange(40.0).reshape(5, 8)[::2, 1::3],
    "structured": np.array(
        [("SKA001", 1.5, [1, 2])], dtype=[("name", "U8"), ("x", ">f8"), ("v", "<i4", (2,))]
    ),
    "padded structured": np.zeros(
        2, dtype=np.dtype({"names": ["a"], "formats": ["u1"], "itemsize": 8})
    ),
    "unicode field name (3.0)": np.zeros(2, dtype=[("é∞", "f8")]),
    "no fields": np.zeros(3, dtype=[]),
}


def numpy_save(array: Array, allow_pickle: bool = False) -> bytes:
    buffer = io.BytesIO()
    with warnings.catch_warnings():  # numpy warns when it must write format 2.0 / 3.0
        warnings.simplefilter("ignore", UserWarning)
        np.save(buffer, array, allow_pickle=allow_pickle)
    return buffer.getvalue()


def numpy_load(data: bytes, max_header_size: int = 10_000) -> Array:
    loaded: Array = np.load(io.BytesIO(data), allow_pickle=False, max_header_size=max_header_size)
    return loaded


def same(a: Array, b: object) -> bool:
    return (
        isinstance(b, np.ndarray)
        and a.dtype == b.dtype
        and a.shape == b.shape
        and a.tobytes() == b.tobytes()
    )


@pytest.mark.parametrize("name", list(ARRAYS))
def test_bytes_are_those_numpy_save_writes(name: str) -> None:
    array = ARRAYS[name]
    ours = encode(array, NPY)
    assert ours == numpy_save(array)
    assert same(array, numpy_load(ours))
    assert same(array, decode(numpy_save(array), NPY))
    assert same(array, decode(ours, NPY))


def test_format_versions_follow_the_header() -> None:
    assert encode(ARRAYS["f8"], NPY)[6:8] == b"\x01\x00"
    assert encode(ARRAYS["unicode field name (3.0)"], NPY)[6:8] == b"\x03\x00"


def test_headers_over_64_kib_use_version_2_and_need_a_raised_limit() -> None:
    array = np.zeros(1, dtype=[(f"field_{i:05d}", "f8") for i in range(4000)])
    ours = encode(array, NPY)
    assert ours[6:8] == b"\x02\x00"
    assert ours == numpy_save(array)
    # Like numpy.load, the default limit refuses a header this long (literal_eval cost).
    with pytest.raises(DecodeError, match="max_npy_header=10000"):
        decode(ours, NPY)
    assert same(array, decode(ours, NPY, limits=DecodeLimits(max_npy_header=200_000)))
    assert same(array, numpy_load(ours, max_header_size=200_000))


def test_fortran_order_travels_and_comes_back() -> None:
    array = ARRAYS["fortran"]
    decoded = decode(encode(array, NPY), NPY)
    assert decoded.flags.f_contiguous and not decoded.flags.c_contiguous
    assert np.array_equal(decoded, array)


def test_anything_numpy_takes_is_encoded_as_its_array() -> None:
    assert encode([[1, 2], [3, 4]], NPY) == numpy_save(np.array([[1, 2], [3, 4]]))
    assert encode(2.5, NPY) == numpy_save(np.array(2.5))


@pytest.mark.parametrize("kind", [bytes, bytearray, memoryview])
def test_decoded_array_is_a_read_only_view_of_the_input(kind: type[Any]) -> None:
    buffer = kind(encode(np.arange(1000.0), NPY))
    decoded = decode(buffer, NPY)
    assert np.shares_memory(decoded, np.frombuffer(buffer, dtype=np.uint8))
    assert not decoded.flags.writeable
    assert np.array_equal(decoded, np.arange(1000.0))


def test_encoding_a_large_array_costs_about_one_copy() -> None:
    array = np.ones(4 * 1024 * 1024)  # 32 MiB
    tracemalloc.start()
    try:
        data = encode(array, NPY)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(data) == array.nbytes + 128
    assert peak < 1.2 * array.nbytes  # np.save into a BytesIO peaks at 1.5x, then copies again


# --- refusals -------------------------------------------------------------------------------


class Evil:
    """Unpickling this creates a directory: proof that a payload was (not) unpickled."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return os.mkdir, (str(self.path),)


def test_pickled_object_arrays_are_refused_not_loaded(tmp_path: Path) -> None:
    target = tmp_path / "created-by-unpickling"
    data = numpy_save(np.array([Evil(target)], dtype=object), allow_pickle=True)
    with pytest.raises(DecodeError, match="Python objects"):
        decode(data, NPY)
    assert not target.exists()
    np.load(io.BytesIO(data), allow_pickle=True)  # the payload is live: numpy runs it
    assert target.exists()


@pytest.mark.parametrize(
    "value",
    [np.array([1, "a"], dtype=object), [{"a": 1}], np.array(["x"], dtype=np.dtypes.StringDType())],
)
def test_object_and_string_dtypes_are_refused_on_encode(value: object) -> None:
    with pytest.raises(EncodeError, match="npy encoding refuses"):
        encode(value, NPY)


def test_ragged_input_is_an_encode_error() -> None:
    with pytest.raises(EncodeError, match="not an array"):
        encode([[1, 2], [3]], NPY)


# --- malformed bytes and bounds -------------------------------------------------------------


def npy(header: str, data: bytes = b"", version: tuple[int, int] = (1, 0)) -> bytes:
    raw = header.encode("latin1")
    fmt = "<H" if version == (1, 0) else "<I"
    return b"\x93NUMPY" + bytes(version) + struct.pack(fmt, len(raw)) + raw + data


def test_a_header_claiming_100_gb_is_refused_before_allocation() -> None:
    data = npy("{'descr': '<f8', 'fortran_order': False, 'shape': (100000, 125000), }", b"\0" * 8)
    started = time.perf_counter()
    with pytest.raises(DecodeError, match="max_array_bytes"):
        decode(data, NPY)
    assert time.perf_counter() - started < 1.0


def test_every_truncation_is_a_decode_error() -> None:
    data = encode(np.arange(5, dtype=np.int16), NPY)
    for end in range(len(data)):
        with pytest.raises(DecodeError):
            decode(data[:end], NPY)


def test_trailing_bytes_are_a_decode_error() -> None:
    with pytest.raises(DecodeError, match="needs 40 bytes of data, the message carries 41"):
        decode(encode(np.arange(5.0), NPY) + b"\0", NPY)


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (b"PK\x03\x04 not npy", "magic"),
        (npy("{}", version=(4, 0)), "version 4.0"),
        (npy("[1, 2]"), "not a dict"),
        (npy("{'descr': '<f8', 'shape': (1,)}"), "not a dict with keys"),
        (npy("{'descr': '<f8', 'fortran_order': 0, 'shape': (1,)}", b"\0" * 8), "fortran_order"),
        (npy("{'descr': '<f8', 'fortran_order': False, 'shape': [1]}", b"\0" * 8), "shape"),
        (npy("{'descr': '<f8', 'fortran_order': False, 'shape': (-1,)}"), "ints >= 0"),
        (npy("{'descr': 'nonsense', 'fortran_order': False, 'shape': ()}"), "invalid header"),
        (npy("__import__('os').system('true')"), "invalid header"),
        (
            npy("{'descr': '|O', 'fortran_order': False, 'shape': (1,)}", b"\0" * 8),
            "Python objects",
        ),
        (
            npy("{'descr': '<f8', 'fortran_order': False, 'shape': " + "(" * 300 + ")" * 300 + "}"),
            "invalid header",
        ),
        (
            npy(
                "{'descr': '<f8', 'fortran_order': False, 'shape': (" + "1," * 33 + ")}", b"\0" * 8
            ),
            "33 dimensions",
        ),
        (npy(" " * 50_000, version=(2, 0)), "max_npy_header"),
    ],
)
def test_malformed_headers_are_decode_errors(data: bytes, match: str) -> None:
    with pytest.raises(DecodeError, match=match):
        decode(data, NPY)


def test_an_invalid_escape_in_a_header_is_refused_without_a_warning() -> None:
    data = npy("{'descr': '<f\\e8', 'fortran_order': False, 'shape': (1,)}", b"\0" * 8)
    with warnings.catch_warnings(record=True) as printed:
        warnings.simplefilter("always")
        with pytest.raises(DecodeError, match="invalid header: invalid escape sequence"):
            decode(data, NPY)
    assert not printed  # no warning in the log for every bad message
    # A field name with a backslash, which numpy escapes properly, still decodes.
    array = np.zeros(1, dtype=[("a\\b", "<f8")])
    assert decode(encode(array, NPY), NPY).dtype == array.dtype


def test_limits_are_configurable() -> None:
    data = encode(np.zeros((2, 2, 2)), NPY)
    assert decode(data, NPY, limits=DecodeLimits(max_ndim=3)).ndim == 3
    with pytest.raises(DecodeError, match="max_ndim=2"):
        decode(data, NPY, limits=DecodeLimits(max_ndim=2))


def test_impossible_code_points_are_a_decode_error() -> None:
    data = bytearray(encode(np.array(["ok"]), NPY))
    data[-4:] = (0x110000).to_bytes(4, "little")
    with pytest.raises(DecodeError, match="code point over U\\+10FFFF"):
        decode(bytes(data), NPY)
