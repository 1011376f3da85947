"""msgpack_numpy: byte-compatible with msgpack-numpy 0.4.8 both ways, zero-copy, bounded."""

from __future__ import annotations

import os
import time
import tracemalloc
from pathlib import Path
from typing import Annotated, Any, ClassVar, Final, Literal
from unittest import mock

import msgpack  # type: ignore[import-untyped]
import msgpack_numpy
import numpy as np
import pytest

from dq_sdk import DecodeError, EncodeError
from dq_sdk.codecs import DecodeLimits, Encoding, decode, encode
from dq_sdk.codecs._msgpack_numpy import COPY_BELOW, unpack
from dq_sdk.codecs._msgpack_numpy import _maps as msgpack_numpy_maps
from dq_sdk.codecs._msgpack_numpy import _reader as msgpack_numpy_reader

MP: Final = Encoding.MSGPACK_NUMPY

FLOAT_FIELDS = (
    "last_scan_index",
    "xel_offset",
    "xel_offset_std",
    "el_offset",
    "el_offset_std",
    "expected_width_h",
    "expected_width_v",
    "fitted_width_h",
    "fitted_width_h_std",
    "fitted_width_v",
    "fitted_width_v_std",
    "fitted_height",
    "fitted_height_std",
)
POINTING_DTYPE = np.dtype([("antenna_name", "U8")] + [(name, "f8") for name in FLOAT_FIELDS])


def pointing(rows: int) -> np.ndarray[Any, np.dtype[Any]]:
    array = np.zeros(rows, dtype=POINTING_DTYPE)
    array["antenna_name"] = [f"SKA{i:03d}" for i in range(rows)]
    for index, name in enumerate(FLOAT_FIELDS):
        array[name] = np.linspace(index, index + 1, rows)
    array["fitted_height"][::2] = np.nan  # a failed fit is NaN, and valid
    return array


def metrics(items: int, channels: int) -> dict[str, object]:
    rng = np.random.default_rng(7)
    return {
        "data_type": "amplitude",
        "processing_block_id": "pb-test-123-123",
        "timestamp": "2025-01-01T00:00:00Z",
        "spectral_window": {"freq_min": 1e8, "freq_max": 2e8, "count": channels, "stride": 1},
        "data": [
            {
                "baseline": f"A{i}_B{i}",
                "polarisation": "XX",
                "amplitudes": rng.random(channels),
            }
            for i in range(items)
        ],
    }


ARRAYS: dict[str, np.ndarray[Any, np.dtype[Any]]] = {
    "f8": np.arange(10.0),
    "big f8 (walker path)": np.arange(100_000.0),
    "i1": np.arange(-5, 5, dtype=np.int8),
    "u8 2-d": np.arange(12, dtype=np.uint64).reshape(3, 4),
    "bool": np.array([True, False, True]),
    "big-endian >i4": np.arange(6, dtype=">i4"),
    "big-endian >f8 big": np.arange(20_000, dtype=">f8"),
    "c8": np.array([1 + 2j, -3j], dtype=np.complex64),
    "c16": np.array([1 + 2j, np.nan], dtype=np.complex128),
    "0-d": np.array(3.5),
    "empty": np.zeros((0, 3)),
    "fortran": np.asfortranarray(np.arange(12.0).reshape(3, 4)),
    "non-contiguous": np.arange(40.0).reshape(5, 8)[::2, 1::3],
    "big non-contiguous": np.arange(200_000.0)[::2],
    "U": np.array(["SKA001", "é∞"]),
    "S": np.array([b"ab", b"c"]),
    "pointing": pointing(4),
    "pointing big": pointing(2000),
    "nested structured": np.zeros(
        2, dtype=[("a", [("x", "<i2"), ("y", ">f4")]), ("b", "<f8", (2, 3))]
    ),
    "f2": np.array([1.5, -0.0], dtype=np.float16),
}

SCALARS: dict[str, object] = {
    "float32": np.float32(1.5),
    "int64": np.int64(-3),
    "uint8": np.uint8(200),
    "bool_": np.bool_(True),
    "complex128": np.complex128(1 - 2j),
    "complex64": np.complex64(2j),
    "python complex": 3 + 4j,
    "timedelta64": np.timedelta64(5, "s"),
}


def same(a: object, b: object) -> bool:
    """Exact equality, types included; arrays by dtype, shape and bytes (NaN-safe)."""
    if isinstance(a, np.ndarray):
        return (
            isinstance(b, np.ndarray)
            and a.dtype == b.dtype
            and a.shape == b.shape
            and a.tobytes() == b.tobytes()
        )
    if isinstance(a, dict):
        return isinstance(b, dict) and list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple):
        return isinstance(b, list) and len(a) == len(b) and all(map(same, a, b))
    if type(a) is not type(b):
        return False
    return a == b or (a != a and b != b)


@pytest.mark.parametrize("name", list(ARRAYS))
def test_arrays_match_msgpack_numpy_both_ways(name: str) -> None:
    array = ARRAYS[name]
    ours = encode(array, MP)
    assert ours == msgpack_numpy.packb(array)
    assert same(decode(ours, MP), array)
    assert same(msgpack_numpy.unpackb(ours), array)


@pytest.mark.parametrize("name", list(SCALARS))
def test_scalars_match_msgpack_numpy_both_ways(name: str) -> None:
    value = SCALARS[name]
    if isinstance(value, np.timedelta64):  # msgpack-numpy cannot write it; it reads ours
        assert msgpack_numpy.unpackb(encode(value, MP)) == value
    else:
        assert encode(value, MP) == msgpack_numpy.packb(value)
    assert same(decode(encode(value, MP), MP), value)
    assert same(decode(encode(value, MP), MP), msgpack_numpy.unpackb(encode(value, MP)))


def test_datetime64_round_trips_and_msgpack_numpy_reads_it() -> None:
    # msgpack-numpy cannot write datetime64 (its ndarray.data has no 'M' buffer format).
    array = np.array(["2025-01-01T00:00:00.123456789", "NaT"], dtype="M8[ns]")
    scalar = np.datetime64("2025-01-01", "D")
    data = encode({"t": array, "s": scalar}, MP)
    assert same(decode(data, MP), {"t": array, "s": scalar})
    assert same(msgpack_numpy.unpackb(data), {"t": array, "s": scalar})


def test_dicts_of_arrays_and_python_values_match_msgpack_numpy() -> None:
    value = {
        "a": np.arange(5),
        "b": [1, -2, 2**63, 2.5, "x", b"y", None, True, False, []],
        "c": {"d": np.ones((2, 2), ">f4"), "e": {}},
        b"raw": [np.float32(1), np.arange(70_000, dtype=np.int16)],
    }
    ours = encode(value, MP)
    assert ours == msgpack_numpy.packb(value)
    expected = msgpack_numpy.unpackb(ours)
    assert same(decode(ours, MP), expected)
    assert isinstance(expected[b"raw"], list)  # the reference decodes bytes keys as bytes too


def test_signal_display_metrics_round_trip() -> None:
    value = metrics(items=8, channels=10_000)
    ours = encode(value, MP)
    assert ours == msgpack_numpy.packb(value)
    assert same(decode(ours, MP), value)
    assert same(decode(msgpack_numpy.packb(value), MP), value)


def test_python_values_without_arrays() -> None:
    value = {"list": list(range(50)), "nested": [[{"k": None}]], "f": -1.5, "s": "ok", "b": b""}
    data = encode(value, MP)
    assert data == msgpack_numpy.packb(value)
    assert same(decode(data, MP), value)


def test_padded_and_titled_records_keep_their_dtype() -> None:
    padded = np.dtype({"names": ["a", "b"], "formats": ["u1", "<f8"], "offsets": [0, 8]})
    titled = np.dtype([(("Antenna name", "name"), "U8"), ("x", "<f8")])
    for dtype in (padded, titled):
        array = np.zeros(2, dtype=dtype)
        assert same(decode(encode(array, MP), MP), array)
    assert encode(np.zeros(2, padded), MP) == msgpack_numpy.packb(np.zeros(2, padded))


def test_tuples_come_back_as_lists() -> None:
    assert decode(encode({"t": (1, (2, 3))}, MP), MP) == {"t": [1, [2, 3]]}


def test_float64_scalars_travel_as_msgpack_floats() -> None:
    # np.float64 subclasses float, so msgpack (and msgpack-numpy) write a plain float.
    data = encode(np.float64(0.25), MP)
    assert data == msgpack.packb(0.25)
    assert type(decode(data, MP)) is float


@pytest.mark.parametrize("kind", [bytes, bytearray, memoryview])
def test_decoded_arrays_are_read_only_views_of_the_input(kind: type[Any]) -> None:
    small, large = np.arange(3.0), np.arange(100_000.0)
    buffer = kind(encode({"small": small, "items": [{"large": large}]}, MP))
    decoded = decode(buffer, MP)
    assert isinstance(decoded, dict)
    received = np.frombuffer(buffer, dtype=np.uint8)
    for array in (decoded["small"], decoded["items"][0]["large"]):
        assert np.shares_memory(array, received)
        assert not array.flags.writeable
    assert same(decoded["small"], small) and same(decoded["items"][0]["large"], large)


def test_bytes_values_next_to_arrays_are_bytes() -> None:
    decoded = decode(encode({"blob": b"\x00\x01", "a": np.arange(2), "l": [b"x"]}, MP), MP)
    assert isinstance(decoded, dict)
    assert same(decoded, {"blob": b"\x00\x01", "a": np.arange(2), "l": [b"x"]})


def test_encoding_a_large_array_costs_about_one_copy() -> None:
    array = np.ones(4 * 1024 * 1024)  # 32 MiB
    tracemalloc.start()
    try:
        data = encode({"big": array}, MP)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(data) > array.nbytes
    # The result itself is one copy; msgpack-numpy needs about three (buffer, regrowth, result).
    assert peak < 1.2 * array.nbytes


# --- refusals -------------------------------------------------------------------------------


class Evil:
    """Unpickling this creates a directory: proof that a payload was (not) unpickled."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return os.mkdir, (str(self.path),)


def test_object_arrays_on_the_wire_are_never_unpickled(tmp_path: Path) -> None:
    ours, control = tmp_path / "ours", tmp_path / "control"
    evil = msgpack_numpy.packb({"x": np.array([Evil(ours)], dtype=object)})
    with pytest.raises(DecodeError, match=r"object array.*never unpickles"):
        decode(evil, MP)
    assert not ours.exists()
    # The payload is live: the reference decoder does unpickle it.
    msgpack_numpy.unpackb(msgpack_numpy.packb(np.array([Evil(control)], dtype=object)))
    assert control.exists()


@pytest.mark.parametrize(
    "wire_type",
    ["|O", "O", [["a", "<f8"], ["b", "|O"]]],
    ids=["typestr", "char", "field"],
)
def test_object_dtypes_are_refused_whatever_the_kind(wire_type: object) -> None:
    message = msgpack.packb(
        {b"nd": True, b"type": wire_type, b"kind": b"", b"shape": [1], b"data": b"\0" * 16},
        use_bin_type=True,
    )
    with pytest.raises(DecodeError, match="Python objects"):
        decode(message, MP)


def test_object_arrays_are_refused_on_encode_with_their_path() -> None:
    with pytest.raises(EncodeError, match=r"at data\[1\]\.x: dtype object"):
        encode({"data": [{}, {"x": np.array(["a", None], dtype=object)}]}, MP)
    with pytest.raises(EncodeError, match="at <root>"):
        encode(np.array([{}], dtype=object), MP)


@pytest.mark.parametrize(
    ("value", "path", "what"),
    [
        ({"a": {"b": [1, {3}]}}, r"a\.b\[1\]", "set"),
        ([0, 2**64], r"\[1\]", "int"),
        ({"k": np.zeros(1, dtype=[("f", "f8")])[0]}, "k", "numpy.void"),
        ({"when": time}, "when", "module"),
    ],
)
def test_unsupported_values_name_their_path(value: object, path: str, what: str) -> None:
    with pytest.raises(EncodeError, match=f"cannot carry {what}.* at {path}"):
        encode(value, MP)


def test_a_list_that_holds_itself_is_refused() -> None:
    loop: list[object] = [1]
    loop.append(loop)
    with pytest.raises(EncodeError, match="nest deeper"):
        encode(loop, MP)


# --- malformed bytes and bounds -------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        {"a": np.arange(4.0), "s": "text", "n": [1, 2.5, None]},
        {"plain": [1, "two", 3.0, {"x": b""}]},
        pointing(2),
    ],
    ids=["with arrays", "no arrays", "pointing"],
)
def test_every_truncation_is_a_decode_error(value: object) -> None:
    data = encode(value, MP)
    for end in range(len(data)):
        with pytest.raises(DecodeError):
            decode(data[:end], MP)


@pytest.mark.parametrize("tail", [b"\x00", b"\xc0\xc0"])
def test_trailing_bytes_are_a_decode_error(tail: bytes) -> None:
    for value in ({"a": np.arange(2)}, [1, 2]):
        with pytest.raises(DecodeError):
            decode(encode(value, MP) + tail, MP)


@pytest.mark.parametrize("junk", [b"", b"\xc1", b"\x92\x01\xc1", b"\xc4\x02\x00\xc1\x00"])
def test_invalid_msgpack_is_a_decode_error(junk: bytes) -> None:
    with pytest.raises(DecodeError):
        decode(junk, MP)


def test_invalid_utf8_str_is_a_decode_error() -> None:
    message = b"\x92\xc4\x01x\xa2\xff\xfe"  # [bin "x", str with invalid UTF-8]
    with pytest.raises(DecodeError, match="UTF-8"):
        decode(message, MP)


def array_map(shape: object, data: bytes, wire_type: object = "<f8") -> bytes:
    packed: bytes = msgpack.packb(
        {b"nd": True, b"type": wire_type, b"kind": b"", b"shape": shape, b"data": data},
        use_bin_type=True,
    )
    return packed


def test_a_header_claiming_100_gb_is_refused_before_allocation() -> None:
    message = array_map([100_000, 125_000], b"\0" * 8)  # 100 GB of float64
    started = time.perf_counter()
    with pytest.raises(DecodeError, match="max_array_bytes"):
        decode(message, MP)
    assert time.perf_counter() - started < 1.0


def test_shapes_whose_product_overflows_int64_are_refused() -> None:
    # Zero elements, but numpy would still multiply out the other dimensions.
    with pytest.raises(DecodeError, match="over the limit"):
        decode(array_map([2**63, 2**63, 0], b""), MP)
    with pytest.raises(DecodeError, match="over the limit"):
        decode(array_map([2**40, 2**40], b""), MP)
    assert same(decode(array_map([1000, 0], b""), MP), np.zeros((1000, 0)))


@pytest.mark.parametrize(
    ("shape", "data", "match"),
    [
        ([3], b"\0" * 16, "needs 24 bytes of data, the message carries 16"),
        ([1], b"\0" * 16, "needs 8 bytes"),
        ([-1], b"", "ints >= 0"),
        ([1.5], b"\0" * 8, "ints >= 0"),
        ("3", b"\0" * 24, "ints >= 0"),
        ([1] * 33, b"\0" * 8, "33 dimensions"),
    ],
)
def test_shape_and_data_must_agree(shape: object, data: bytes, match: str) -> None:
    with pytest.raises(DecodeError, match=match):
        decode(array_map(shape, data), MP)


@pytest.mark.parametrize("wire_type", ["<f99", 42, [["a"]], "U99999999999999999999"])
def test_bad_dtypes_are_a_decode_error(wire_type: object) -> None:
    with pytest.raises(DecodeError, match="dtype"):
        decode(array_map([1], b"\0" * 8, wire_type), MP)


def test_limits_are_configurable() -> None:
    data = encode(np.zeros(10), MP)
    assert same(decode(data, MP, limits=DecodeLimits(max_array_bytes=80)), np.zeros(10))
    with pytest.raises(DecodeError, match="max_array_bytes=79"):
        decode(data, MP, limits=DecodeLimits(max_array_bytes=79))
    with pytest.raises(DecodeError, match="max_ndim=0"):
        decode(data, MP, limits=DecodeLimits(max_ndim=0))


@pytest.mark.parametrize("with_array", [False, True], ids=["msgpack path", "reader path"])
def test_container_length_is_bounded(with_array: bool) -> None:
    value: list[object] = list(range(11))
    if with_array:
        value.append(np.arange(1))
    data = encode(value, MP)
    limits = DecodeLimits(max_container_len=len(value) - 1)
    with pytest.raises(DecodeError):
        decode(data, MP, limits=limits)
    decoded = decode(data, MP, limits=DecodeLimits(max_container_len=len(value)))
    assert isinstance(decoded, list) and len(decoded) == len(value)


def test_lengths_beyond_the_message_are_refused() -> None:
    bin_4_gib = b"\x91\xc6\xff\xff\xff\xff\x00"
    with pytest.raises(DecodeError, match="bin of 4294967295 bytes is over"):
        decode(bin_4_gib, MP)
    with pytest.raises(DecodeError, match="truncated: bin of 4294967295 bytes"):
        decode(bin_4_gib, MP, limits=DecodeLimits(max_array_bytes=2**33))
    with pytest.raises(DecodeError, match="truncated: 4294967295 items"):
        decode(b"\xdd\xff\xff\xff\xff\xc4\x00", MP, limits=DecodeLimits(max_container_len=2**33))


@pytest.mark.parametrize("with_array", [False, True], ids=["msgpack path", "reader path"])
def test_nesting_is_bounded_like_msgpack(with_array: bool) -> None:
    leaf = msgpack.packb(b"x", use_bin_type=True) if with_array else b"\xc0"
    assert decode(b"\x91" * 1024 + leaf, MP) is not None
    with pytest.raises(DecodeError):
        decode(b"\x91" * 1025 + leaf, MP)


def test_map_keys_must_be_str_or_bytes() -> None:
    for message in (msgpack.packb({1: 2}), msgpack.packb({1: b"x"}, use_bin_type=True)):
        with pytest.raises(DecodeError):
            decode(message, MP)


def test_ext_values_decode_as_msgpack_does() -> None:
    value = [msgpack.ExtType(5, b"abc"), b"bin"]
    data = msgpack.packb(value, use_bin_type=True)
    assert decode(data, MP) == msgpack.unpackb(data) == value


@pytest.mark.parametrize(
    ("wire_type", "payload"),
    [
        ("<U2", b"a\0\0\0" + (0x110000).to_bytes(4, "little")),
        ([["name", ">U1"], ["x", "<f8"]], (0x7FFFFFFF).to_bytes(4, "big") + b"\0" * 8),
    ],
    ids=["plain", "record field"],
)
def test_impossible_code_points_are_a_decode_error(wire_type: object, payload: bytes) -> None:
    # numpy would build the array and raise SystemError later, when a str is made from it.
    with pytest.raises(DecodeError, match="code point over U\\+10FFFF"):
        decode(array_map([1], payload, wire_type), MP)


TOP = "\U0010ffff"  # the last code point: valid, and easy to find in the message's bytes
TEXT_LAYOUTS: dict[str, tuple[Any, Any]] = {
    # name: (dtype, how to fill every text value of an array of it with TOP)
    "plain": ("<U3", lambda a: a.fill(TOP)),
    "big-endian plain": (">U3", lambda a: a.fill(TOP)),
    "record": ([("x", "<f8"), ("a", "<U3")], lambda a: a["a"].fill(TOP)),
    "big-endian field": ([("a", ">U2"), ("x", "<i2")], lambda a: a["a"].fill(TOP)),
    "text subarray": ([("x", "u1"), ("a", "<U2", (3,))], lambda a: a["a"].fill(TOP)),
    "nested record": (
        [("x", "u1"), ("r", [("y", "u1"), ("a", "<U2")])],
        lambda a: a["r"]["a"].fill(TOP),
    ),
    "records in a subarray": (
        [("x", "u1"), ("r", [("a", "<U2")], (2,))],
        lambda a: a["r"]["a"].fill(TOP),
    ),
}


@pytest.mark.parametrize("rows", [1, 1000])  # under and over the bytewise check's size
@pytest.mark.parametrize("layout", sorted(TEXT_LAYOUTS))
def test_every_text_field_is_checked_for_impossible_code_points(layout: str, rows: int) -> None:
    dtype, fill = TEXT_LAYOUTS[layout]
    array = np.zeros(rows, dtype=dtype)
    fill(array)
    data = encode(array, MP)
    assert same(decode(data, MP), array)
    # Make the last text code unit of the last row 0x110000, in that field's byte order.
    order: Literal["little", "big"] = (
        "little" if data.rfind((0x10FFFF).to_bytes(4, "little")) >= 0 else "big"
    )
    where = data.rfind((0x10FFFF).to_bytes(4, order))
    assert where >= 0
    impossible = (0x110000).to_bytes(4, order)
    bad = data[:where] + impossible + data[where + 4 :]
    with pytest.raises(DecodeError, match="code point over U\\+10FFFF"):
        decode(bad, MP)


# --- small messages: msgpack-python's C unpacker, arrays copied -----------------------------


def message_of_size(size: int) -> bytes:
    """A message of exactly ``size`` bytes: a map holding one uint8 array (over 64 KiB, fixed
    overhead). Not one array alone: those are always views (see below)."""
    overhead = len(encode({"a": np.zeros(2**17, np.uint8)}, MP)) - 2**17
    data = encode({"a": np.arange(size - overhead, dtype=np.uint8)}, MP)
    assert len(data) == size
    return data


@pytest.mark.parametrize("kind", [bytes, bytearray, memoryview])
def test_messages_under_the_threshold_are_copied_over_it_viewed(kind: type[Any]) -> None:
    for size, viewed in ((COPY_BELOW - 1, False), (COPY_BELOW, True), (COPY_BELOW + 1, True)):
        buffer = kind(message_of_size(size))
        decoded = decode(buffer, MP)
        assert isinstance(decoded, dict)
        array = decoded["a"]
        assert isinstance(array, np.ndarray) and not array.flags.writeable
        assert np.shares_memory(array, np.frombuffer(buffer, np.uint8)) is viewed, size
        assert same(array, np.arange(array.size, dtype=np.uint8))


# --- messages that are one array: views at every size, their head remembered --------------


@pytest.mark.parametrize("kind", [bytes, memoryview])
@pytest.mark.parametrize("rows", [1, 3, 50_000])
def test_a_one_array_message_is_a_read_only_view_first_time_and_after(
    kind: type[Any], rows: int
) -> None:
    array = pointing(rows)
    for _ in range(2):  # learned on the first, read by its head on the second
        buffer = kind(encode(array, MP))
        decoded = decode(buffer, MP)
        assert isinstance(decoded, np.ndarray) and not decoded.flags.writeable
        assert np.shares_memory(decoded, np.frombuffer(buffer, np.uint8))
        assert decoded.dtype == array.dtype and same(decoded, array)


def test_a_one_array_message_in_a_writable_buffer_is_copied_when_small() -> None:
    # A view would change when the buffer's owner changes it; bytes cannot change.
    array = pointing(1)
    for _ in range(2):
        buffer = bytearray(encode(array, MP))
        decoded = decode(buffer, MP)
        assert isinstance(decoded, np.ndarray) and not decoded.flags.writeable
        assert not np.shares_memory(decoded, np.frombuffer(buffer, np.uint8))
        buffer[-8:] = b"\xff" * 8
        assert same(decoded, array)


def test_a_remembered_head_still_checks_each_messages_values() -> None:
    text = np.array(["ab", "cd"], dtype="<U2")
    good = encode(text, MP)
    assert same(decode(good, MP), text)
    bad = good[:-4] + (0x110000).to_bytes(4, "little")  # same head, impossible code point
    with pytest.raises(DecodeError, match="code point over U\\+10FFFF"):
        decode(bad, MP)


def test_a_remembered_head_obeys_other_limits_of_a_later_call() -> None:
    data = encode(np.arange(100.0), MP)
    assert same(decode(data, MP), np.arange(100.0))
    # Every bound the slow path applies, also those on the head's map and bin sizes.
    for tighter in (
        DecodeLimits(max_array_bytes=799),
        DecodeLimits(max_ndim=0),
        DecodeLimits(max_container_len=4),  # the array map has 5 entries
    ):
        with pytest.raises(DecodeError):
            unpack(memoryview(data), tighter, MP)
    # Equal limits in another object: the slow path again, and accepted.
    assert same(unpack(memoryview(data), DecodeLimits(), MP), np.arange(100.0))


def test_messages_of_one_length_with_different_heads_are_all_remembered() -> None:
    # '<f8' and '<i8' heads differ in one byte; the lengths are the same. Interleaved, both
    # stay remembered: after the first round every message is a view read by its head.
    floats, ints = np.arange(4.0), np.arange(4)
    for _ in range(3):
        for value in (floats, ints):
            data = encode(value, MP)
            with mock.patch.object(
                msgpack_numpy_reader, "_unpack_any", wraps=msgpack_numpy_reader._unpack_any
            ) as slow:
                decoded = decode(data, MP)
            assert isinstance(decoded, np.ndarray) and decoded.dtype == value.dtype
            assert same(decoded, value)
            if _ > 0:
                assert not slow.called


def test_a_hand_written_array_map_in_another_key_order_is_not_remembered() -> None:
    data = encode(np.arange(3.0), MP)
    reordered = msgpack.packb(
        {b"shape": [3], b"nd": True, b"type": "<f8", b"kind": b"", b"data": data[-24:]},
        use_bin_type=True,
    )
    decoded = decode(reordered, MP)
    assert same(decoded, np.arange(3.0))
    # Decoded by the C unpacker (its head is not what the writer makes): a copy.
    assert not np.shares_memory(decoded, np.frombuffer(reordered, np.uint8))


def test_a_copied_array_does_not_change_with_its_buffer() -> None:
    buffer = bytearray(encode({"a": np.arange(4.0)}, MP))
    decoded = decode(buffer, MP)
    assert isinstance(decoded, dict)
    buffer[-8:] = b"\xff" * 8
    assert same(decoded["a"], np.arange(4.0))


REFUSED = {
    "object kind": msgpack_numpy.packb(np.array([1, "a"], dtype=object)),
    "object field": array_map([1], b"\0" * 16, [["a", "<f8"], ["b", "|O"]]),
    "size mismatch": array_map([3], b"\0" * 16),
    "100 GB claim": array_map([100_000, 125_000], b"\0" * 8),
    "bad dtype": array_map([1], b"\0" * 8, "<f99"),
    "code point": array_map([1], b"a\0\0\0" + (0x110000).to_bytes(4, "little"), "<U2"),
    "bad nd": msgpack.packb({b"nd": 1, b"data": b""}, use_bin_type=True),
    "bad complex": msgpack.packb({b"complex": True, b"data": "1+"}, use_bin_type=True),
    "truncated": encode({"a": np.arange(3.0)}, MP)[:-1],
    "trailing": encode({"a": np.arange(3.0)}, MP) + b"\0",
    "int key": msgpack.packb({1: b"x"}, use_bin_type=True),
    "too deep": b"\x91" * 1025 + b"\xc4\x01x",
    "bin over max": b"\x91\xc6\xff\xff\xff\xff\x00",
}


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_both_paths_refuse_alike(name: str) -> None:
    data = memoryview(REFUSED[name])
    limits = DecodeLimits()
    errors = []
    for copy_below in (len(data) + 1, 0):  # the C path, the reader
        with pytest.raises(DecodeError) as caught:
            unpack(data, limits, MP, copy_below=copy_below)
        errors.append(str(caught.value))
    assert errors[0] == errors[1]


def test_limits_bind_the_c_path_too() -> None:
    data = memoryview(encode([list(range(11)), b"0123456789", "x" * 10, np.zeros(2)], MP))
    assert len(data) < COPY_BELOW
    for limits in (DecodeLimits(max_container_len=10), DecodeLimits(max_array_bytes=9)):
        with pytest.raises(DecodeError):
            unpack(data, limits, MP)
    decoded = unpack(data, DecodeLimits(max_container_len=11, max_array_bytes=16), MP)
    assert isinstance(decoded, list) and same(decoded[3], np.zeros(2))


def test_record_dtypes_are_parsed_once_when_canonical() -> None:
    # A dtype of this test alone (no model shares it), inside a map (no one-array fast path).
    array = np.zeros(2, dtype=[("antenna_name", "<U8"), ("parsed_once_here", "<f8")])
    message = encode({"rows": array}, MP)
    parse = msgpack_numpy_maps._parse_dtype
    with mock.patch.object(msgpack_numpy_maps, "_parse_dtype", wraps=parse) as parsing:
        first, again = decode(message, MP), decode(message, MP)
    assert parsing.call_count <= 1  # 0 when an earlier test decoded it already
    assert isinstance(first, dict) and isinstance(again, dict)
    assert same(first["rows"], array) and again["rows"].dtype is first["rows"].dtype


def test_a_models_dtype_is_the_decoded_dtype_itself() -> None:
    # A row model of this test alone: defining it shares its dtype with the decoder, so that
    # checking a decoded array is an identity test. (Redefining a model, as the codegen tests
    # do, shares the newest class's dtype; equal dtypes still pass by comparison.)
    from pydantic import Field

    # The row models' internal base: a model of this test's own, as codegen would write it.
    from dq_sdk._models._structured import StructuredRow

    class IdentityRow(StructuredRow):
        encoding: ClassVar[Encoding] = Encoding.MSGPACK_NUMPY
        schema_id: ClassVar[str] = "test:identity-row"
        schema_version: ClassVar[str] = "1"
        name: Annotated[str, Field(json_schema_extra={"x-dtype": "U4"})]
        identity_checked: Annotated[float, Field(json_schema_extra={"x-dtype": "f8"})]

    rows = np.zeros(2, dtype=IdentityRow.numpy_dtype())
    decoded = decode(encode({"rows": rows}, MP), MP)
    assert isinstance(decoded, dict)
    assert decoded["rows"].dtype is IdentityRow.numpy_dtype()
