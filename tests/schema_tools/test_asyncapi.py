"""The AsyncAPI 3.0 document: valid against the official AsyncAPI 3.0.0 JSON Schema (vendored
from ``@asyncapi/specs``), every reference resolvable, and real messages valid against its
payload schemas."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np
import pytest
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from dq_sdk import Encoding, SchemaToolError
from dq_sdk.schema_tools import (
    ChannelSpec,
    asyncapi_document,
    content_type,
    load_channels,
    load_folder,
)
from dq_sdk.schemas import MetricPayload, PointingNumpyArray

ROOT = Path(__file__).resolve().parents[2]
SPEC = Path(__file__).parent / "data" / "asyncapi-specs" / "3.0.0.json"


@pytest.fixture(scope="module")
def validator() -> Any:
    spec = json.loads(SPEC.read_text())
    jsonschema.Draft7Validator.check_schema(spec)
    return jsonschema.Draft7Validator(spec)


def errors(validator: Any, document: dict[str, Any]) -> list[str]:
    return [f"{e.json_path}: {e.message[:300]}" for e in validator.iter_errors(document)]


def refs(value: object) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "$ref" and isinstance(item, str):
                yield item
            else:
                yield from refs(item)
    elif isinstance(value, list):
        for item in value:
            yield from refs(item)


def resolve(document: dict[str, Any], ref: str) -> object:
    assert ref.startswith("#/"), ref
    target: object = document
    for part in ref[2:].split("/"):
        assert isinstance(target, dict) and part in target, f"{ref} does not resolve"
        target = target[part]
    return target


CHANNELS = [
    ChannelSpec("pointing_offset", "PointingNumpyArray", "Pointing offsets per antenna."),
    ChannelSpec("metrics-spectrum-01", "MetricPayload"),
    ChannelSpec("metrics-phase-01", "signal_display_metrics"),
    ChannelSpec("pointing_table", "PointingTable"),
]


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return asyncapi_document(
        load_folder(ROOT / "schemas"), CHANNELS, servers=["kafka://127.0.0.1:9092"]
    )


def test_documents_validate_against_the_official_schema(
    validator: Any, document: dict[str, Any]
) -> None:
    assert errors(validator, document) == []
    default = asyncapi_document(load_folder(ROOT / "schemas"))
    assert errors(validator, default) == []
    assert all(channel["address"] is None for channel in default["channels"].values())


def test_the_validator_is_not_vacuous(validator: Any, document: dict[str, Any]) -> None:
    wrong = json.loads(json.dumps(document))
    wrong["asyncapi"] = "2.6.0"
    wrong["channels"]["pointing_offset"]["topic"] = "not an AsyncAPI 3 field"
    wrong["operations"]["send_pointing_offset"]["action"] = "publish"
    found = errors(validator, wrong)
    assert any("$.asyncapi" in e for e in found)
    assert len(found) >= 3


def test_channels_messages_operations_and_every_ref_resolve(document: dict[str, Any]) -> None:
    channels = document["channels"]
    assert {c["address"] for c in channels.values()} == {s.topic for s in CHANNELS}
    assert channels["pointing_offset"]["description"] == "Pointing offsets per antenna."
    assert channels["metrics-phase-01"]["messages"] == {
        "MetricPayload": {"$ref": "#/components/messages/MetricPayload"}
    }
    actions = {(op["action"], op["channel"]["$ref"]) for op in document["operations"].values()}
    assert ("send", "#/channels/pointing_offset") in actions
    assert ("receive", "#/channels/pointing_offset") in actions
    assert document["servers"] == {
        "kafka": {
            "host": "127.0.0.1:9092",
            "protocol": "kafka",
            "description": "Kafka bootstrap server.",
        }
    }
    all_refs = set(refs(document))
    assert "#/components/schemas/SpectralWindow" in all_refs
    assert "#/components/schemas/PointingTableAttrs" in all_refs  # inside x-xarray
    for ref in all_refs:
        resolve(document, ref)
    assert not any("$defs" in ref for ref in all_refs)


@pytest.mark.parametrize("model", [PointingNumpyArray, MetricPayload])
def test_messages_carry_encoding_content_type_and_dq_headers(
    document: dict[str, Any], model: type[PointingNumpyArray] | type[MetricPayload]
) -> None:
    message = document["components"]["messages"][model.__name__]
    assert message["contentType"] == "application/vnd.dq-sdk.msgpack-numpy"
    assert message["x-dq-encoding"] == model.encoding.value
    headers = message["headers"]
    assert headers["required"] == ["dq-encoding", "dq-schema-id", "dq-schema-version"]
    # The headers a real dq-sdk producer sends validate against the documented header schema.
    sent = {
        "dq-encoding": model.encoding.value,
        "dq-schema-id": model.schema_id,
        "dq-schema-version": model.schema_version,
    }
    jsonschema.validate(sent, headers)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**sent, "dq-schema-version": "9.0.0"}, headers)


def payload_validator(document: dict[str, Any], name: str) -> Any:
    # The payload schema resolves its refs inside the AsyncAPI document, as tools do.
    resource: Resource[Any] = Resource.from_contents(document, default_specification=DRAFT7)
    registry: Registry[Any] = Registry().with_resource("urn:doc", resource)
    return jsonschema.Draft7Validator(
        {"$ref": f"urn:doc#/components/schemas/{name}"}, registry=registry
    )


def test_real_messages_validate_against_the_payload_schemas(document: dict[str, Any]) -> None:
    from dq_sdk.examples import pointing_offsets, spectrum_metric

    rng = np.random.default_rng(7)
    metric = spectrum_metric(16, rng).to_wire()
    as_json = json.loads(json.dumps(metric, default=lambda a: a.tolist()))
    metrics = payload_validator(document, "MetricPayload")
    assert [e.message for e in metrics.iter_errors(as_json)] == []
    broken = {**as_json, "data_type": "waterfall"}
    assert not metrics.is_valid(broken)

    rows = pointing_offsets(3, 1, rng).array
    row = {name: rows[name][0].item() for name in rows.dtype.names or ()}
    row = {k: (0.0 if isinstance(v, float) and v != v else v) for k, v in row.items()}
    pointing = payload_validator(document, "PointingNumpyArray")
    assert [e.message for e in pointing.iter_errors(row)] == []
    assert not pointing.is_valid({**row, "antenna_name": "A" * 9})


@pytest.mark.parametrize(
    ("encoding", "expected"),
    [
        ("json", "application/json"),
        ("utf-8", "text/plain; charset=utf-8"),
        ("ascii", "text/plain; charset=us-ascii"),
        ("msgpack_numpy", "application/vnd.dq-sdk.msgpack-numpy"),
        ("npy", "application/vnd.dq-sdk.npy"),
        ("xarray", "application/vnd.dq-sdk.xarray"),
    ],
)
def test_every_sdp_format_string_has_a_content_type(encoding: str, expected: str) -> None:
    assert content_type(encoding) == expected
    assert content_type(Encoding(encoding)) == expected


def test_unknown_encoding_names_the_allowed_ones() -> None:
    with pytest.raises(SchemaToolError, match="'pickle' is not one of: utf-8, ascii"):
        content_type("pickle")


def test_channel_maps_json_and_toml_and_their_errors(tmp_path: Path) -> None:
    as_json = tmp_path / "channels.json"
    as_json.write_text(
        json.dumps({"pointing_offset": "PointingNumpyArray", "m": {"model": "MetricPayload"}})
    )
    assert load_channels(as_json) == [
        ChannelSpec("pointing_offset", "PointingNumpyArray"),
        ChannelSpec("m", "MetricPayload"),
    ]
    as_toml = tmp_path / "channels.toml"
    as_toml.write_text('"metrics-amplitude-01" = { model = "MetricPayload", description = "A" }\n')
    assert load_channels(as_toml) == [ChannelSpec("metrics-amplitude-01", "MetricPayload", "A")]

    bad = tmp_path / "bad.json"
    for text, message in [
        ("[1]", "must be a non-empty object"),
        ("{", "is not valid"),
        ('{"t": 3}', "topic 't' maps to 3"),
    ]:
        bad.write_text(text)
        with pytest.raises(SchemaToolError, match=message):
            load_channels(bad)
    with pytest.raises(SchemaToolError, match="cannot read channel map"):
        load_channels(tmp_path / "missing.json")
    with pytest.raises(SchemaToolError, match=r"names model 'Nope'; known models: .*MetricPayload"):
        asyncapi_document(load_folder(ROOT / "schemas"), [ChannelSpec("t", "Nope")])
    with pytest.raises(SchemaToolError, match="no topic here"):
        asyncapi_document(load_folder(ROOT / "schemas"), servers=["kafka://h:1/topic"])


def test_cli_writes_a_valid_document(tmp_path: Path, validator: Any) -> None:
    channels = tmp_path / "channels.json"
    channels.write_text(json.dumps({"pointing_offset": "PointingNumpyArray"}))
    out = tmp_path / "asyncapi.json"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "dq_sdk.cli",
            "asyncapi",
            "--channels",
            str(channels),
            "-o",
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        env={**os.environ},
    )
    assert done.returncode == 0, done.stderr
    written = json.loads(out.read_text())
    assert errors(validator, written) == []
    assert [c["address"] for c in written["channels"].values()] == ["pointing_offset"]
    # The message components cover every schema, whichever channels were asked for.
    titles = {doc.content["title"] for doc in load_folder(ROOT / "schemas").values()}
    assert set(written["components"]["messages"]) == titles
    assert {"PointingNumpyArray", "PointingTable", "MetricPayload"} <= titles
