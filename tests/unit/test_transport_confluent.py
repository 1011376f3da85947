"""The confluent transport without a broker: option mapping, errors, and that choosing it
connects nothing until a client is started."""

from __future__ import annotations

import ssl
import time

import pytest
from confluent_kafka import KafkaError as LibKafkaError

from dq_sdk import (
    BrokerUnavailableError,
    Consumer,
    DataQueueConsumer,
    DataQueueProducer,
    KafkaError,
    Producer,
)
from dq_sdk._transport._confluent_common import consumer_config, dq_error, producer_config
from dq_sdk._transport._confluent_producer import (
    ConfluentConsumerClient,
    ConfluentProducerClient,
    ConfluentRecordMetadata,
)
from dq_sdk.schemas import PointingNumpyArray
from dq_sdk.testing._broker import free_port

NOWHERE = "127.0.0.1:9"


def test_producer_options_map_to_librdkafka_with_aiokafka_defaults() -> None:
    config = producer_config(
        "h:1",
        {
            "linger_ms": 5,
            "max_request_size": 20 * 2**20,
            "max_batch_size": 65536,
            "compression_type": "zstd",
            "client_id": "pointing",
            "acks": "all",
            "security_protocol": "SASL_SSL",
            "sasl_mechanism": "SCRAM-SHA-512",
            "sasl_plain_username": "u",
            "sasl_plain_password": "p",
        },
    )
    assert config == {
        "bootstrap.servers": "h:1",
        "linger.ms": 5,
        "message.max.bytes": 20 * 2**20,
        "partitioner": "murmur2_random",
        "batch.size": 65536,
        "compression.type": "zstd",
        "client.id": "pointing",
        "acks": "all",
        "security.protocol": "SASL_SSL",
        "sasl.mechanism": "SCRAM-SHA-512",
        "sasl.username": "u",
        "sasl.password": "p",
    }
    defaults = producer_config("h:1", {"compression_type": None})
    assert defaults["linger.ms"] == 0  # aiokafka's default, not librdkafka's 5 ms
    assert defaults["message.max.bytes"] == 1_048_576
    assert defaults["compression.type"] == "none"
    assert defaults["batch.size"] == 1_000_000  # the aiokafka transport's default too
    small = producer_config("h:1", {"max_request_size": 65536})
    assert small["batch.size"] == small["message.max.bytes"] == 65536  # a batch fits a request


def test_librdkafka_config_passes_through_and_wins() -> None:
    config = producer_config(
        "h:1",
        {"linger_ms": 5, "librdkafka_config": {"linger.ms": 50, "queue.buffering.max.kbytes": 1}},
    )
    assert config["linger.ms"] == 50
    assert config["queue.buffering.max.kbytes"] == 1


def test_unknown_and_unmappable_options_are_refused_with_the_way_out() -> None:
    with pytest.raises(TypeError, match=r"'linger'.*librdkafka_config"):
        producer_config("h:1", {"linger": 5})
    with pytest.raises(TypeError, match=r"ssl_context.*ssl\.ca\.location"):
        producer_config("h:1", {"ssl_context": ssl.create_default_context()})
    with pytest.raises(TypeError, match="group_id"):
        producer_config("h:1", {"group_id": "g"})  # a consumer option
    with pytest.raises(TypeError, match="'linger'"):
        Producer(PointingNumpyArray, NOWHERE, transport="confluent", linger=5, linger_ms=1)


def test_consumer_options_map_and_a_group_less_consumer_gets_a_private_id() -> None:
    config = consumer_config(
        "h:1",
        {
            "group_id": "display",
            "auto_offset_reset": "earliest",
            "enable_auto_commit": False,
            "session_timeout_ms": 6000,
            "max_partition_fetch_bytes": 32 * 2**20,
            "max_poll_records": 10,
        },
    )
    assert config["group.id"] == "display"
    assert config["auto.offset.reset"] == "earliest"
    assert config["enable.auto.commit"] is False
    assert config["session.timeout.ms"] == 6000
    assert config["max.partition.fetch.bytes"] == 32 * 2**20
    assert "max_poll_records" not in config and "max.poll.records" not in config

    first, second = consumer_config("h:1", {}), consumer_config("h:1", {})
    assert first["group.id"].startswith("dq-sdk-no-group-")
    assert first["group.id"] != second["group.id"]
    assert consumer_config("h:1", {"auto_offset_reset": "none"})["auto.offset.reset"] == "error"
    big = consumer_config("h:1", {"fetch_max_bytes": 200_000_000})
    assert big["receive.message.max.bytes"] >= 200_000_000 + 512


def test_choosing_the_transport_connects_nothing_until_started() -> None:
    producer = Producer(PointingNumpyArray, NOWHERE, topic="t", transport="confluent")
    consumer = Consumer(PointingNumpyArray, NOWHERE, topics=["t"], transport="confluent")
    seed_producer = DataQueueProducer(NOWHERE, transport="confluent", linger_ms=5)
    seed_consumer = DataQueueConsumer(NOWHERE, topics=["t"], transport="confluent")
    clients = [
        producer._publisher._client,
        seed_producer._publisher._client,
        consumer._subscriber._client,
        seed_consumer._subscriber._client,
    ]
    assert [type(c) for c in clients] == [
        ConfluentProducerClient,
        ConfluentProducerClient,
        ConfluentConsumerClient,
        ConfluentConsumerClient,
    ]
    assert producer.encode(PointingNumpyArray.model_validate(_row()))  # no broker needed


def test_record_metadata_has_the_fields_of_aiokafkas() -> None:
    metadata = ConfluentRecordMetadata("t", 2, 41, 1_700_000_000_000, 0)
    assert (metadata.topic, metadata.partition, metadata.offset) == ("t", 2, 41)
    assert metadata.timestamp == 1_700_000_000_000


def test_librdkafka_errors_become_dq_sdk_errors_with_the_address() -> None:
    timed_out = dq_error(LibKafkaError(LibKafkaError._MSG_TIMED_OUT), "delivering", "h:1")
    assert isinstance(timed_out, BrokerUnavailableError) and "'h:1'" in str(timed_out)
    other = dq_error(LibKafkaError(LibKafkaError.TOPIC_AUTHORIZATION_FAILED), "sending", "h:1")
    assert type(other) is KafkaError and "'h:1'" in str(other)


async def test_starting_against_a_dead_address_fails_in_bounded_time() -> None:
    address = f"127.0.0.1:{free_port()}"  # nothing listens there
    for client in (
        ConfluentProducerClient(address, connect_timeout_s=0.5),
        ConfluentConsumerClient(address, connect_timeout_s=0.5),
    ):
        started = time.monotonic()
        with pytest.raises(BrokerUnavailableError, match=address):
            await client.start()
        assert time.monotonic() - started < 5


def _row() -> dict[str, object]:
    values: dict[str, object] = dict.fromkeys(PointingNumpyArray.model_fields, 0.5)
    values["antenna_name"] = "SKA001"
    return values
