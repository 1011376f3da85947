"""Producer.encode: the fast paths for structured rows give the same bytes and let nothing
invalid through."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

import msgpack_numpy
import numpy as np
import pytest
from pydantic import Field

from dq_sdk import Encoding, MessageValidationError, Producer

# The row models' internal base: row models of the tests' own, as codegen would write them.
from dq_sdk._models._structured import StructuredNDArray, StructuredRow
from dq_sdk.codecs import decode, encode
from dq_sdk.schemas import PointingNumpyArray, StructuredArray

NOWHERE = "127.0.0.1:9"  # the producers here are never started

ROW: dict[str, Any] = {
    "antenna_name": "SKA001",
    **{name: float(i) for i, name in enumerate(list(PointingNumpyArray.model_fields)[1:])},
    "fitted_height": float("nan"),
}


class OneField(StructuredRow):
    encoding: ClassVar[Encoding] = Encoding.MSGPACK_NUMPY
    schema_id: ClassVar[str] = "test:one-field"
    schema_version: ClassVar[str] = "1"
    power: Annotated[float, Field(json_schema_extra={"x-dtype": ">f4"})]


class TwoRows(PointingNumpyArray):
    """A row model whose to_wire is wrong: the producer must still refuse it."""

    def to_wire(self) -> StructuredNDArray:
        return np.concatenate([self.to_numpy(), self.to_numpy()]).reshape(1, 2)


def test_a_row_encodes_as_msgpack_numpy_writes_its_array() -> None:
    row = PointingNumpyArray(**ROW)
    data = Producer(PointingNumpyArray, NOWHERE, topic="t").encode(row)
    assert data == msgpack_numpy.packb(row.to_numpy()) == encode(row.to_wire(), row.encoding)
    decoded = PointingNumpyArray.from_wire(decode(data, row.encoding))
    assert decoded == row
    assert row.to_numpy().dtype is PointingNumpyArray.numpy_dtype()
    values = dict(zip(PointingNumpyArray.model_fields, row.row_tuple(), strict=True))
    height = values.pop("fitted_height")
    assert height != height  # NaN
    assert values == {k: v for k, v in ROW.items() if k != "fitted_height"}


def test_a_one_field_row_is_a_one_tuple() -> None:
    row = OneField(power=1.5)
    assert row.row_tuple() == (1.5,)
    array = row.to_numpy()
    assert array.dtype == np.dtype([("power", ">f4")]) and array["power"][0] == 1.5
    data = Producer(OneField, NOWHERE, topic="t").encode(row)
    assert OneField.from_wire(decode(data, Encoding.MSGPACK_NUMPY)) == row


def test_a_wrong_wire_value_is_still_refused() -> None:
    producer = Producer(TwoRows, NOWHERE, topic="t")
    with pytest.raises(MessageValidationError, match="1-d"):
        producer.encode(TwoRows(**ROW))


def test_an_equal_dtype_that_is_another_object_is_validated_in_full() -> None:
    dtype = np.dtype(PointingNumpyArray.numpy_dtype().descr)  # equal, not the same object
    assert dtype == PointingNumpyArray.numpy_dtype()
    assert dtype is not PointingNumpyArray.numpy_dtype()
    array = np.zeros(3, dtype=dtype)
    message = StructuredArray[PointingNumpyArray](array)
    producer = Producer(StructuredArray[PointingNumpyArray], NOWHERE, topic="t")
    assert producer.encode(message) == msgpack_numpy.packb(array)
    # A wire value of another dtype that slipped past construction is caught at send.
    bad = StructuredArray[PointingNumpyArray](np.zeros(3, dtype=PointingNumpyArray.numpy_dtype()))
    object.__setattr__(bad, "_array", np.zeros(3, dtype=[("antenna_name", "U8")]))
    with pytest.raises(MessageValidationError, match="missing field"):
        producer.encode(bad)
    # validate=False skips every check, as before.
    unchecked = Producer(StructuredArray[PointingNumpyArray], NOWHERE, topic="t", validate=False)
    assert unchecked.encode(bad) == msgpack_numpy.packb(np.zeros(3, dtype=[("antenna_name", "U8")]))


@pytest.mark.parametrize("rows", [0, 1, 7])
def test_arrays_of_one_dtype_and_many_shapes_encode_exactly(rows: int) -> None:
    # The packed map head is cached per dtype and shape: every shape gets its own.
    for n in (rows, rows + 1, rows):
        array = np.zeros(n, dtype=PointingNumpyArray.numpy_dtype())
        array["antenna_name"] = "SKA"
        assert encode(array, Encoding.MSGPACK_NUMPY) == msgpack_numpy.packb(array)


def rows(count: int) -> list[PointingNumpyArray]:
    return [
        PointingNumpyArray(**{**ROW, "antenna_name": f"SKA{i:03d}", "xel_offset": i * 0.25})
        for i in range(count)
    ]


@pytest.mark.parametrize("model", [PointingNumpyArray, OneField])
def test_a_batch_of_rows_encodes_as_each_row_would(model: type[StructuredRow]) -> None:
    producer = Producer(model, NOWHERE, topic="t")
    if model is OneField:
        batch: list[Any] = [OneField(power=p) for p in (1.5, -0.0, float("nan"))]
    else:
        batch = rows(50)
    assert model.wire_rows(batch) is not None  # the one-array path is taken
    assert producer._encode_all(batch, "t") == [producer.encode(row) for row in batch]


def test_rows_whose_wire_value_is_their_own_are_encoded_one_by_one() -> None:
    assert TwoRows.wire_rows([TwoRows(**ROW)] * 2) is None  # to_wire overridden
    mixed: list[Any] = [*rows(2), TwoRows(**ROW)]  # a subclass among the rows
    assert PointingNumpyArray.wire_rows(mixed) is None
    producer = Producer(PointingNumpyArray, NOWHERE, topic="t")
    assert producer._encode_all(mixed[:2], "t") == [producer.encode(r) for r in mixed[:2]]
    with pytest.raises(MessageValidationError, match="1-d"):
        Producer(TwoRows, NOWHERE, topic="t")._encode_all([TwoRows(**ROW)] * 2, "t")
    with pytest.raises(TypeError, match="cannot send OneField"):
        producer._encode_all([*rows(1), OneField(power=1.0)], "t")  # type: ignore[list-item]
