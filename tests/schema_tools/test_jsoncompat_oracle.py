"""A second opinion: on plain JSON Schema pairs, the verdicts of ``jsoncompat`` (an independent
Rust implementation, evaluated in docs/decisions.md) agree with the strict policy's, in both
directions. It answers only yes/no, so it checks verdicts, not the paths and reasons."""

from __future__ import annotations

import json
from typing import Any, Literal

import jsoncompat
import pytest

from dq_sdk.schema_tools import check_compatibility

S = {"type": "string"}


def rec(closed: bool, required: list[str] | None = None, **props: Any) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "object",
        "properties": props,
        "required": sorted(props) if required is None else required,
    }
    if closed:
        schema["additionalProperties"] = False
    return schema


def field(**schema: Any) -> dict[str, Any]:
    return rec(True, v=schema)


CASES = {
    "property removed, closed": (rec(True, a=S, b=S), rec(True, a=S)),
    "property removed, open": (rec(False, a=S, b=S), rec(False, a=S)),
    "property added, open": (rec(False, a=S), rec(False, ["a"], a=S, b={"type": "integer"})),
    "optional property added, closed": (rec(True, a=S), rec(True, ["a"], a=S, b=S)),
    "required added": (rec(True, [], a=S), rec(True, ["a"], a=S)),
    "number to integer": (field(type="number"), field(type="integer")),
    "string to integer": (field(type="string"), field(type="integer")),
    "enum value removed": (field(enum=["a", "b"]), field(enum=["a"])),
    "maxLength decreased": (field(type="string", maxLength=8), field(type="string", maxLength=4)),
    "minimum added": (field(type="number"), field(type="number", minimum=0)),
    "anyOf alternative added": (
        field(type="integer"),
        field(anyOf=[{"type": "integer"}, {"type": "string"}]),
    ),
    "array items narrowed": (
        field(type="array", items={"type": "number"}),
        field(type="array", items={"type": "integer"}),
    ),
    "content model closed": (rec(False, a=S), rec(True, a=S)),
}
# Not compared: `pattern` added, which Schema Registry (and dq-sdk) call breaking and
# jsoncompat 0.3.1 accepts (it does not reason about regular expressions).


@pytest.mark.parametrize("case", sorted(CASES))
def test_verdicts_agree_with_jsoncompat(case: str) -> None:
    old, new = CASES[case]
    directions: tuple[tuple[str, Literal["deserializer", "serializer"]], ...] = (
        ("backward", "deserializer"),
        ("forward", "serializer"),
    )
    for mode, role in directions:
        ours = not check_compatibility(old, new, mode=mode, policy="strict")
        theirs = jsoncompat.check_compat(json.dumps(old), json.dumps(new), role)
        assert ours == theirs, f"{case} ({mode}): dq-sdk {ours}, jsoncompat {theirs}"
