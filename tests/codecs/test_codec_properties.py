"""Properties: decode(encode(x)) == x for every codec, over dtypes, shapes and layouts."""

from __future__ import annotations

import io
import warnings
from collections.abc import Callable
from functools import partial
from typing import Any
from unittest import mock

import msgpack_numpy
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from dq_sdk import DecodeError
from dq_sdk.codecs import DecodeLimits, Encoding, decode, encode
from dq_sdk.codecs._msgpack_numpy import COPY_BELOW, pack_rows, unpack
from dq_sdk.codecs._msgpack_numpy import _reader as msgpack_numpy_reader
from dq_sdk.codecs._msgpack_numpy._maps import from_map
from dq_sdk.codecs._msgpack_numpy._zero_copy_parser import read

Array = np.ndarray[Any, np.dtype[Any]]

FAST = settings(max_examples=150, deadline=None)

# Every fixed-size kind, both byte orders where they exist, and structured dtypes built from
# them: what SDP sends (f8, c16, U8, M8, pointing-like records) and the awkward cases.
SCALAR_DTYPES = st.one_of(
    hnp.boolean_dtypes(),
    hnp.integer_dtypes(endianness="?"),
    hnp.unsigned_integer_dtypes(endianness="?"),
    hnp.floating_dtypes(endianness="?"),
    hnp.complex_number_dtypes(endianness="?"),
    hnp.datetime64_dtypes(endianness="?"),
    hnp.timedelta64_dtypes(endianness="?"),
    hnp.byte_string_dtypes(endianness="?", min_len=1, max_len=4),
    hnp.unicode_string_dtypes(endianness="?", min_len=1, max_len=4),
)
DTYPES = st.one_of(SCALAR_DTYPES, hnp.array_dtypes(SCALAR_DTYPES, min_size=1, max_size=3))


@st.composite
def arrays(draw: st.DrawFn) -> Array:
    """Arrays of any dtype and shape, sometimes Fortran-ordered or strided views."""
    dtype = draw(DTYPES)
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=4))
    array: Array = draw(hnp.arrays(dtype, shape))
    layout = draw(st.sampled_from(["C", "F", "strided"]))
    if layout == "F":
        array = np.asfortranarray(array)
    elif layout == "strided" and array.ndim:
        array = array[tuple(slice(None, None, 2) for _ in range(array.ndim))]
    return array


def same(a: Array, b: object) -> bool:
    """dtype, shape and every byte (so NaN payloads and -0.0 count too)."""
    return (
        isinstance(b, np.ndarray)
        and b.dtype == a.dtype
        and b.shape == a.shape
        and b.tobytes() == a.tobytes()
    )


@FAST
@given(arrays())
def test_npy_round_trip_and_numpy_interop(array: Array) -> None:
    data = encode(array, Encoding.NPY)
    assert same(array, decode(data, Encoding.NPY))
    saved = io.BytesIO()
    with warnings.catch_warnings():  # format 3.0 for non-latin1 field names
        warnings.simplefilter("ignore", UserWarning)
        np.save(saved, array, allow_pickle=False)
    assert data == saved.getvalue()


def exports_a_buffer(dtype: np.dtype[Any]) -> bool:
    """Whether msgpack-numpy can write this dtype: it uses ndarray.data, a buffer export,
    which numpy refuses for datetime64/timedelta64 and for some field names (e.g. ':')."""
    try:
        exported = np.zeros(1, dtype=dtype).data
    except ValueError:
        return False
    return exported.nbytes == dtype.itemsize


@FAST
@given(arrays())
def test_msgpack_numpy_round_trip_and_interop(array: Array) -> None:
    message = {"array": array, "rows": [array]}
    data = encode(message, Encoding.MSGPACK_NUMPY)
    decoded = decode(data, Encoding.MSGPACK_NUMPY)
    assert isinstance(decoded, dict)
    assert same(array, decoded["array"]) and same(array, decoded["rows"][0])
    if array.dtype.names is None:
        # (msgpack-numpy cannot read titled fields back; plain dtypes it reads exactly.)
        assert same(array, msgpack_numpy.unpackb(data)["array"])
    if exports_a_buffer(array.dtype):
        assert data == msgpack_numpy.packb(message)
    if array.ndim == 1:  # one message per row, each a 1-row array (Producer.send_batch)
        rows = [encode(array[i : i + 1], Encoding.MSGPACK_NUMPY) for i in range(len(array))]
        assert pack_rows(array) == rows
    # A message that is the array itself is written by its own path (cached map head).
    alone = encode(array, Encoding.MSGPACK_NUMPY)
    assert same(array, decode(alone, Encoding.MSGPACK_NUMPY))
    if exports_a_buffer(array.dtype):
        assert alone == msgpack_numpy.packb(array)


PLAIN = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False)
    | st.text()
    | st.binary(),
    lambda children: (
        st.lists(children, max_size=4)
        # b"nd" is the format's reserved key: a map holding it is read as an array or scalar
        # map, by msgpack-numpy as by dq-sdk (docs/encodings.md).
        | st.dictionaries(
            st.text(max_size=5) | st.binary(max_size=5).filter(lambda k: k != b"nd"),
            children,
            max_size=4,
        )
    ),
    max_leaves=20,
)


@FAST
@given(PLAIN, arrays())
def test_msgpack_numpy_python_values_round_trip(value: object, array: Array) -> None:
    data = encode(value, Encoding.MSGPACK_NUMPY)
    assert data == msgpack_numpy.packb(value)
    assert decode(data, Encoding.MSGPACK_NUMPY) == value == msgpack_numpy.unpackb(data)
    # The same values next to an array take the zero-copy reader instead of msgpack.
    decoded = decode(encode([value, array], Encoding.MSGPACK_NUMPY), Encoding.MSGPACK_NUMPY)
    assert isinstance(decoded, list)
    assert decoded[0] == value and same(array, decoded[1])


# --- msgpack_numpy: the C path (small messages, copies) and the reader (views) agree -------

MP = Encoding.MSGPACK_NUMPY
LIMITS = DecodeLimits()


class FellBack(Exception):
    """The C path refused the message and handed it to the reader."""


def c_path(data: bytes) -> object:
    """Decode with msgpack-python's C unpacker only: the reader must not be reached."""
    with mock.patch.object(msgpack_numpy_reader, "read", side_effect=FellBack):
        return unpack(memoryview(data), LIMITS, MP, copy_below=len(data) + 1)


def reader_path(data: bytes) -> object:
    """Decode with the zero-copy reader only, whatever the message's size."""
    return read(memoryview(data), LIMITS, partial(from_map, limits=LIMITS, encoding=MP), MP)


def identical(a: object, b: object) -> bool:
    """Same types all the way down; arrays by dtype, shape and bytes; NaN equals NaN."""
    if type(a) is not type(b):
        return False
    if isinstance(a, np.ndarray):
        assert isinstance(b, np.ndarray)
        return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()
    if isinstance(a, dict):
        assert isinstance(b, dict)
        return list(a) == list(b) and all(identical(a[k], b[k]) for k in a)
    if isinstance(a, list):
        assert isinstance(b, list)
        return len(a) == len(b) and all(map(identical, a, b))
    if isinstance(a, np.generic):
        assert isinstance(b, np.generic)
        return a.dtype == b.dtype and a.tobytes() == b.tobytes()
    return bool(a == b) or (a != a and b != b)


def leaves(value: object) -> list[Array]:
    """The arrays inside a decoded value."""
    if isinstance(value, np.ndarray):
        return [value]
    if isinstance(value, dict):
        return [a for item in value.values() for a in leaves(item)]
    if isinstance(value, list):
        return [a for item in value for a in leaves(item)]
    return []


SCALARS = st.one_of(
    st.complex_numbers(allow_nan=False),
    st.floats(width=32).map(np.float32),
    st.integers(-(2**63), 2**63 - 1).map(np.int64),
    st.booleans().map(np.bool_),
)


@FAST
@given(PLAIN, st.lists(arrays(), max_size=3), SCALARS)
def test_msgpack_numpy_small_message_path_agrees_with_the_reader(
    value: object, arrays_: list[Array], scalar: object
) -> None:
    message = {"value": value, "arrays": arrays_, "scalar": scalar, "first": arrays_[:1]}
    data = encode(message, MP)
    copied, viewed = c_path(data), reader_path(data)
    assert identical(copied, viewed)
    received = np.frombuffer(data, dtype=np.uint8)
    for array in leaves(copied):
        assert not array.flags.writeable and not np.shares_memory(array, received)
    for array in leaves(viewed):
        assert not array.flags.writeable
        assert array.nbytes == 0 or np.shares_memory(array, received)
    # And decode() takes the C path for this size.
    assert len(data) < COPY_BELOW
    assert identical(decode(data, MP), copied)


FLIPS = st.lists(st.tuples(st.integers(min_value=0), st.integers(0, 255)), min_size=1, max_size=4)
RECORD = np.zeros(2, dtype=[("antenna_name", "<U8"), ("x", "<f8"), ("y", ">i2")])


def corrupt(data: bytes, flips: list[tuple[int, int]]) -> bytes:
    changed = bytearray(data)
    for where, byte in flips:
        changed[where % len(changed)] = byte
    return bytes(changed)


def check_agrees_with_the_c_path(data: bytes, other: Callable[[bytes], object]) -> None:
    """``other(data)`` gives what the C path gives, or raises the same DecodeError; nothing to
    compare when msgpack-python refuses the message (decode() hands it to the reader)."""
    try:
        expected = c_path(data)
    except FellBack:
        return
    except DecodeError as exc:  # the checks of an array map: every path words them alike
        with pytest.raises(DecodeError) as caught:
            other(data)
        assert str(caught.value) == str(exc)
        return
    assert identical(other(data), expected)


@FAST
@given(st.sampled_from(["arrays", "pointing", "plain"]), FLIPS)
def test_msgpack_numpy_paths_agree_on_corrupted_messages(
    which: str, flips: list[tuple[int, int]]
) -> None:
    values = {
        "arrays": {"a": np.arange(6.0).reshape(2, 3), "s": np.array(["ab"]), "l": [1, b"x"]},
        "pointing": RECORD,
        "plain": {"k": [1, 2.5, None, "x", b"y"], "m": {"n": True}},
    }
    check_agrees_with_the_c_path(corrupt(encode(values[which], MP), flips), reader_path)


@FAST
@given(FLIPS)
def test_one_array_messages_with_a_remembered_head_agree_with_the_c_path(
    flips: list[tuple[int, int]],
) -> None:
    clean = encode(RECORD, MP)
    decode(clean, MP)  # its head is now remembered: corrupted data bytes take the fast path
    check_agrees_with_the_c_path(corrupt(clean, flips), lambda data: decode(data, MP))


JSONABLE = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=20,
)


@FAST
@given(JSONABLE)
def test_json_round_trip(value: object) -> None:
    assert decode(encode(value, Encoding.JSON), Encoding.JSON) == value


@FAST
@given(st.text())
def test_utf8_round_trip(text: str) -> None:
    assert decode(encode(text, Encoding.UTF8), Encoding.UTF8) == text


@FAST
@given(st.text(alphabet=st.characters(max_codepoint=127)))
def test_ascii_round_trip(text: str) -> None:
    assert decode(encode(text, Encoding.ASCII), Encoding.ASCII) == text


SAMPLE_MESSAGES = {
    Encoding.MSGPACK_NUMPY: encode(
        {"a": np.arange(6.0).reshape(2, 3), "s": np.array(["ab"]), "l": [1, b"x", "y"]},
        Encoding.MSGPACK_NUMPY,
    ),
    Encoding.NPY: encode(np.zeros(3, dtype=[("n", "U2"), ("x", ">f8")]), Encoding.NPY),
    Encoding.JSON: encode({"a": [1, 2.5, None, "x"]}, Encoding.JSON),
    Encoding.UTF8: encode("ŝkå", Encoding.UTF8),
    Encoding.ASCII: encode("ska", Encoding.ASCII),
}


@FAST
@given(
    st.sampled_from(sorted(SAMPLE_MESSAGES)),
    st.lists(st.tuples(st.integers(min_value=0), st.integers(0, 255)), min_size=1, max_size=4),
)
def test_corrupted_messages_decode_or_raise_decode_error(
    encoding: Encoding, flips: list[tuple[int, int]]
) -> None:
    data = bytearray(SAMPLE_MESSAGES[encoding])
    for where, byte in flips:
        data[where % len(data)] = byte
    # Anything but a DecodeError (a bare numpy or msgpack exception) fails the test, and what
    # is accepted must be what the bytes say (see _check_accepted).
    _decode_or_refuse(bytes(data), encoding)


@FAST
@given(st.sampled_from(list(Encoding)), st.binary(max_size=64))
def test_random_bytes_decode_or_raise_decode_error(encoding: Encoding, data: bytes) -> None:
    _decode_or_refuse(data, encoding)


def _decode_or_refuse(data: bytes, encoding: Encoding) -> None:
    try:
        value = decode(data, encoding)
    except DecodeError:
        return
    _check_accepted(data, encoding, value)


def _check_accepted(data: bytes, encoding: Encoding, value: object) -> None:
    """A decoder that accepts bytes must give what they say: text as Python's own codec reads
    it; anything else a value that encodes to bytes decoding to that same value (a decoder
    handing out garbage objects fails here)."""
    if encoding in (Encoding.UTF8, Encoding.ASCII):
        assert value == data.decode(encoding.value)
        return
    again = decode(encode(value, encoding), encoding)
    _assert_same(again, value)


def _assert_same(a: object, b: object) -> None:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        assert isinstance(a, np.ndarray) and isinstance(b, np.ndarray)
        assert a.dtype == b.dtype and a.shape == b.shape
        assert a.tobytes() == b.tobytes()
    elif isinstance(a, dict) and isinstance(b, dict):
        assert a.keys() == b.keys()
        for key in a:
            _assert_same(a[key], b[key])
    elif isinstance(a, list | tuple) and isinstance(b, list | tuple):
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            _assert_same(x, y)
    elif isinstance(a, float) and isinstance(b, float) and a != a:
        assert b != b  # NaN
    elif hasattr(a, "identical"):
        assert a.identical(b)
    else:
        assert a == b
