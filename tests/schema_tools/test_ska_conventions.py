"""SKA's conventions where schemas meet configuration: SDP flow ``format`` strings wherever an
encoding is accepted, and ``kafka://host:port/topic`` sinks wherever a destination is."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np
import pytest

from dq_sdk import DataQueueConsumer, DataQueueProducer, Encoding, SchemaToolError
from dq_sdk.codecs import decode, encode
from dq_sdk.schema_tools import ChannelSpec, asyncapi_document, content_type, load_folder

ROOT = Path(__file__).resolve().parents[2]
SPEC = Path(__file__).parent / "data" / "asyncapi-specs" / "3.0.0.json"

#: SDP flow format strings and a value each can carry.
FORMATS: dict[str, object] = {
    "msgpack_numpy": {"a": np.arange(3.0)},
    "npy": np.arange(4, dtype=np.int32),
    "json": {"a": [1, 2]},
    "utf-8": "Grüße",
    "ascii": "plain",
    "xarray": None,  # a Dataset, built below
}


@pytest.mark.parametrize("sdp_format", sorted(FORMATS))
def test_sdp_format_strings_work_wherever_an_encoding_is_taken(sdp_format: str) -> None:
    encoding = Encoding(sdp_format)
    assert encoding.value == sdp_format
    producer = DataQueueProducer("127.0.0.1:9092", encoding=sdp_format)
    consumer = DataQueueConsumer("127.0.0.1:9092", topics=["t"], encoding=sdp_format)
    assert producer.encoding is encoding and consumer.encoding is encoding
    assert content_type(sdp_format) == content_type(encoding)
    value = FORMATS[sdp_format]
    if value is None:
        import xarray  # the test environment installs every extra

        value = xarray.Dataset({"v": ("x", np.arange(3.0))})
        assert decode(encode(value, sdp_format), sdp_format).identical(value)  # type: ignore[attr-defined]
        return
    decoded = decode(encode(value, sdp_format), sdp_format)
    assert json.dumps(decoded, default=lambda a: a.tolist()) == json.dumps(
        value, default=lambda a: a.tolist()
    )


def test_every_schema_names_its_encoding_as_an_sdp_format_string() -> None:
    for document in load_folder(ROOT / "schemas").values():
        assert document.content["x-encoding"] in FORMATS


def test_kafka_urls_are_destinations_in_channel_maps() -> None:
    channels = [
        ChannelSpec("kafka://sdp-kafka:9092/metrics-spectrum-01", "MetricPayload"),
        ChannelSpec("kafka://sdp-kafka:9092/pointing_offset", "PointingNumpyArray"),
        ChannelSpec("pointing_table", "PointingTable"),
    ]
    document: dict[str, Any] = asyncapi_document(
        load_folder(ROOT / "schemas"), channels, servers=["kafka://127.0.0.1:9092"]
    )
    jsonschema.Draft7Validator(json.loads(SPEC.read_text())).validate(document)
    assert document["servers"] == {
        "kafka1": {
            "host": "127.0.0.1:9092",
            "protocol": "kafka",
            "description": "Kafka bootstrap server.",
        },
        "kafka2": {
            "host": "sdp-kafka:9092",
            "protocol": "kafka",
            "description": "Kafka bootstrap server.",
        },
    }
    spectrum = document["channels"]["metrics-spectrum-01"]
    assert spectrum["address"] == "metrics-spectrum-01"
    assert spectrum["servers"] == [{"$ref": "#/servers/kafka2"}]
    assert "servers" not in document["channels"]["pointing_table"]  # all servers


@pytest.mark.parametrize(
    "bad",
    ["http://host:9092/topic", "kafka://host/topic", "kafka://host:9092/a/b", "kafka://"],
)
def test_bad_destinations_are_refused_naming_the_form(bad: str) -> None:
    with pytest.raises(SchemaToolError, match=r"kafka://host:port|only kafka://"):
        asyncapi_document(load_folder(ROOT / "schemas"), [ChannelSpec(bad, "MetricPayload")])
