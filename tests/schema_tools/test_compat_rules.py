"""The compatibility rules, one change at a time: kind, JSON path and direction of each break."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from dq_sdk import SchemaToolError
from dq_sdk.schema_tools import (
    BreakingChange,
    CompatMode,
    CompatPolicy,
    check_compatibility,
    diff_schemas,
)

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"
DATA = Path(__file__).parent / "data"


def real(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((SCHEMAS / f"{name}.json").read_text())
    return loaded


def record(closed: bool, **properties: Any) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "required": sorted(properties),
    }
    if closed:
        schema["additionalProperties"] = False
    return schema


def kinds(changes: list[BreakingChange]) -> list[tuple[str, str, str]]:
    return [(c.direction, c.kind, c.path) for c in changes]


STRING = {"type": "string"}


def test_identical_and_description_only_changes_are_compatible_in_every_mode() -> None:
    for name in ("numpy_structured_pointing", "pointing_table", "signal_display_metrics"):
        old = real(name)
        new = copy.deepcopy(old)
        new["description"] = "reworded"
        new["x-version"] = "1.0.1"
        for prop in new.get("properties", {}).values():
            prop["description"] = "reworded too"
        assert check_compatibility(old, new, mode="full") == []
        assert check_compatibility(old, new, mode="full", policy="strict") == []


def test_property_removed_from_closed_model_breaks_backward() -> None:
    old = record(True, a=STRING, b=STRING)
    new = record(True, a=STRING)
    changes = check_compatibility(old, new)
    assert kinds(changes) == [
        ("backward", "PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL", "#/properties/b")
    ]
    assert "'b' removed" in changes[0].reason
    assert (changes[0].reader, changes[0].writer) == ("new", "old")


def test_property_removed_from_open_model_is_backward_compatible_not_forward() -> None:
    old = record(False, a=STRING, b=STRING)
    new = record(False, a=STRING)
    assert check_compatibility(old, new) == []
    forward = check_compatibility(old, new, mode=CompatMode.FORWARD)
    assert kinds(forward) == [("forward", "REQUIRED_ATTRIBUTE_ADDED", "#/required")]
    assert "'b'" in forward[0].reason


def test_adding_a_property_to_an_open_model_depends_on_the_policy() -> None:
    old = record(False, a=STRING)
    new = copy.deepcopy(old)
    new["properties"]["b"] = {"type": "integer"}
    assert check_compatibility(old, new, policy=CompatPolicy.LENIENT) == []
    strict = check_compatibility(old, new, policy=CompatPolicy.STRICT)
    assert kinds(strict) == [("backward", "PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL", "#/properties/b")]
    # A property with the empty schema is compatible even under Schema Registry's strict rule.
    anything = copy.deepcopy(old)
    anything["properties"]["b"] = {}
    assert check_compatibility(old, anything, policy="strict") == []


def test_adding_an_optional_property_to_a_closed_model_breaks_forward_only() -> None:
    old = record(True, a=STRING)
    new = copy.deepcopy(old)
    new["properties"]["b"] = STRING
    assert check_compatibility(old, new, policy="strict") == []
    assert kinds(check_compatibility(old, new, mode="forward")) == [
        ("forward", "PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL", "#/properties/b")
    ]


def test_required_added_breaks_unless_it_has_a_default() -> None:
    old: dict[str, Any] = {
        "type": "object",
        "properties": {"a": STRING, "b": STRING},
        "required": ["a"],
    }
    new = copy.deepcopy(old)
    new["required"] = ["a", "b"]
    changes = check_compatibility(old, new)
    assert kinds(changes) == [("backward", "REQUIRED_ATTRIBUTE_ADDED", "#/required")]
    new["properties"]["b"] = {"type": "string", "default": "x"}
    assert check_compatibility(old, new) == []


@pytest.mark.parametrize(
    ("old_type", "new_type", "backward", "forward"),
    [
        ("number", "integer", "TYPE_NARROWED", None),
        ("integer", "number", None, "TYPE_NARROWED"),
        ("string", "integer", "TYPE_CHANGED", "TYPE_CHANGED"),
        (["string", "null"], "string", "TYPE_NARROWED", None),
    ],
)
def test_type_changes(
    old_type: object, new_type: object, backward: str | None, forward: str | None
) -> None:
    old = record(True, v={"type": old_type})
    new = record(True, v={"type": new_type})
    found = {c.direction: c.kind for c in check_compatibility(old, new, mode="full")}
    assert found.get("backward") == backward
    assert found.get("forward") == forward
    for change in check_compatibility(old, new, mode="full"):
        assert change.path == "#/properties/v/type"


def test_enum_value_removed_names_the_value_and_path() -> None:
    old = real("signal_display_metrics")
    new = copy.deepcopy(old)
    new["properties"]["data_type"]["enum"].remove("uvcoverage")
    del new["x-items-by"]["items"]["uvcoverage"]
    changes = check_compatibility(old, new)
    assert kinds(changes) == [
        ("backward", "ENUM_ARRAY_NARROWED", "#/properties/data_type/enum"),
        ("backward", "ITEMS_BY_TAG_REMOVED", "#/x-items-by/items/uvcoverage"),
    ]
    assert '"uvcoverage" removed' in changes[0].reason
    # Adding an enum value is the mirror image: only old readers (forward) break.
    assert check_compatibility(new, old) == []


@pytest.mark.parametrize(
    ("keyword", "old_value", "new_value", "kind"),
    [
        ("maxLength", 8, 4, "MAX_LENGTH_DECREASED"),
        ("minLength", 1, 2, "MIN_LENGTH_INCREASED"),
        ("pattern", None, "^S", "PATTERN_ADDED"),
        ("maximum", None, 10, "MAXIMUM_ADDED"),
        ("minimum", 0, 1, "MINIMUM_INCREASED"),
        ("format", None, "date-time", "FORMAT_ADDED"),
    ],
)
def test_tightened_constraints_break_backward(
    keyword: str, old_value: object, new_value: object, kind: str
) -> None:
    base = {
        "type": "string" if "Length" in keyword or keyword in ("pattern", "format") else "number"
    }
    old = record(True, v={**base, **({keyword: old_value} if old_value is not None else {})})
    new = record(True, v={**base, keyword: new_value})
    assert kinds(check_compatibility(old, new)) == [("backward", kind, f"#/properties/v/{keyword}")]
    assert check_compatibility(new, old) == []  # loosening is compatible


def test_widening_to_any_of_is_backward_compatible_and_breaks_forward() -> None:
    old = record(True, v={"type": "integer", "minimum": 0})
    new = record(True, v={"anyOf": [{"type": "integer", "minimum": 0}, {"type": "string"}]})
    assert check_compatibility(old, new) == []
    forward = check_compatibility(old, new, mode="forward")
    assert forward and all(c.path.startswith("#/properties/v") for c in forward)
    assert any(c.kind == "TYPE_CHANGED" for c in forward)


def test_a_change_in_a_definition_is_reported_once_at_the_definition() -> None:
    old = real("signal_display_metrics")
    new = copy.deepcopy(old)
    polarisation = new["$defs"]["PhaseItem"]["properties"]["polarisation"]
    polarisation["maxLength"] = 2
    changes = check_compatibility(old, new)
    assert kinds(changes) == [
        ("backward", "MAX_LENGTH_ADDED", "#/$defs/PhaseItem/properties/polarisation/maxLength")
    ]


def test_ska_widening_of_metric_payload_is_backward_compatible_by_default() -> None:
    # The real minor release: MetricPayload 1.0.0 (kept in tests/schema_tools/data) against
    # today's 1.1.0, which accepts what SKA's producers send - ids as integers or strings, an
    # optional spectral_window, amplitude and phase values under a second name.
    old = json.loads((DATA / "signal_display_metrics-1.0.0.json").read_text())
    new = real("signal_display_metrics")
    assert (old["x-version"], new["x-version"]) == ("1.0.0", "1.1.0")
    assert check_compatibility(old, new) == []
    # Schema Registry's strict rule refuses only the properties added to open item models.
    strict = check_compatibility(old, new, policy="strict")
    assert strict and {c.kind for c in strict} == {"PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL"}
    assert "#/$defs/AmplitudeItem/properties/data" in {c.path for c in strict}
    # Old consumers require what the new version made optional.
    forward = {c.path for c in check_compatibility(old, new, mode="forward")}
    assert {"#/required", "#/$defs/AmplitudeItem/required"} <= forward


def test_partially_open_models_cover_added_properties_that_fit_their_pattern() -> None:
    old: dict[str, Any] = {
        "type": "object",
        "properties": {"a": STRING},
        "patternProperties": {"^i_": {"type": "integer"}},
        "additionalProperties": False,
    }
    covered = copy.deepcopy(old)
    covered["properties"]["i_count"] = {"type": "number"}  # reads every integer written before
    assert check_compatibility(old, covered, policy="strict") == []
    narrower = copy.deepcopy(old)
    narrower["properties"]["i_count"] = {"type": "integer", "minimum": 0}  # -1 was valid
    assert [c.kind for c in check_compatibility(old, narrower, policy="strict")] == [
        "PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL"
    ]
    not_covered = copy.deepcopy(old)
    not_covered["properties"]["i_name"] = STRING
    assert kinds(check_compatibility(old, not_covered, policy="strict")) == [
        (
            "backward",
            "PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
            "#/properties/i_name",
        )
    ]


def test_changing_the_encoding_always_breaks() -> None:
    old = real("pointing_table")
    new = copy.deepcopy(old)
    new["x-encoding"] = "msgpack_numpy"
    for mode in CompatMode:
        changes = check_compatibility(old, new, mode=mode)
        assert {c.kind for c in changes} == {"ENCODING_CHANGED"}
        assert {c.direction for c in changes} == set(mode.directions)
        assert all(c.path == "#/x-encoding" for c in changes)
    assert "'xarray' to 'msgpack_numpy'" in check_compatibility(old, new)[0].reason


def test_a_new_schema_id_breaks_because_consumers_check_it() -> None:
    old = real("pointing_table")
    new = {**old, "$id": "https://dq-sdk.skao.int/schemas/pointing_table_v2.json"}
    assert [c.kind for c in check_compatibility(old, new)] == ["SCHEMA_ID_CHANGED"]


@pytest.mark.parametrize(
    ("edit", "kind", "path"),
    [
        (
            lambda p: p["antenna_name"].update({"x-dtype": "U16"}),
            "DTYPE_FIELD_CHANGED",
            "#/properties/antenna_name/x-dtype",
        ),
        (
            lambda p: p["xel_offset"].update({"x-dtype": "f4"}),
            "DTYPE_FIELD_CHANGED",
            "#/properties/xel_offset/x-dtype",
        ),
        (
            lambda p: p["el_offset"].update({"x-dtype": "(2,)f8"}),  # a shape: two values per row
            "DTYPE_FIELD_CHANGED",
            "#/properties/el_offset/x-dtype",
        ),
        (
            lambda p: p.update({"snr": {"type": "number", "x-dtype": "f8"}}),
            "DTYPE_FIELD_ADDED",
            "#/properties/snr",
        ),
        (
            lambda p: p.pop("fitted_height_std"),
            "DTYPE_FIELD_REMOVED",
            "#/properties/fitted_height_std",
        ),
    ],
)
def test_structured_dtype_changes_break_both_ways(edit: Any, kind: str, path: str) -> None:
    old = real("numpy_structured_pointing")
    new = copy.deepcopy(old)
    edit(new["properties"])
    new["required"] = [n for n in new["required"] if n in new["properties"]]
    # Forward swaps writer and reader, so a field added is a field the writer has "only".
    mirror = {
        "DTYPE_FIELD_ADDED": "DTYPE_FIELD_REMOVED",
        "DTYPE_FIELD_REMOVED": "DTYPE_FIELD_ADDED",
    }
    changes = check_compatibility(old, new, mode="full")
    assert (kind, path) in {(c.kind, c.path) for c in changes if c.direction == "backward"}
    forward = {(c.kind, c.path) for c in changes if c.direction == "forward"}
    assert (mirror.get(kind, kind), path) in forward


def test_reordering_dtype_fields_breaks() -> None:
    old = real("numpy_structured_pointing")
    new = copy.deepcopy(old)
    items = list(new["properties"].items())
    items[1], items[2] = items[2], items[1]
    new["properties"] = dict(items)
    changes = check_compatibility(old, new, mode="full")
    assert {c.kind for c in changes} == {"DTYPE_ORDER_CHANGED"}
    assert {c.path for c in changes} == {"#/properties"}


def test_xarray_variables_coordinates_dtypes_and_dims() -> None:
    old = real("pointing_table")
    layout = "x-xarray"

    removed = copy.deepcopy(old)
    del removed[layout]["data_vars"]["weight"]
    # Like xradio, readers accept extra variables: old data still reads (backward); old
    # readers require the variable that new data lacks (forward).
    assert check_compatibility(old, removed) == []
    assert kinds(check_compatibility(old, removed, mode="forward")) == [
        ("forward", "XARRAY_REQUIRED_VARIABLE_ADDED", "#/x-xarray/data_vars/weight")
    ]

    coordinate = copy.deepcopy(old)
    del coordinate[layout]["coords"]["frequency"]
    assert kinds(check_compatibility(old, coordinate, mode="full")) == [
        ("forward", "XARRAY_REQUIRED_VARIABLE_ADDED", "#/x-xarray/coords/frequency")
    ]

    required = copy.deepcopy(old)
    required[layout]["data_vars"]["fitted_width"]["optional"] = False
    assert kinds(check_compatibility(old, required)) == [
        ("backward", "XARRAY_REQUIRED_VARIABLE_ADDED", "#/x-xarray/data_vars/fitted_width")
    ]

    optional_added = copy.deepcopy(old)
    optional_added[layout]["data_vars"]["pointing_std"] = {
        "dims": old[layout]["dims"],
        "dtype": "f8",
        "optional": True,
    }
    assert check_compatibility(old, optional_added, mode="full") == []

    retyped = copy.deepcopy(old)
    retyped[layout]["coords"]["antenna"]["dtype"] = "i4"
    retyped[layout]["data_vars"]["pointing"]["dims"] = ["time", "antenna"]
    assert kinds(check_compatibility(old, retyped)) == [
        ("backward", "XARRAY_DTYPE_CHANGED", "#/x-xarray/coords/antenna/dtype"),
        ("backward", "XARRAY_DIMS_CHANGED", "#/x-xarray/data_vars/pointing/dims"),
    ]

    attrs = copy.deepcopy(old)
    attrs["$defs"]["PointingTableAttrs"]["required"].append("band_type")
    assert kinds(check_compatibility(old, attrs)) == [
        ("backward", "REQUIRED_ATTRIBUTE_ADDED", "#/$defs/PointingTableAttrs/required")
    ]


def test_diff_lists_compatible_differences_too() -> None:
    old = record(True, a={"type": "string", "maxLength": 4})
    new = record(True, a={"type": "string", "maxLength": 8})
    found = diff_schemas(old, new)
    assert [(d.kind, d.path) for d in found] == [
        ("MAX_LENGTH_INCREASED", "#/properties/a/maxLength")
    ]


def test_bad_mode_or_policy_is_a_dq_error_naming_the_choices() -> None:
    schema = real("pointing_table")
    with pytest.raises(SchemaToolError, match="'sideways' is not one of: backward, forward, full"):
        check_compatibility(schema, schema, mode="sideways")
    with pytest.raises(SchemaToolError, match="strict, lenient"):
        check_compatibility(schema, schema, policy="loose")


def test_recursive_definitions_terminate_and_report_once() -> None:
    old: dict[str, Any] = {
        "$defs": {
            "Node": {
                "type": "object",
                "properties": {"v": {"type": "string"}, "next": {"$ref": "#/$defs/Node"}},
            },
            "A": {"$ref": "#/$defs/B"},
            "B": {"$ref": "#/$defs/A"},
        },
        "$ref": "#/$defs/Node",
    }
    new = copy.deepcopy(old)
    new["$defs"]["Node"]["properties"]["v"]["maxLength"] = 3
    assert kinds(check_compatibility(old, new, mode="full")) == [
        ("backward", "MAX_LENGTH_ADDED", "#/$defs/Node/properties/v/maxLength")
    ]
    loop = {"$defs": old["$defs"], "$ref": "#/$defs/A"}
    assert check_compatibility(loop, loop, mode="full") == []
