"""Arrays of itemsize 0 (V0, S0, U0, records without fields): bounded by
DecodeLimits.max_empty_elements, the same way in npy, both msgpack_numpy readers and xarray.

No data backs such elements, so without the bound a message of under 100 bytes could claim
2**31 of them, and copying or iterating over the decoded array would take minutes.
"""

from __future__ import annotations

import struct
import time
from typing import Any, Final

import msgpack  # type: ignore[import-untyped]
import numpy as np
import pytest
from numpy.lib import format as npformat

from dq_sdk import DecodeError
from dq_sdk.codecs import DecodeLimits, Encoding, decode, encode
from dq_sdk.codecs._msgpack_numpy import unpack
from dq_sdk.codecs._msgpack_numpy._maps import array_map_of

NPY: Final = Encoding.NPY
MP: Final = Encoding.MSGPACK_NUMPY
LIMIT: Final = DecodeLimits().max_empty_elements
HUGE: Final = 2**31 - 1
Array = np.ndarray[Any, np.dtype[Any]]

# An empty record field as a subarray: 1 byte a row, yet array["a"] has 1000 elements a row.
HIDDEN: Final = np.dtype([("x", "u1"), ("a", [], (1000,))])
ZERO_SIZE: Final = {
    "V0": np.dtype("V0"),
    "S0": np.dtype("S0"),
    "U0": np.dtype("U0"),
    "empty record": np.dtype([]),
    "record of an empty record": np.dtype([("e", [])]),
    "empty subarray field": np.dtype([("a", "f8", (0, 3))]),
}


def npy_message(dtype: np.dtype[Any], shape: tuple[int, ...], data: bytes = b"") -> bytes:
    """An npy message as an attacker writes it: the shortest header, no padding."""
    descr = npformat.dtype_to_descr(dtype)
    text = f"{{'descr': {descr!r}, 'fortran_order': False, 'shape': {shape!r}, }}\n".encode()
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text)) + text + data


def mp_message(dtype: np.dtype[Any], shape: tuple[int, ...], data: bytes = b"") -> bytes:
    """A msgpack_numpy array map as dq-sdk and msgpack-numpy write it."""
    packed: bytes = msgpack.packb(array_map_of(dtype, shape, data), use_bin_type=True)
    return packed


def hidden_rows() -> Array:
    array = np.zeros(2, HIDDEN)
    array["x"] = [1, 2]
    return array


def c_path(data: bytes, limits: DecodeLimits) -> object:
    """msgpack-python's C unpacker with the array map hook (the message is under copy_below)."""
    return unpack(memoryview(data), limits, MP, copy_below=len(data) + 1)


def reader_path(data: bytes, limits: DecodeLimits) -> object:
    """The pure-Python zero-copy reader (copy_below=0)."""
    return unpack(memoryview(data), limits, MP, copy_below=0)


def refusal(decode_once: Any, data: bytes, limits: DecodeLimits) -> str:
    with pytest.raises(DecodeError) as info:
        decode_once(data, limits)
    return str(info.value)


def test_tiny_npy_message_claiming_2_31_v0_elements_is_refused_fast() -> None:
    message = npy_message(np.dtype("V0"), (HUGE,))
    assert len(message) < 100
    started = time.perf_counter()
    with pytest.raises(DecodeError) as info:
        decode(message, NPY)
    assert time.perf_counter() - started < 0.5
    assert str(info.value) == (
        f"npy decoding: array of shape ({HUGE},) and dtype |V0 is over the limit "
        f"DecodeLimits.max_empty_elements={LIMIT} (it claims {HUGE} elements of itemsize 0, "
        "which no data backs)"
    )


@pytest.mark.parametrize("dtype", ZERO_SIZE.values(), ids=ZERO_SIZE.keys())
def test_huge_zero_size_claims_are_refused_alike_by_every_reader(dtype: np.dtype[Any]) -> None:
    limits = DecodeLimits()
    npy = refusal(
        lambda data, lim: decode(data, NPY, limits=lim), npy_message(dtype, (HUGE,)), limits
    )
    mp = mp_message(dtype, (HUGE,))
    assert len(mp) < 100
    started = time.perf_counter()
    by_c, by_reader = refusal(c_path, mp, limits), refusal(reader_path, mp, limits)
    assert time.perf_counter() - started < 0.5
    assert by_c == by_reader
    # The same rule and words in both encodings; only the encoding's name differs (and V0,
    # which msgpack-numpy describes as [('', '|V0')], read back by numpy as the record []).
    mp_dtype = np.dtype([]) if dtype == np.dtype("V0") else dtype
    expected = npy.replace("npy decoding", "msgpack_numpy decoding", 1)
    assert by_c == expected.replace(f"dtype {dtype} ", f"dtype {mp_dtype} ", 1)
    assert f"DecodeLimits.max_empty_elements={LIMIT}" in npy
    assert f"dtype {dtype}" in npy and f"shape ({HUGE},)" in npy


def test_empty_elements_hidden_in_record_fields_count() -> None:
    # 3 rows of 1 byte whose field "a" would be 3 x 10**9 empty records.
    dtype = np.dtype([("x", "u1"), ("a", [], (10**9,))])
    assert dtype.itemsize == 1
    limits = DecodeLimits()
    expected = (
        f"array of shape (3,) and dtype {dtype} is over the limit "
        f"DecodeLimits.max_empty_elements={LIMIT} (it claims {3 * 10**9} elements"
    )
    npy = refusal(
        lambda d, lim: decode(d, NPY, limits=lim), npy_message(dtype, (3,), b"abc"), limits
    )
    assert expected in npy
    mp = mp_message(dtype, (3,), b"abc")
    assert refusal(c_path, mp, limits) == refusal(reader_path, mp, limits)
    assert expected in refusal(c_path, mp, limits)


def test_a_record_scalar_map_is_bounded_too() -> None:
    dtype = np.dtype([("x", "u1"), ("a", [], (10**9,))])
    mp: bytes = msgpack.packb(
        {b"nd": False, b"type": [list(field) for field in dtype.descr], b"data": b"\x01"},
        use_bin_type=True,
    )
    limits = DecodeLimits()
    by_c = refusal(c_path, mp, limits)
    assert by_c == refusal(reader_path, mp, limits)
    assert f"DecodeLimits.max_empty_elements={LIMIT}" in by_c


@pytest.mark.parametrize("dtype", [np.dtype("V0"), HIDDEN], ids=["V0", "hidden in a field"])
def test_the_limit_is_inclusive_and_configurable(dtype: np.dtype[Any]) -> None:
    per_row = 1 if dtype.itemsize == 0 else 1000
    rows = LIMIT // per_row
    data = b"\0" * (rows * dtype.itemsize)
    assert decode(npy_message(dtype, (rows,), data), NPY).shape == (rows,)
    over = npy_message(dtype, (rows + 1,), data + b"\0" * dtype.itemsize)
    with pytest.raises(DecodeError, match="max_empty_elements"):
        decode(over, NPY)
    # A tighter bound, and a wider one, are honoured.
    small = DecodeLimits(max_empty_elements=per_row)
    two = np.zeros(2, dtype)
    with pytest.raises(DecodeError, match=f"max_empty_elements={per_row} "):
        decode(encode(two, NPY), NPY, limits=small)
    for path in (c_path, reader_path):  # both paths; decode() below, in its own test
        with pytest.raises(DecodeError, match=f"max_empty_elements={per_row} "):
            path(encode(two, MP), small)
    wide = DecodeLimits(max_empty_elements=(rows + 1) * per_row)
    assert decode(over, NPY, limits=wide).shape == (rows + 1,)


def test_a_remembered_one_array_layout_honours_a_tighter_bound() -> None:
    # One rows count used nowhere else in this file: its message length is a fresh layout.
    message = encode(np.zeros(5, HIDDEN), MP)
    learned = decode(message, MP)  # learned under the default bound
    assert isinstance(learned, np.ndarray) and learned.shape == (5,)
    with pytest.raises(DecodeError, match="max_empty_elements=4000 "):
        decode(message, MP, limits=DecodeLimits(max_empty_elements=4000))


def test_zero_dimensions_count_as_numpy_lays_them_out() -> None:
    # As for max_array_bytes: numpy multiplies out the non-zero dimensions of an empty array,
    # and (LIMIT + 1) rows of nothing still take that many steps to walk through.
    dtype = np.dtype("V0")
    assert decode(npy_message(dtype, (0, LIMIT)), NPY).shape == (0, LIMIT)
    for message in (npy_message(dtype, (0, LIMIT + 1)), mp_message(dtype, (LIMIT + 1, 0))):
        encoding = NPY if message.startswith(b"\x93NUMPY") else MP
        with pytest.raises(DecodeError, match=f"it claims {LIMIT + 1} elements of itemsize 0"):
            decode(message, encoding)


@pytest.mark.parametrize(
    "array",
    [
        np.zeros(3, "V0"),
        np.zeros((2, 3), []),
        np.zeros(4, [("e", [])]),
        np.zeros(3, [("a", "f8", (0, 3))]),
        hidden_rows(),
        np.zeros((0, 5), "V0"),
    ],
    ids=[
        "V0",
        "empty record 2-d",
        "record of an empty record",
        "empty subarray",
        "hidden",
        "0 x 5",
    ],
)
@pytest.mark.parametrize("encoding", [NPY, MP])
def test_small_zero_size_arrays_still_round_trip(array: Array, encoding: Encoding) -> None:
    message = encode(array, encoding)
    decoded: list[object] = [decode(message, encoding)]
    if encoding is MP:
        decoded += [c_path(message, DecodeLimits()), reader_path(message, DecodeLimits())]
    for result in decoded:
        assert isinstance(result, np.ndarray)
        assert result.shape == array.shape
        assert result.dtype.itemsize == array.dtype.itemsize
        if array.dtype.names or encoding is NPY:
            # msgpack-numpy describes V0 as [('', '|V0')], which numpy reads back as [].
            assert result.dtype == array.dtype
        if array.dtype.names and "x" in array.dtype.names:
            assert result["x"].tolist() == array["x"].tolist()
            assert result["a"].shape == array["a"].shape


@pytest.mark.parametrize("encoding", [NPY, MP])
def test_ordinary_arrays_are_unaffected(encoding: Encoding) -> None:
    none = DecodeLimits(max_empty_elements=0)  # not even one element of itemsize 0
    arrays = [
        np.arange(LIMIT + 1, dtype=np.uint8),  # more elements than the bound, each paid for
        np.arange(12.0).reshape(3, 4),
        np.zeros((0, 4 * LIMIT)),  # empty, itemsize 8: max_array_bytes bounds it as before
        np.array([("SKA001", 1.5, [1, 2])], dtype=[("n", "U8"), ("x", ">f8"), ("v", "i4", (2,))]),
        np.array(7, dtype=np.uint32),
    ]
    for array in arrays:
        for limits in (DecodeLimits(), none):
            result = decode(encode(array, encoding), encoding, limits=limits)
            assert isinstance(result, np.ndarray)
            assert result.dtype == array.dtype and result.shape == array.shape
            assert np.array_equal(result, array)


def test_xarray_variables_are_bounded_by_the_same_rule() -> None:
    xr = pytest.importorskip("xarray")
    dataset = xr.Dataset({"v": ("x", np.zeros(3, "V0"))})
    message = encode(dataset, Encoding.XARRAY)
    assert decode(message, Encoding.XARRAY)["v"].shape == (3,)
    with pytest.raises(
        DecodeError, match=r"xarray decoding: .*DecodeLimits\.max_empty_elements=2 "
    ):
        decode(message, Encoding.XARRAY, limits=DecodeLimits(max_empty_elements=2))


def test_the_limit_is_validated_like_the_others() -> None:
    with pytest.raises(ValueError, match="max_empty_elements must be an int >= 0"):
        DecodeLimits(max_empty_elements=-1)
