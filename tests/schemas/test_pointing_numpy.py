"""PointingNumpyArray rows and StructuredArray[PointingNumpyArray] whole-array messages."""

from __future__ import annotations

import math
import timeit
from typing import Any

import msgpack  # type: ignore[import-untyped]
import msgpack_numpy
import numpy as np
import pytest
from numpy.lib import recfunctions

from dq_sdk import Encoding, MessageValidationError, WireMessage, validate
from dq_sdk.codecs import decode, encode
from dq_sdk.schemas import PointingNumpyArray, StructuredArray
from dq_sdk.schemas.numpy_structured_pointing import PointingNumpyArray as SeedImport

# The seed document's schema example, verbatim.
POINTING_DATA: dict[str, Any] = {
    "antenna_name": "MKT001",
    "last_scan_index": 9.0,
    "xel_offset": 3.5,
    "xel_offset_std": 0.1,
    "el_offset": 2.8,
    "el_offset_std": 0.1,
    "expected_width_h": 1.1,
    "expected_width_v": 1.1,
    "fitted_width_h": 1.3,
    "fitted_width_h_std": 0.1,
    "fitted_width_v": 1.2,
    "fitted_width_v_std": 0.1,
    "fitted_height": 100.0,
    "fitted_height_std": 1.2,
}

SPEC_DTYPE = np.dtype([("antenna_name", "U8")] + [(name, "f8") for name in list(POINTING_DATA)[1:]])
Pointings = StructuredArray[PointingNumpyArray]


def _rows(n: int) -> list[PointingNumpyArray]:
    return [
        PointingNumpyArray(**{**POINTING_DATA, "antenna_name": f"SKA{i:03d}", "xel_offset": i})
        for i in range(n)
    ]


def test_seed_example_builds_the_spec_dtype_and_validates() -> None:
    array = PointingNumpyArray(**POINTING_DATA).to_numpy()
    assert array.dtype == SPEC_DTYPE
    assert array.dtype.names == tuple(POINTING_DATA)
    assert array.shape == (1,)
    assert array[0]["antenna_name"] == "MKT001"
    validate(array, PointingNumpyArray)
    assert SeedImport is PointingNumpyArray


def test_class_vars_name_encoding_and_schema() -> None:
    for model in (PointingNumpyArray, Pointings):
        assert model.encoding is Encoding.MSGPACK_NUMPY
        assert model.schema_id.endswith("/numpy_structured_pointing.json")
        assert model.schema_version == "1.0.0"
    assert isinstance(PointingNumpyArray(**POINTING_DATA), WireMessage)
    assert isinstance(Pointings.from_rows(_rows(2)), WireMessage)


def test_nan_fit_is_valid_and_round_trips() -> None:
    row = PointingNumpyArray(**{**POINTING_DATA, "fitted_height": math.nan})
    back = PointingNumpyArray.from_wire(decode(encode(row.to_wire(), row.encoding), row.encoding))
    assert math.isnan(back.fitted_height)
    assert back == row
    assert hash(back) == hash(row)


def test_row_is_frozen_and_name_limited_to_8_characters() -> None:
    row = PointingNumpyArray(**POINTING_DATA)
    with pytest.raises(ValueError, match="frozen"):
        row.antenna_name = "X"  # type: ignore[misc]
    with pytest.raises(ValueError, match="at most 8 characters"):
        PointingNumpyArray(**{**POINTING_DATA, "antenna_name": "TOOLONG09"})


def test_row_from_wire_needs_exactly_one_row() -> None:
    with pytest.raises(MessageValidationError) as caught:
        PointingNumpyArray.from_wire(Pointings.from_rows(_rows(3)).array)
    [issue] = caught.value.issues
    assert issue.path == "shape"
    assert "StructuredArray[PointingNumpyArray]" in issue.message
    assert issue.found == (3,)


def test_whole_array_container() -> None:
    rows = _rows(4)
    message = Pointings.from_rows(rows)
    assert len(message) == 4
    assert list(message) == rows
    assert message.rows() == rows
    assert message[2] == rows[2]
    assert message.array.dtype == SPEC_DTYPE
    assert not message.array.flags.writeable
    assert Pointings(message.array.copy()) == message
    assert Pointings.from_rows(rows[:3]) != message
    assert type(message).__name__ == "StructuredArray[PointingNumpyArray]"
    assert StructuredArray[PointingNumpyArray] is Pointings  # one class per row model


def test_container_keeps_the_callers_array_writeable() -> None:
    array = Pointings.from_rows(_rows(2)).array.copy()
    Pointings(array)
    assert array.flags.writeable


def test_unparameterised_container_cannot_be_built() -> None:
    with pytest.raises(TypeError, match=r"StructuredArray\[RowModel\]"):
        StructuredArray(np.zeros(1, SPEC_DTYPE))


def test_typed_and_seed_messages_are_the_same_bytes() -> None:
    rows = _rows(5)
    seed_array = np.array([row.row_tuple() for row in rows], dtype=SPEC_DTYPE)
    seed_bytes = encode(seed_array, Encoding.MSGPACK_NUMPY)
    assert encode(Pointings.from_rows(rows).to_wire(), Pointings.encoding) == seed_bytes
    # and with what the msgpack-numpy package itself writes, so old SKA consumers read it.
    assert msgpack.unpackb(seed_bytes, object_hook=msgpack_numpy.decode).tolist() == (
        seed_array.tolist()
    )
    received = Pointings.from_wire(decode(seed_bytes, Encoding.MSGPACK_NUMPY))
    assert received.rows() == rows
    one = PointingNumpyArray.from_wire(
        decode(encode(rows[0].to_numpy(), Encoding.MSGPACK_NUMPY), Encoding.MSGPACK_NUMPY)
    )
    assert one == rows[0]


def _issues(value: object, schema: object) -> dict[str, str]:
    with pytest.raises(MessageValidationError) as caught:
        validate(value, schema)
    assert isinstance(caught.value, TypeError)  # the seed raised TypeError
    return {issue.path: issue.message for issue in caught.value.issues}


def test_every_dtype_problem_is_listed_with_its_field() -> None:
    array = Pointings.from_rows(_rows(3)).array
    broken = recfunctions.drop_fields(array, ["el_offset"], usemask=False)
    names = broken.dtype.names
    assert names is not None
    broken = broken.astype(
        [("antenna_name", "U6"), ("last_scan_index", "i8")]
        + [(n, "f8") for n in names[2:] if n != "xel_offset_std"]
        + [("xel_offset_std", "f4")]
    )
    broken = recfunctions.append_fields(broken, "extra", np.zeros(3), usemask=False)
    issues = _issues(broken, Pointings)
    assert issues == {
        "dtype.antenna_name": "wrong field dtype",
        "dtype.last_scan_index": "wrong field dtype",
        "dtype.xel_offset_std": "wrong field dtype",
        "dtype.el_offset": "missing field",
        "dtype.extra": "unexpected field",
    }


def test_field_order_shape_and_type_problems() -> None:
    array = Pointings.from_rows(_rows(2)).array
    reordered = array[list(reversed(array.dtype.names or ()))]
    assert _issues(np.ascontiguousarray(reordered), PointingNumpyArray) == {
        "dtype": "fields out of order"
    }
    assert _issues(array.reshape(1, 2), Pointings) == {
        "shape": "expected a 1-d array (one row per item)"
    }
    assert _issues([1, 2], PointingNumpyArray) == {"": "expected a numpy structured array"}
    assert _issues(np.zeros(3), Pointings) == {"dtype": "not a structured dtype"}


def test_seed_style_validation_takes_the_whole_array_against_the_row_schema() -> None:
    validate(Pointings.from_rows(_rows(7)).array, PointingNumpyArray)
    validate(PointingNumpyArray(**POINTING_DATA), PointingNumpyArray)
    validate(POINTING_DATA, PointingNumpyArray)
    assert _issues({**POINTING_DATA, "xel_offset": "far"}, PointingNumpyArray) == {
        "xel_offset": "Input should be a valid number, unable to parse string as a number"
    }


def test_validating_10000_rows_is_constant_time() -> None:
    big = Pointings.from_rows(_rows(1)).array.repeat(10_000)
    best = min(timeit.repeat(lambda: Pointings.from_wire(big), number=200, repeat=5)) / 200
    assert best < 50e-6, f"{best * 1e6:.1f} µs per 10,000-row validation"
