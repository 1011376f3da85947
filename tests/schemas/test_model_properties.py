"""Properties of every message model, with instances drawn from the schemas.

- every drawn instance validates;
- ``from_wire(decode(encode(m.to_wire())))`` == ``m`` through the model's own encoding (and JSON
  for MetricPayload);
- typed and seed-style (untyped) messages are the same bytes;
- broken instances are refused with the broken field in the error.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from numpy.lib import recfunctions
from pydantic import BaseModel, ValidationError

from dq_sdk import Encoding, MessageValidationError, WireMessage, validate
from dq_sdk.codecs import decode, encode
from dq_sdk.schemas import (
    GainCalibrationDisplay,
    MetricPayload,
    PointingNumpyArray,
    PointingOffsetDisplay,
    PointingTable,
    SpectralWindow,
    StructuredArray,
)
from dq_sdk.testing.strategies import (
    metric_payloads,
    pointing_arrays,
    pointing_rows,
    pointing_tables,
    records,
    spectral_windows,
    strategy_for,
)

Pointings = StructuredArray[PointingNumpyArray]
FAST = settings(max_examples=60, deadline=None)


def round_trip(message: Any, encoding: Encoding | None = None) -> Any:
    encoding = encoding or message.encoding
    return type(message).from_wire(decode(encode(message.to_wire(), encoding), encoding))


@FAST
@given(st.one_of(strategy_for(PointingOffsetDisplay), strategy_for(GainCalibrationDisplay)))
def test_display_messages_validate_and_round_trip_as_json(message: Any) -> None:
    wire = message.to_wire()
    validate(wire, type(message))
    assert round_trip(message) == message
    # "nan" is how NaN travels: a JSON document without NaN or Infinity tokens.
    json.loads(encode(wire, Encoding.JSON), parse_constant=_no_constants)


def _no_constants(token: str) -> None:
    raise AssertionError(f"{token} is not JSON")


@FAST
@given(pointing_rows())
def test_rows_validate_and_round_trip(row: PointingNumpyArray) -> None:
    validate(row.to_wire(), PointingNumpyArray)
    assert round_trip(row) == row


@FAST
@given(pointing_arrays(min_rows=0, max_rows=12))
def test_whole_arrays_validate_and_round_trip(message: StructuredArray[PointingNumpyArray]) -> None:
    validate(message.to_wire(), Pointings)
    validate(message.to_wire(), PointingNumpyArray)  # the seed's way: array against row schema
    assert round_trip(message) == message


@FAST
@given(st.lists(pointing_rows(), max_size=8))
def test_typed_array_is_the_seed_wire_value(rows: list[PointingNumpyArray]) -> None:
    seed_array = np.array([row.row_tuple() for row in rows], dtype=PointingNumpyArray.numpy_dtype())
    typed = Pointings.from_rows(rows)
    assert encode(typed.to_wire(), Encoding.MSGPACK_NUMPY) == encode(
        seed_array, Encoding.MSGPACK_NUMPY
    )
    assert typed.rows() == rows


@settings(max_examples=40, deadline=None)
@given(pointing_tables())
def test_tables_validate_and_round_trip(table: PointingTable) -> None:
    validate(table.to_wire(), PointingTable)
    assert round_trip(table) == table


@FAST
@given(metric_payloads())
def test_metrics_validate_and_round_trip_msgpack_and_json(message: MetricPayload) -> None:
    validate(message.to_wire(), MetricPayload)
    assert round_trip(message) == message
    assert round_trip(message, Encoding.JSON) == message


@FAST
@given(spectral_windows())
def test_nested_records_round_trip_through_their_dump(window: SpectralWindow) -> None:
    assert SpectralWindow.model_validate(window.model_dump()) == window


@pytest.mark.parametrize(
    "model",
    [
        PointingNumpyArray,
        Pointings,
        PointingTable,
        MetricPayload,
        PointingOffsetDisplay,
        GainCalibrationDisplay,
    ],
    ids=str,
)
def test_strategy_for_dispatches_on_the_model(model: type[WireMessage]) -> None:
    @settings(max_examples=5, deadline=None)
    @given(strategy_for(model))
    def drawn(instance: object) -> None:
        assert type(instance) is model

    drawn()


# -- broken instances are refused ------------------------------------------------------------


def _is_valid(model: type[BaseModel], value: object) -> bool:
    try:
        model.model_validate(value)
    except ValidationError:
        return False
    return True


def _paths(value: object, schema: object) -> set[str]:
    with pytest.raises(MessageValidationError) as caught:
        validate(value, schema)
    return {issue.path for issue in caught.value.issues}


@FAST
@given(pointing_arrays(min_rows=1), st.data())
def test_a_field_of_the_wrong_dtype_is_refused(
    message: StructuredArray[PointingNumpyArray], data: st.DataObject
) -> None:
    dtype = message.array.dtype
    names = dtype.names
    assert names is not None
    name = data.draw(st.sampled_from(names), label="field")
    wrong = "U16" if dtype[name].kind == "U" else data.draw(st.sampled_from(["f4", "i8", "U8"]))
    with np.errstate(all="ignore"):  # the values may not fit the wrong dtype; only it matters
        broken = message.array.astype([(n, wrong if n == name else dtype[n]) for n in names])
    assert _paths(broken, Pointings) == {f"dtype.{name}"}


@FAST
@given(pointing_arrays(min_rows=1), st.data())
def test_a_missing_field_is_refused(
    message: StructuredArray[PointingNumpyArray], data: st.DataObject
) -> None:
    names = message.array.dtype.names
    assert names is not None
    name = data.draw(st.sampled_from(names), label="field")
    broken = recfunctions.drop_fields(message.array, [name], usemask=False)
    assert _paths(broken, PointingNumpyArray) == {f"dtype.{name}"}


@FAST
@given(metric_payloads(), st.data())
def test_items_of_another_data_type_are_refused(
    message: MetricPayload, data: st.DataObject
) -> None:
    rule = MetricPayload.items_rule()
    assert rule is not None
    current = rule.items[message.data_type]
    others = sorted(tag for tag, model in rule.items.items() if model is not current)
    tag = data.draw(st.sampled_from(others), label="data_type")
    item = data.draw(records(rule.items[tag]), label="foreign item")
    # Since 1.1.0 amplitude, lag-plot and phase items may all carry their values as `data`
    # (as SKA's producers send them); such an item is also a valid item of the other tags.
    assume(not _is_valid(current, item.model_dump()))
    wire = message.to_wire()
    wire["data"] = [*wire["data"], item.model_dump()]
    paths = _paths(wire, MetricPayload)
    index = len(wire["data"]) - 1
    assert paths and all(path.startswith(f"data[{index}].") for path in paths)


@FAST
@given(pointing_tables(), st.data())
def test_a_missing_required_variable_or_attr_is_refused(
    table: PointingTable, data: st.DataObject
) -> None:
    layout = PointingTable.xarray_layout()
    required = [f"data_vars.{n}" for n, spec in layout.data_vars.items() if not spec.optional]
    assert layout.attrs_model is not None
    required += [
        f"attrs.{n}" for n, i in layout.attrs_model.model_fields.items() if i.is_required()
    ]
    path = data.draw(st.sampled_from(required), label="dropped")
    kind, name = path.split(".")
    dataset = table.dataset.copy()
    if kind == "attrs":
        del dataset.attrs[name]
    else:
        dataset = dataset.drop_vars(name)
    assert _paths(dataset, PointingTable) == {path}
