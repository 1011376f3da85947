"""Typed settings and every input checked where it enters: each refused at construction (or at
the call), before any connection, with a dq-sdk error naming the value and what is allowed."""

from __future__ import annotations

import gc
import inspect
import logging
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pydantic
import pytest

from dq_sdk import (
    Admin,
    Consumer,
    DataQueueAdmin,
    DataQueueConsumer,
    DataQueueProducer,
    DecodeError,
    EncodeError,
    Encoding,
    InvalidArgumentError,
    MessageValidationError,
    Producer,
)
from dq_sdk._settings import parse_bootstrap
from dq_sdk.codecs import decode, encode
from dq_sdk.schemas import MetricPayload, PointingNumpyArray, SpectralWindow

NOWHERE = "127.0.0.1:9"
ENDPOINTS: list[Any] = [
    lambda **kw: Producer(PointingNumpyArray, NOWHERE, **kw),
    lambda **kw: Consumer(PointingNumpyArray, NOWHERE, **kw),
    lambda **kw: DataQueueProducer(NOWHERE, **kw),
    lambda **kw: DataQueueConsumer(NOWHERE, **kw),
    lambda **kw: Admin(NOWHERE, **kw),
]


@pytest.fixture(autouse=True)
def _no_bootstrap_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DQ_SDK_BOOTSTRAP", raising=False)
    monkeypatch.delenv("SDP_KAFKA_HOST", raising=False)


@pytest.mark.parametrize("make", ENDPOINTS)
def test_a_misspelled_option_fails_at_construction_listing_the_valid_names(make: Any) -> None:
    with pytest.raises(InvalidArgumentError) as caught:
        make(conect_timeout_s=5)
    text = str(caught.value)
    assert "'conect_timeout_s'" in text
    assert "did you mean 'connect_timeout_s'?" in text
    assert "valid options:" in text and "request_timeout_ms" in text and "client_options" in text
    assert isinstance(caught.value, TypeError)  # what Python raises for a bad keyword


def test_a_misspelled_producer_option_names_the_close_one() -> None:
    with pytest.raises(InvalidArgumentError, match=r"'lingr_ms' \(did you mean 'linger_ms'\?\)"):
        Producer(PointingNumpyArray, NOWHERE, lingr_ms=5)  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"auto_offset_reset": "first"}, r"'first'.*'earliest', 'latest', 'none'"),
        ({"commit_interval_s": -1}, r"commit_interval_s=-1.*>= 0"),
        ({"session_timeout_ms": 0}, r"session_timeout_ms=0.*int >= 1"),
        ({"heartbeat_interval_ms": 20_000}, r"less than session_timeout_ms \(10000\)"),
        ({"max_reassembly_bytes": 1.5}, r"max_reassembly_bytes=1.5.*int"),
        ({"chunk_timeout_s": float("inf")}, r"chunk_timeout_s=inf.*finite"),
        ({"transport": "kafka-python"}, r"transport='kafka-python'.*'aiokafka', 'confluent'"),
        ({"connect_timeout_s": 0}, r"connect_timeout_s=0.*> 0"),
        ({"security_protocol": "TLS"}, r"security_protocol='TLS'.*'SASL_SSL'"),
        ({"client_options": ["x"]}, r"client_options=\['x'\].*mapping"),
        ({"group_id": ""}, r"group_id='' .*non-empty str"),
        ({"on_error": "ignore"}, r"on_error must be"),
    ],
)
def test_consumer_options_are_checked_at_construction(
    options: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        Consumer(PointingNumpyArray, NOWHERE, **options)
    with pytest.raises(ValueError, match=message):
        DataQueueConsumer(NOWHERE, **options)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"linger_ms": -1}, r"linger_ms=-1.*int >= 0"),
        ({"linger_ms": True}, r"linger_ms=True"),
        ({"max_batch_size": 0}, r"max_batch_size=0"),
        ({"chunk_size": 2_000_000}, r"chunk_size=2000000.*max_request_size \(1048576\)"),
        ({"compression_type": "brotli"}, r"compression_type='brotli'.*'zstd'"),
        ({"acks": 2}, r"acks=2.*0, 1, 'all'"),
        ({"sasl_mechanism": "SCRAM"}, r"sasl_mechanism='SCRAM'"),
    ],
)
def test_producer_options_are_checked_at_construction(
    options: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidArgumentError, match=message):
        Producer(PointingNumpyArray, NOWHERE, **options)
    with pytest.raises(InvalidArgumentError, match=message):
        DataQueueProducer(NOWHERE, **options)


def test_signatures_show_every_option_with_its_default() -> None:
    producer = inspect.signature(Producer).parameters
    assert producer["linger_ms"].default == 0
    assert producer["max_request_size"].default == 1_048_576
    assert producer["connect_timeout_s"].default == 15.0
    assert producer["transport"].default == "aiokafka"
    consumer = inspect.signature(DataQueueConsumer).parameters
    assert consumer["auto_offset_reset"].default == "earliest"
    assert consumer["commit_interval_s"].default == 1.0
    assert consumer["max_reassembly_bytes"].default == 512 * 2**20
    assert consumer["client_options"].default is None
    for cls in (Producer, Consumer, DataQueueProducer, DataQueueConsumer, Admin, DataQueueAdmin):
        kinds = {p.kind for p in inspect.signature(cls).parameters.values()}
        assert inspect.Parameter.VAR_KEYWORD not in kinds, cls  # no **kwargs swallowing typos


def test_options_are_mapped_once_per_transport() -> None:
    aiokafka = Producer(PointingNumpyArray, NOWHERE, linger_ms=7, client_options={"x": 1})
    assert aiokafka._sender._client._options["linger_ms"] == 7  # type: ignore[attr-defined]
    assert aiokafka._sender._client._options["x"] == 1  # type: ignore[attr-defined]
    confluent = Producer(
        PointingNumpyArray,
        NOWHERE,
        transport="confluent",
        linger_ms=7,
        client_options={"queue.buffering.max.kbytes": 1024},
    )
    config = confluent._sender._client._config  # type: ignore[attr-defined]
    assert config["linger.ms"] == 7
    assert config["queue.buffering.max.kbytes"] == 1024
    consumer = Consumer(PointingNumpyArray, NOWHERE, auto_offset_reset="none")
    assert consumer.settings.auto_offset_reset == "none"
    assert consumer.connection.server == NOWHERE


# --- bootstrap addresses and the environment ---------------------------------------------------


@pytest.mark.parametrize(
    ("given", "servers", "topic"),
    [
        ("localhost:9092", ("localhost:9092",), None),
        ("a:1, b.example.org:9093", ("a:1", "b.example.org:9093"), None),
        ("ska-sdp-kafka.test-ns:9092", ("ska-sdp-kafka.test-ns:9092",), None),
        ("[::1]:9092", ("[::1]:9092",), None),
        ("kafka://kafka:9092", ("kafka:9092",), None),
        ("kafka://kafka:9092/pointing_offset", ("kafka:9092",), "pointing_offset"),
    ],
)
def test_bootstrap_forms(given: str, servers: tuple[str, ...], topic: str | None) -> None:
    parsed = parse_bootstrap(given)
    assert (parsed.servers, parsed.topic) == (servers, topic)


@pytest.mark.parametrize(
    "bad",
    ["kafka:abc", "not a host::x", "", "localhost", "h:0", "h:70000", "kafka://h:1/bad topic"],
)
@pytest.mark.parametrize("transport", ["aiokafka", "confluent"])
def test_a_malformed_bootstrap_fails_before_any_connection(
    bad: str, transport: Any, caplog: pytest.LogCaptureFixture
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. "Unclosed AIOKafkaProducer" would be a warning
        with pytest.raises(InvalidArgumentError) as caught:
            DataQueueProducer(bad, topic="t", transport=transport)
        with pytest.raises(InvalidArgumentError):
            Consumer(PointingNumpyArray, bad, topics=["t"], transport=transport)
        with pytest.raises(InvalidArgumentError):
            Admin(bad)
        gc.collect()
    text = str(caught.value)
    assert repr(bad) in text
    if "topic" not in bad:
        assert "host:port[,host:port...]" in text and "kafka://host:port" in text
    assert not [r for r in caplog.records if "nclosed" in r.getMessage()]


def test_the_bootstrap_may_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SDP_KAFKA_HOST", "ska-sdp-kafka.ns:9092")
    assert DataQueueProducer().connection.server == "ska-sdp-kafka.ns:9092"
    monkeypatch.setenv("DQ_SDK_BOOTSTRAP", "dq:9092")  # dq-sdk's own variable wins
    assert Producer(PointingNumpyArray).connection.server == "dq:9092"
    assert Admin().server == "dq:9092"
    # An explicit argument wins over both.
    assert Consumer(PointingNumpyArray, "explicit:1").connection.server == "explicit:1"
    monkeypatch.setenv("DQ_SDK_BOOTSTRAP", "kafka:abc")
    with pytest.raises(InvalidArgumentError, match="from the environment: DQ_SDK_BOOTSTRAP"):
        DataQueueConsumer()


def test_no_bootstrap_anywhere_says_where_one_can_come_from() -> None:
    with pytest.raises(InvalidArgumentError, match="DQ_SDK_BOOTSTRAP or SDP_KAFKA_HOST"):
        Producer(PointingNumpyArray, topic="t")


def test_a_kafka_url_topic_is_the_default_topic() -> None:
    producer = DataQueueProducer("kafka://h:1/pointing_offset")
    assert producer.topic == "pointing_offset"
    assert Producer(PointingNumpyArray, "kafka://h:1/p", topic="q").topic == "q"  # explicit wins
    consumer = Consumer(PointingNumpyArray, "kafka://h:1/pointing_offset")
    assert consumer._fetcher._client._pending_topics == ["pointing_offset"]  # type: ignore[attr-defined]


# --- topics -----------------------------------------------------------------------------------


def test_a_str_topics_argument_is_one_topic() -> None:
    consumer = DataQueueConsumer(NOWHERE, topics="pointing_offset")
    assert consumer._fetcher._client._pending_topics == ["pointing_offset"]  # type: ignore[attr-defined]
    consumer.update_topics("metrics")
    assert consumer._fetcher._client._pending_topics == ["metrics"]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("", "it is empty"),
        ("x" * 250, "250 characters, over Kafka's 249"),
        ("bad name!", "contains ' !'"),
        (".", "reserves '.' and '..'"),
        ("..", "reserves '.' and '..'"),
        ("pointing/offset", "contains '/'"),
    ],
)
async def test_topic_names_kafka_refuses_are_refused_before_any_request(
    name: str, problem: str
) -> None:
    rule = r"use 1 to 249 of \[a-zA-Z0-9._-\]"
    with pytest.raises(InvalidArgumentError, match=f"{problem}.*{rule}"):
        Producer(PointingNumpyArray, NOWHERE, topic=name)
    with pytest.raises(InvalidArgumentError, match=problem):
        DataQueueConsumer(NOWHERE, topics=[name])
    with pytest.raises(InvalidArgumentError, match=problem):
        DataQueueConsumer(NOWHERE).update_topics([name])
    with pytest.raises(InvalidArgumentError, match=problem):
        DataQueueConsumer(NOWHERE).assign_topics([(name, 0)])
    with pytest.raises(InvalidArgumentError, match=problem):
        Consumer(PointingNumpyArray, NOWHERE, on_error="skip", dead_letter_topic=name)
    # send() checks too, before anything else (the producer is not even started here).
    with pytest.raises(InvalidArgumentError, match=problem):
        await DataQueueProducer(NOWHERE).send(b"x", topic=name)


def test_a_249_character_topic_name_is_fine() -> None:
    assert Producer(PointingNumpyArray, NOWHERE, topic="a" * 249).topic == "a" * 249


def test_assign_topics_checks_its_pairs() -> None:
    consumer = DataQueueConsumer(NOWHERE)
    with pytest.raises(InvalidArgumentError, match=r"not a \(topic, partition\) pair"):
        consumer.assign_topics(["t"])  # type: ignore[list-item]
    with pytest.raises(InvalidArgumentError, match="partition -1 of topic 't'"):
        consumer.assign_topics([("t", -1)])


# --- encodings, models, invalid data --------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "member"),
    [
        ("utf-8", Encoding.UTF8),
        ("UTF-8", Encoding.UTF8),
        ("utf8", Encoding.UTF8),
        ("ascii", Encoding.ASCII),
        ("msgpack_numpy", Encoding.MSGPACK_NUMPY),
        ("npy", Encoding.NPY),
        ("json", Encoding.JSON),
        ("xarray", Encoding.XARRAY),
    ],
)
def test_sdp_format_names_and_aliases_are_encodings(name: str, member: Encoding) -> None:
    assert Encoding(name) is member
    assert DataQueueProducer(NOWHERE, encoding=name).encoding is member
    assert DataQueueConsumer(NOWHERE, encoding=name).encoding is member


def test_an_unknown_encoding_lists_the_valid_ones() -> None:
    with pytest.raises(InvalidArgumentError) as caught:
        DataQueueConsumer(NOWHERE, encoding="msgpack")
    assert "'msgpack'" in str(caught.value)
    for member in Encoding:
        assert repr(member.value) in str(caught.value)


def test_a_class_that_is_not_a_model_is_refused_at_construction() -> None:
    with pytest.raises(TypeError, match="the class dict is not a message model"):
        Producer(dict, NOWHERE)  # type: ignore[type-var]
    with pytest.raises(TypeError, match="the class int is not a message model"):
        Consumer(int, NOWHERE)  # type: ignore[type-var]
    with pytest.raises(TypeError, match="the str 'x' is not a message model"):
        Producer("x", NOWHERE)  # type: ignore[call-overload, arg-type, type-var, unused-ignore]


def test_a_dict_cannot_be_npy() -> None:
    with pytest.raises(EncodeError, match="a dict cannot be npy"):
        encode({"a": np.zeros(3)}, Encoding.NPY)


def test_one_except_clause_catches_invalid_data_on_every_path() -> None:
    caught: list[type[BaseException]] = []
    attempts: list[Callable[[], object]] = [
        lambda: SpectralWindow(freq_min="low"),  # type: ignore[arg-type, call-arg]
        lambda: MetricPayload.from_wire({"data_type": "spectrum"}),
        lambda: decode(b"\xff", Encoding.UTF8),
    ]
    for attempt in attempts:
        try:
            attempt()
        except ValueError as error:  # the one clause, documented in docs/errors.md
            caught.append(type(error))
    assert caught == [pydantic.ValidationError, MessageValidationError, DecodeError]
    assert issubclass(MessageValidationError, TypeError)  # as the SKA library raised


async def test_no_error_is_its_own_cause() -> None:
    producer = DataQueueProducer(NOWHERE, topic="t")
    bad = np.zeros(2, dtype=[("antenna_name", "U8")])
    with pytest.raises(MessageValidationError) as caught:
        await producer.send(bad, schema=PointingNumpyArray, validate=True)
    assert caught.value.__cause__ is not caught.value
    assert caught.value.topic == "t"
    with pytest.raises(EncodeError) as encoding_error:
        await producer.send(object(), encoding="json")
    assert encoding_error.value.__cause__ is not encoding_error.value


def test_construction_logs_and_prints_nothing(
    caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    with caplog.at_level(logging.DEBUG, logger="dq_sdk"):
        Producer(PointingNumpyArray, NOWHERE, topic="t")
        DataQueueConsumer(NOWHERE, topics=["t"], transport="confluent")
    assert capsys.readouterr() == ("", "")


def test_the_api_reference_shows_every_option_with_its_default() -> None:
    from pathlib import Path

    reference = (Path(__file__).parents[2] / "docs" / "options.md").read_text()
    rows = {
        line.split("|")[1].strip(): line
        for line in reference.splitlines()
        if line.startswith("| `")
    }
    for cls in (Producer, Consumer, DataQueueProducer, DataQueueConsumer, Admin):
        for name, parameter in inspect.signature(cls).parameters.items():
            if parameter.kind is not inspect.Parameter.KEYWORD_ONLY or name in (
                "topic",
                "topics",
                "validate",
                "group_id",
                "on_error",
                "dead_letter_topic",
                "encoding",
            ):
                continue
            row = rows.get(f"`{name}`")
            assert row is not None, f"docs/options.md has no row for {cls.__name__}'s {name}"
            assert f"`{parameter.default!r}`" in row, f"{name}: default {parameter.default!r}"
