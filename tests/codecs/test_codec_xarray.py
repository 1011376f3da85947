"""xarray: our documented map, identical round trips, lazy optional import."""

from __future__ import annotations

import sys
from typing import Any, Final

import msgpack  # type: ignore[import-untyped]
import numpy as np
import pytest
import xarray as xr

from dq_sdk import DecodeError, EncodeError, MissingDependencyError
from dq_sdk.codecs import Encoding, decode, encode

XR: Final = Encoding.XARRAY


def pointing_table() -> xr.Dataset:
    """The shape of an SDP PointingTable: five dims, float64 data vars, str coords."""
    shape = (3, 4, 2, 1, 2)
    dims = ("time", "antenna", "frequency", "receptor", "angle")
    rng = np.random.default_rng(1)
    data_vars = {
        name: (dims, rng.random(shape))
        for name in ("pointing", "nominal", "weight", "fitted_width", "fitted_height")
    }
    return xr.Dataset(
        data_vars,
        coords={
            "time": 5.0e9 + np.arange(3.0),
            "antenna": np.arange(4, dtype=np.int64),
            "frequency": np.array([1.0e9, 1.1e9]),
            "receptor": ["I"],
            "angle": ["cross-el", "el"],
        },
        attrs={
            "pointing_frame": "xel-el",
            "pointingcentre_coords": [1.5, -0.5],
            "pointingcentre_frame": "icrs",
            "receptor_frame": "stokesI",
            "band_type": "Band2",
            "scan_mode": "5-point",
            "data_model": "PointingTable",
        },
    )


def everything() -> xr.Dataset:
    return xr.Dataset(
        {
            "vis": (("time", "baseline"), (np.arange(6) * (1 + 2j)).reshape(3, 2)),
            "vis64": (("baseline",), np.array([1j, 2], dtype=np.complex64)),
            "lag": (("time",), np.array([1, -2, 3], dtype="m8[ns]"), {"units": "ns"}),
            "flag": (("baseline",), [True, False]),
            "count": (("time",), np.array([1, 2, 3], dtype=np.int32)),
            "scalar": ((), 5.0, {"note": "0-d"}),
            "nothing": (("empty",), np.zeros(0)),
            "label": (("baseline",), np.array(["a-b", "c-d"], dtype=object)),
        },
        coords={
            "time": np.datetime64("2025-01-01T00:00:00", "ns")
            + np.arange(3) * np.timedelta64(1, "s"),
            "baseline": ["A_B", "C_D"],
            "station": ("baseline", np.array(["SKA001", "SKA002"])),  # non-dimension coord
            "weight": ("time", [0.5, 1.0, np.nan], {"source": "model"}),
        },
        attrs={
            "str": "x",
            "int": 3,
            "float": 2.5,
            "bool": True,
            "list": [1, "two", 3.0],
            "array": np.arange(3.0),
            "f64": np.float64(1.25),
            "i32": np.int32(-4),
            "u8": np.uint8(7),
            "nested": {"a": [np.float32(1)]},
        },
    )


@pytest.mark.parametrize("make", [pointing_table, everything])
def test_round_trip_is_identical(make: Any) -> None:
    dataset = make()
    decoded = decode(encode(dataset, XR), XR)
    xr.testing.assert_identical(decoded, dataset)
    assert list(decoded.variables) == list(dataset.variables)


def test_dtypes_and_attr_types_are_kept() -> None:
    dataset = everything()
    decoded = decode(encode(dataset, XR), XR)
    for name in dataset.variables:
        if name != "label":
            assert decoded[name].dtype == dataset[name].dtype, name
    assert decoded["label"].dtype == np.dtype("<U3")  # object of str travels as 'U'
    for key in ("f64", "i32", "u8", "int", "float", "bool"):
        assert type(decoded.attrs[key]) is type(dataset.attrs[key]), key
    assert decoded.attrs["array"].dtype == np.float64
    assert type(decoded.attrs["nested"]["a"][0]) is np.float32


def test_data_variables_are_views_of_the_message() -> None:
    data = encode(pointing_table(), XR)
    decoded = decode(data, XR)
    assert np.shares_memory(decoded["pointing"].values, np.frombuffer(data, dtype=np.uint8))


def test_wire_layout_is_the_documented_map() -> None:
    data = encode(everything(), XR)
    message = msgpack.unpackb(data, raw=False)
    assert list(message) == ["format", "version", "attrs", "coords", "data_vars"]
    assert message["format"] == "dq-sdk/xarray" and message["version"] == 1
    time = message["coords"]["time"]
    assert list(time) == ["dims", "data", "attrs"] and time["dims"] == ["time"]
    assert time["data"][b"type"] == "<M8[ns]" and time["data"][b"shape"] == [3]
    assert message["data_vars"]["lag"]["data"][b"type"] == "<m8[ns]"
    assert list(message["data_vars"]) == list(everything().data_vars)


def test_object_variables_of_non_str_are_refused() -> None:
    dataset = xr.Dataset({"mixed": (("x",), np.array(["a", 1], dtype=object))})
    with pytest.raises(EncodeError, match="data variable 'mixed' has object dtype holding int"):
        encode(dataset, XR)


def test_non_str_names_and_attr_keys_are_refused() -> None:
    with pytest.raises(EncodeError, match="names and dims must be str"):
        encode(xr.Dataset({1: (("x",), [1.0])}), XR)
    with pytest.raises(EncodeError, match="attribute key 1"):
        encode(xr.Dataset(attrs={1: "a"}), XR)


def test_only_datasets_are_encoded() -> None:
    with pytest.raises(EncodeError, match=r"DataArray\.to_dataset"):
        encode(xr.DataArray([1.0], dims="x", name="v"), XR)
    with pytest.raises(EncodeError, match=r"takes an xarray\.Dataset, got dict"):
        encode({"not": "a dataset"}, XR)


def pack(message: object) -> bytes:
    data: bytes = msgpack.packb(message, use_bin_type=True)
    return data


def test_other_messages_are_decode_errors() -> None:
    good = msgpack.unpackb(encode(pointing_table(), XR), raw=False)
    broken: list[tuple[object, str]] = [
        ([1, 2], "not a dq-sdk/xarray message"),
        ({**good, "format": "other"}, "not a dq-sdk/xarray message"),
        ({**good, "version": 2}, "version 2 is not supported"),
        ({**good, "coords": []}, "coords must be a map"),
        ({**good, "attrs": {b"k": 1}}, "attrs must be a map with str keys"),
        ({**good, "data_vars": {"v": {"dims": ["x"], "data": [1.0], "attrs": {}}}}, "not an array"),
        ({**good, "data_vars": {"v": {"dims": ["x"]}}}, "map of dims, data, attrs"),
    ]
    for message, match in broken:
        with pytest.raises(DecodeError, match=match):
            decode(pack(message), XR)


def test_dims_must_match_the_array() -> None:
    message = msgpack.unpackb(encode(pointing_table(), XR), raw=False)
    message["data_vars"]["pointing"]["dims"] = ["time"]
    with pytest.raises(DecodeError, match="1 dims for a 5-d array"):
        decode(encode(message, Encoding.MSGPACK_NUMPY), XR)
    message["data_vars"]["pointing"]["dims"] = ["time", "antenna", "frequency", "receptor", "x"]
    message["data_vars"]["pointing"]["data"] = np.zeros((3, 5, 2, 1, 2))
    with pytest.raises(DecodeError, match="do not form a Dataset"):
        decode(encode(message, Encoding.MSGPACK_NUMPY), XR)


def test_truncated_messages_are_decode_errors() -> None:
    data = encode(pointing_table(), XR)
    for end in range(0, len(data), 97):
        with pytest.raises(DecodeError):
            decode(data[:end], XR)


def test_missing_xarray_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    data = encode(pointing_table(), XR)
    monkeypatch.setitem(sys.modules, "xarray", None)  # import xarray now raises ImportError
    with pytest.raises(MissingDependencyError, match=r"pip install 'dq-sdk\[xarray\]'"):
        encode(pointing_table(), XR)
    with pytest.raises(MissingDependencyError, match="the xarray encoding"):
        decode(data, XR)
