"""PointingTable: an xarray Dataset checked with xradio against the schema's x-xarray layout."""

from __future__ import annotations

import sys
from typing import Any, Literal

import numpy as np
import pytest
import xarray as xr
from xradio.schema import xarray_dataset_schema
from xradio.schema.typing import Attr, Coord, Data

from dq_sdk import Encoding, MessageValidationError, MissingDependencyError, validate

# The xradio schema builder (internal): models cache its result, so a missing xradio shows here.
from dq_sdk._models._xradio import layout_dataset_schema
from dq_sdk.codecs import decode, encode
from dq_sdk.schemas import PointingTable, PointingTableAttrs

REQUIRED_VARS = {"pointing", "nominal", "weight"}
OPTIONAL_VARS = {
    "expected_width",
    "fitted_width",
    "fitted_width_std",
    "fitted_height",
    "fitted_height_std",
}


@pytest.fixture
def dataset() -> xr.Dataset:
    return PointingTable.example(antenna=4, time=3).dataset


def _issues(value: object, schema: object = PointingTable) -> dict[str, str]:
    with pytest.raises(MessageValidationError) as caught:
        validate(value, schema)
    return {issue.path: issue.message for issue in caught.value.issues}


def test_example_is_a_realistic_valid_table(dataset: xr.Dataset) -> None:
    assert dict(dataset.sizes) == {
        "time": 3,
        "antenna": 4,
        "frequency": 2,
        "receptor": 1,
        "angle": 2,
    }
    assert list(dataset.angle.values) == ["cross-el", "el"]
    assert list(dataset.antenna.values) == [0, 1, 2, 3]
    assert dataset.antenna.dtype == np.int64
    assert set(dataset.data_vars) == REQUIRED_VARS | OPTIONAL_VARS
    assert dataset.attrs["data_model"] == "PointingTable"
    assert np.all(np.abs(dataset.pointing.values) < 1e-3)  # radians, around the schema example
    validate(dataset, PointingTable)


def test_class_vars_and_wire_value(dataset: xr.Dataset) -> None:
    assert PointingTable.encoding is Encoding.XARRAY
    assert PointingTable.schema_id.endswith("/pointing_table.json")
    table = PointingTable(dataset=dataset)
    assert table.to_wire() is dataset
    back = PointingTable.from_wire(
        decode(encode(table.to_wire(), Encoding.XARRAY), Encoding.XARRAY)
    )
    assert back == table


def test_typed_attrs_view(dataset: xr.Dataset) -> None:
    attrs = PointingTable(dataset=dataset).attrs
    assert isinstance(attrs, PointingTableAttrs)
    assert attrs.pointing_frame == "xel-el"
    assert attrs.pointingcentre_frame == "icrs"
    assert attrs.data_model == "PointingTable"


def test_optional_variables_and_attrs_may_be_absent(dataset: xr.Dataset) -> None:
    lean = dataset.drop_vars(sorted(OPTIONAL_VARS))
    lean.attrs = {k: v for k, v in lean.attrs.items() if k not in {"band_type", "scan_mode"}}
    table = PointingTable.from_wire(lean)
    assert table.attrs.band_type is None
    minimal = PointingTable.example(include_optional=False)
    assert set(minimal.dataset.data_vars) == REQUIRED_VARS


def test_extra_variables_coords_and_attrs_are_accepted(dataset: xr.Dataset) -> None:
    extra = dataset.assign(residual=dataset.pointing * 0).assign_attrs(note="x")
    extra = extra.assign_coords(interval=("time", np.ones(3)))
    message = PointingTable.from_wire(extra)
    # Accepted and kept: the extras reach the reader, through the wire and back too.
    wire = decode(encode(extra, Encoding.XARRAY), Encoding.XARRAY)
    for kept in (message.dataset, PointingTable.from_wire(wire).dataset):
        assert "residual" in kept.data_vars
        assert kept.attrs["note"] == "x"
        np.testing.assert_array_equal(kept.coords["interval"].values, np.ones(3))


def test_every_issue_is_listed_with_its_path(dataset: xr.Dataset) -> None:
    broken = dataset.drop_vars("weight").transpose("antenna", ...)
    broken["pointing"] = broken.pointing.astype(np.float32)
    broken = broken.assign_coords(antenna=broken.antenna.astype(np.int32))
    broken.attrs = {**broken.attrs, "pointing_frame": 3, "data_model": "GainTable"}
    del broken.attrs["receptor_frame"]
    issues = _issues(broken)
    assert {
        "data_vars.weight",
        "data_vars.pointing.dtype",
        "data_vars.nominal.dims",
        "coords.antenna.dtype",
        "attrs.pointing_frame",
        "attrs.data_model",
        "attrs.receptor_frame",
    } <= issues.keys()
    assert "wrong order" in issues["data_vars.nominal.dims"]
    assert "missing" in issues["data_vars.weight"]


def test_constructor_and_from_wire_raise_the_same_error(dataset: xr.Dataset) -> None:
    broken = dataset.drop_vars("pointing")
    with pytest.raises(MessageValidationError) as direct:
        PointingTable(dataset=broken)
    with pytest.raises(MessageValidationError) as wire:
        PointingTable.from_wire(broken)
    assert direct.value.issues == wire.value.issues
    assert [issue.path for issue in wire.value.issues] == ["data_vars.pointing"]


def test_a_non_dataset_is_refused() -> None:
    assert _issues({"pointing": [1.0]}) == {"": "expected an xarray.Dataset"}
    with pytest.raises(ValueError, match=r"expected an xarray\.Dataset"):
        PointingTable(dataset={"pointing": [1.0]})  # type: ignore[arg-type]


def test_equality_is_by_content(dataset: xr.Dataset) -> None:
    one = PointingTable(dataset=dataset)
    assert one == PointingTable(dataset=dataset.copy(deep=True))
    assert hash(one) == hash(PointingTable(dataset=dataset.copy(deep=True)))
    assert one != PointingTable(dataset=dataset.assign(weight=dataset.weight * 2))


def test_seed_style_xradio_schemas(dataset: xr.Dataset) -> None:
    """The seed takes an xradio DatasetSchema or an @xarray_dataset_schema dataclass."""

    @xarray_dataset_schema
    class Minimal:
        time: Coord[Literal["time"], np.float64]
        antenna: Coord[Literal["antenna"], np.int64]
        frequency: Coord[Literal["frequency"], np.float64]
        receptor: Coord[Literal["receptor"], str]
        angle: Coord[Literal["angle"], str]
        pointing: Data[
            tuple[
                Literal["time"],
                Literal["antenna"],
                Literal["frequency"],
                Literal["receptor"],
                Literal["angle"],
            ],
            np.float64,
        ]
        pointing_frame: Attr[str]

    validate(dataset, Minimal)
    validate(dataset, PointingTable.xradio_schema())
    issues = _issues(dataset.drop_vars("pointing").assign_attrs(pointing_frame=1), Minimal)
    assert issues.keys() == {"data_vars.pointing", "attrs.pointing_frame"}
    assert _issues(dataset.drop_vars("nominal"), PointingTable.xradio_schema()) == {
        "data_vars.nominal": "Required data variable 'nominal' is missing (have "
        "pointing,weight,expected_width,fitted_width,fitted_width_std,fitted_height,"
        "fitted_height_std)!"
    }


def test_missing_xradio_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "xradio.schema", None)
    monkeypatch.setitem(sys.modules, "xradio", None)
    with pytest.raises(MissingDependencyError, match=r"dq-sdk\[xradio\]"):
        layout_dataset_schema("PointingTable", PointingTable.xarray_layout())


def test_unknown_example_dimension_is_an_error() -> None:
    sizes: dict[str, Any] = {"baseline": 3}
    with pytest.raises(TypeError, match="unknown dimension"):
        PointingTable.example(**sizes)
