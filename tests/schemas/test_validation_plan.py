"""``validation_plan(schema)``: the one place that decides how a model class is validated, and
the fast paths (producer, batch receive) that follow it instead of deciding again."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any, ClassVar

import numpy as np
import pytest
from hypothesis import given
from pydantic import BaseModel, Field

from dq_sdk import Encoding, MessageValidationError, Producer
from dq_sdk._batches import row_layout
from dq_sdk._models._structured import StructuredRow
from dq_sdk._validation import schema_issues, validation_plan
from dq_sdk.schemas import MetricPayload, PointingNumpyArray, PointingTable, StructuredArray
from dq_sdk.testing.strategies import pointing_arrays, pointing_rows

NOWHERE = "127.0.0.1:9"  # the producers here are never started


@dataclasses.dataclass
class Sample:
    name: str


class Reading(BaseModel):
    value: float = Field(ge=0)


def test_structured_models_are_checked_by_their_row_dtype_alone() -> None:
    dtype = PointingNumpyArray.numpy_dtype()
    assert validation_plan(PointingNumpyArray).row_dtype is dtype
    assert validation_plan(StructuredArray[PointingNumpyArray]).row_dtype is dtype
    for other in (MetricPayload, PointingTable, Reading, Sample):
        assert validation_plan(other).row_dtype is None


def test_a_plan_is_made_once_per_class() -> None:
    assert validation_plan(PointingNumpyArray) is validation_plan(PointingNumpyArray)


def test_a_plan_finds_what_validate_finds() -> None:
    assert validation_plan(Reading).issues({"value": -1.0}) == schema_issues(
        {"value": -1.0}, Reading
    )
    assert validation_plan(Reading).issues({"value": -1.0})
    assert validation_plan(Sample).issues({"name": "x"}) == []
    # A row model takes a dict of a row's fields or an array of any number of rows.
    assert validation_plan(PointingNumpyArray).issues({"antenna_name": "SKA001"})
    assert (
        validation_plan(PointingNumpyArray).issues(np.zeros(3, PointingNumpyArray.numpy_dtype()))
        == []
    )


def test_a_class_that_is_no_schema_is_refused() -> None:
    with pytest.raises(TypeError, match="unsupported schema class int"):
        validation_plan(int)


@given(pointing_rows())
def test_what_passes_at_once_has_no_issues(row: PointingNumpyArray) -> None:
    plan = validation_plan(PointingNumpyArray)
    wire = row.to_wire()
    assert plan.passes_at_once(wire) and plan.issues(wire) == []


@given(pointing_arrays())
def test_an_equal_dtype_of_another_object_is_checked_in_full(
    message: StructuredArray[PointingNumpyArray],
) -> None:
    plan = validation_plan(StructuredArray[PointingNumpyArray])
    assert plan.passes_at_once(message.to_wire())
    copy = message.array.astype(np.dtype(PointingNumpyArray.numpy_dtype().descr))
    assert not plan.passes_at_once(copy)  # not "invalid": validated in full, and valid
    assert plan.issues(copy) == []
    assert not plan.passes_at_once(message.array.reshape(1, -1))
    assert plan.issues(message.array.reshape(1, -1))


def test_nothing_but_a_structured_array_passes_at_once() -> None:
    assert not validation_plan(MetricPayload).passes_at_once({"anything": 1})
    assert not validation_plan(PointingNumpyArray).passes_at_once([1, 2])


def test_batch_receive_reads_rows_of_the_dtype_validation_checks() -> None:
    layout = row_layout(PointingNumpyArray, ())
    assert layout is not None
    assert layout.dtype is validation_plan(PointingNumpyArray).row_dtype


class Power(StructuredRow):
    encoding: ClassVar[Encoding] = Encoding.MSGPACK_NUMPY
    schema_id: ClassVar[str] = "test:plan-power"
    schema_version: ClassVar[str] = "1"
    power: Annotated[float, Field(json_schema_extra={"x-dtype": "<f8"})]


class ClaimsAnotherDtype(Power):
    """Validation checks arrays against numpy_dtype(), which here is not what to_wire builds."""

    @classmethod
    def numpy_dtype(cls) -> np.dtype[np.void]:
        return np.dtype([("power", "<f4")])


def test_rows_packed_at_once_are_validated_as_each_row_would_be() -> None:
    good: list[Any] = [Power(power=1.0), Power(power=2.0)]
    producer = Producer(Power, NOWHERE, topic="t")
    assert producer._encode_all(good, "t") == [producer.encode(row) for row in good]
    bad = [ClaimsAnotherDtype(power=1.0), ClaimsAnotherDtype(power=2.0)]
    strict = Producer(ClaimsAnotherDtype, NOWHERE, topic="t")
    with pytest.raises(MessageValidationError, match="wrong field dtype"):
        strict.encode(bad[0])
    with pytest.raises(MessageValidationError, match="wrong field dtype"):
        strict._encode_all(bad, "t")
    unchecked = Producer(ClaimsAnotherDtype, NOWHERE, topic="t", validate=False)
    assert unchecked._encode_all(bad, "t") == [unchecked.encode(row) for row in bad]
