"""json: UTF-8 JSON, numpy values as lists and numbers, NaN kept, errors with a path."""

from __future__ import annotations

import json
import math
from typing import Final

import numpy as np
import pytest

from dq_sdk import DecodeError, EncodeError
from dq_sdk.codecs import Encoding, decode, encode

JSON: Final = Encoding.JSON


def test_python_values_round_trip() -> None:
    value = {"s": "ŝkå", "i": -3, "big": 2**70, "f": 0.1, "b": True, "n": None, "l": [1, [2, {}]]}
    data = encode(value, JSON)
    assert json.loads(data) == value
    assert decode(data, JSON) == value


def test_output_is_compact_utf8_not_escaped() -> None:
    assert encode({"a": ["é", 1]}, JSON) == '{"a":["é",1]}'.encode()


def test_numpy_arrays_become_lists_and_scalars_numbers() -> None:
    value = {
        "power": np.array([1.5, 2.5]),
        "grid": np.arange(4, dtype=np.int16).reshape(2, 2),
        "flags": np.array([True, False]),
        "names": np.array(["a", "bc"]),
        "count": np.int64(3),
        "gain": np.float32(0.5),
        "ok": np.bool_(True),
    }
    decoded = decode(encode(value, JSON), JSON)
    assert decoded == {
        "power": [1.5, 2.5],
        "grid": [[0, 1], [2, 3]],
        "flags": [True, False],
        "names": ["a", "bc"],
        "count": 3,
        "gain": 0.5,
        "ok": True,
    }
    assert isinstance(decoded, dict) and type(decoded["count"]) is int


def test_nan_and_infinity_are_written_as_python_json_writes_them() -> None:
    data = encode([math.nan, math.inf, -math.inf, np.float32("nan")], JSON)
    assert data == b"[NaN,Infinity,-Infinity,NaN]"
    decoded = decode(data, JSON)
    assert isinstance(decoded, list)
    assert math.isnan(decoded[0]) and decoded[1:3] == [math.inf, -math.inf]


@pytest.mark.parametrize(
    ("value", "where", "why"),
    [
        ({"a": {"b": [1, {2}]}}, r"a\.b\[1\]", "set is not JSON serialisable"),
        ([b"raw"], r"\[0\]", "bytes"),
        ({"z": np.array([1j])}, "z", "dtype complex128 has no JSON form"),
        ({"t": np.array(["2025-01-01"], dtype="M8[D]")}, "t", "datetime64"),
        ({"k": {(1, 2): "tuple key"}}, r"k\[\(1, 2\)\]", "a key of type tuple"),
        (object(), "<root>", "object is not JSON serialisable"),
    ],
)
def test_unserialisable_values_name_type_and_path(value: object, where: str, why: str) -> None:
    with pytest.raises(EncodeError, match=f"at {where}: .*{why}"):
        encode(value, JSON)


def test_a_list_that_holds_itself_is_refused() -> None:
    loop: list[object] = []
    loop.append(loop)
    with pytest.raises(EncodeError, match="contains itself"):
        encode({"x": loop}, JSON)


def test_lone_surrogates_are_refused() -> None:
    with pytest.raises(EncodeError, match="json encoding failed"):
        encode("\ud800", JSON)


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (b'{"a": ', "line 1 column 7"),
        (b"{'a': 1}", "property name"),
        (b"[1] [2]", "Extra data"),
        (b"", "Expecting value"),
        (b'"\xff"', "not UTF-8 at byte 1"),
        ('{"a": 1}'.encode("utf-16"), "not UTF-8"),
        (b"\xef\xbb\xbf{}", "BOM"),
        (b"[" * 100_000 + b"]" * 100_000, "json decoding"),
        (b"1" * 5000, "json decoding"),  # over Python's int digit limit
    ],
)
def test_invalid_json_is_a_decode_error(data: bytes, match: str) -> None:
    with pytest.raises(DecodeError, match=match):
        decode(data, JSON)
