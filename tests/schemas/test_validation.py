"""``validate(value, schema)``: one path for every kind of schema the seed API accepts."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pydantic import BaseModel, Field

import dq_sdk.schemas
from dq_sdk import MessageValidationError, WireMessage, validate

# The models' hand-written bases (internal): checking that generated models inherit them.
from dq_sdk._models import Message, Record
from dq_sdk.schemas import (
    GainCalibrationDisplay,
    MetricPayload,
    PointingNumpyArray,
    PointingOffsetDisplay,
    PointingTable,
    StructuredArray,
)

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"


class Reading(BaseModel):
    sensor: str
    value: float = Field(ge=0)


@dataclasses.dataclass
class Sample:
    name: str
    count: int
    scale: float = 1.0


@dataclasses.dataclass
class WithArray:
    data: np.ndarray[Any, Any]
    label: str


def _paths(value: object, schema: object) -> list[str]:
    with pytest.raises(MessageValidationError) as caught:
        validate(value, schema)
    return [issue.path for issue in caught.value.issues]


def test_any_pydantic_model() -> None:
    validate({"sensor": "a", "value": 1.0}, Reading)
    validate(Reading(sensor="a", value=1.0), Reading)
    assert _paths({"value": -1}, Reading) == ["sensor", "value"]


def test_any_dataclass_checks_fields_and_types() -> None:
    validate({"name": "a", "count": 2}, Sample)
    validate(Sample("a", 2), Sample)
    assert _paths({"count": "many", "scale": "big"}, Sample) == ["name", "count", "scale"]
    assert _paths(["a", 2], Sample) == [""]


def test_dataclass_with_types_pydantic_cannot_check_falls_back_to_fields() -> None:
    validate({"data": np.zeros(2), "label": "x"}, WithArray)
    with pytest.raises(MessageValidationError) as caught:
        validate({"label": 3}, WithArray)
    assert {(i.path, i.message) for i in caught.value.issues} == {
        ("data", "Field required"),
        ("label", "wrong type"),
    }


def test_unsupported_schema_is_a_plain_type_error() -> None:
    with pytest.raises(TypeError, match="unsupported schema") as caught:
        validate({}, "PointingNumpyArray")
    assert not isinstance(caught.value, MessageValidationError)
    with pytest.raises(TypeError, match="unsupported schema class"):
        validate({}, int)


def test_a_valid_value_has_no_issues() -> None:
    # validate raises MessageValidationError as soon as there is one issue.
    validate(PointingTable.example().dataset, PointingTable)
    validate(np.zeros(3, PointingNumpyArray.numpy_dtype()), PointingNumpyArray)


def test_error_names_the_schema() -> None:
    with pytest.raises(MessageValidationError) as caught:
        validate(np.zeros(2), StructuredArray[PointingNumpyArray])
    assert caught.value.schema_name == "StructuredArray[PointingNumpyArray]"
    assert "1 schema issue for StructuredArray[PointingNumpyArray]" in str(caught.value)


MESSAGE_CLASSES = [
    PointingNumpyArray,
    StructuredArray[PointingNumpyArray],
    PointingTable,
    MetricPayload,
    PointingOffsetDisplay,
    GainCalibrationDisplay,
]


@pytest.mark.parametrize("model", MESSAGE_CLASSES, ids=lambda m: m.__name__)
def test_every_message_class_declares_encoding_and_schema(model: type[WireMessage]) -> None:
    assert model.encoding.value in {"msgpack_numpy", "xarray", "json"}
    assert model.schema_id.startswith("https://")
    source = SCHEMAS / model.schema_id.rsplit("/", 1)[1]
    assert model.schema_version == json.loads(source.read_text())["x-version"]
    assert callable(model.from_wire)


def test_generated_package_exports() -> None:
    exported = set(dq_sdk.schemas.__all__)
    assert {
        "AmplitudeItem",
        "BandAveragedXCorrItem",
        "MetricPayload",
        "PhaseItem",
        "PointingNumpyArray",
        "PointingTable",
        "SpectralWindow",
        "SpectrumItem",
        "StructuredArray",
        "UVCoverageItem",
    } <= exported
    assert dq_sdk.schemas.__all__ == sorted(dq_sdk.schemas.__all__)
    for name in exported - {"StructuredArray"}:
        model = getattr(dq_sdk.schemas, name)
        assert issubclass(model, Record)
        assert model.model_config.get("frozen") is True
        for field, info in model.model_fields.items():
            assert info.description, f"{name}.{field} has no description"
    for model in (PointingNumpyArray, PointingTable, MetricPayload):
        assert issubclass(model, Message)
