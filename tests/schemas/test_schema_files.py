"""The JSON Schema files themselves: identity, version, descriptions, extension keywords."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from dq_sdk import Encoding

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"
FILES = sorted(SCHEMAS.glob("*.json"))


def _objects(node: Any, path: str = "") -> list[tuple[str, dict[str, Any]]]:
    """Every object schema with ``properties`` in ``node``, with where it is."""
    found = []
    if isinstance(node, dict):
        if "properties" in node:
            found.append((path, node))
        for key, value in node.items():
            if not key.startswith("x-"):
                found += _objects(value, f"{path}/{key}")
    return found


def test_the_families_are_there() -> None:
    assert [p.name for p in FILES] == [
        "gain_calibration_display.json",
        "numpy_structured_pointing.json",
        "pointing_offset_display.json",
        "pointing_table.json",
        "signal_display_metrics.json",
    ]


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_identity_version_and_encoding(path: Path) -> None:
    schema = json.loads(path.read_text())
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"].endswith(f"/{path.name}")
    major, minor, patch = schema["x-version"].split(".")
    assert all(part.isdigit() for part in (major, minor, patch))
    Encoding(schema["x-encoding"])
    assert schema["description"]


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_every_field_is_described_and_dtypes_are_numpy(path: Path) -> None:
    schema = json.loads(path.read_text())
    for where, obj in _objects(schema):
        assert obj.get("description"), f"{where} has no description"
        for name, prop in obj["properties"].items():
            assert prop.get("description"), f"{where}/{name} has no description"
            if "x-dtype" in prop:
                np.dtype(prop["x-dtype"])


def test_xarray_layout_is_complete() -> None:
    layout = json.loads((SCHEMAS / "pointing_table.json").read_text())["x-xarray"]
    assert set(layout["coords"]) == set(layout["dims"])  # xradio needs a coord per dim
    for kind in ("coords", "data_vars"):
        for name, spec in layout[kind].items():
            assert spec["description"], f"{kind}.{name}"
            assert set(spec["dims"]) <= set(layout["dims"])
            np.dtype(spec["dtype"])
