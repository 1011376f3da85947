"""The confluent transport without a broker: option mapping, errors, and that choosing it
connects nothing until a client is started."""

from __future__ import annotations

import asyncio
import ssl
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from typing import Any, cast

import confluent_kafka
import pytest
from confluent_kafka import KafkaError as LibKafkaError
from confluent_kafka import KafkaException

from dq_sdk import (
    BrokerError,
    BrokerUnavailableError,
    Consumer,
    DataQueueConsumer,
    DataQueueProducer,
    Producer,
)
from dq_sdk._transport.confluent._common import (
    LIBRDKAFKA_LOG,
    consumer_config,
    dq_error,
    producer_config,
)
from dq_sdk._transport.confluent.consumer import ConfluentConsumerClient
from dq_sdk._transport.confluent.producer import ConfluentProducerClient, ConfluentRecordMetadata
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
        "logger": LIBRDKAFKA_LOG,  # librdkafka's log lines go to logging, not stderr
    }
    defaults = producer_config("h:1", {"compression_type": None})
    assert defaults["linger.ms"] == 0  # aiokafka's default, not librdkafka's 5 ms
    assert defaults["message.max.bytes"] == 1_048_576
    assert defaults["compression.type"] == "none"
    # librdkafka's own batch.size (1,000,000, capped by message.max.bytes), which dq-sdk's
    # aiokafka transport uses too.
    assert "batch.size" not in defaults


def test_librdkafka_config_passes_through_and_wins() -> None:
    config = producer_config(
        "h:1",
        {"linger_ms": 5, "librdkafka_config": {"linger.ms": 50, "queue.buffering.max.kbytes": 1}},
    )
    assert config["linger.ms"] == 50
    assert config["queue.buffering.max.kbytes"] == 1


def test_unknown_and_unmappable_options_are_refused_with_the_way_out() -> None:
    with pytest.raises(TypeError, match=r"'linger'.*client_options"):
        producer_config("h:1", {"linger": 5})
    with pytest.raises(TypeError, match=r"ssl_context.*ssl\.ca\.location"):
        producer_config("h:1", {"ssl_context": ssl.create_default_context()})
    with pytest.raises(TypeError, match="group_id"):
        producer_config("h:1", {"group_id": "g"})  # a consumer option
    with pytest.raises(TypeError, match="'linger'"):
        Producer(PointingNumpyArray, NOWHERE, transport="confluent", linger=5)  # type: ignore[call-arg]


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
        producer._sender._client,
        seed_producer._sender._client,
        consumer._fetcher._client,
        seed_consumer._fetcher._client,
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
    assert type(other) is BrokerError and "'h:1'" in str(other)


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


# --- enqueue_many against a stand-in for librdkafka's producer --------------------------------


class FakeMessage:
    """What librdkafka hands a delivery callback."""

    def __init__(self, partition: int, offset: int) -> None:
        self._partition, self._offset = partition, offset

    def topic(self) -> str:
        return "t"

    def partition(self) -> int:
        return self._partition

    def offset(self) -> int:
        return self._offset

    def timestamp(self) -> tuple[int, int]:
        return (confluent_kafka.TIMESTAMP_CREATE_TIME, 1_700_000_000_000 + self._offset)


class FakeProducer:
    """Queues ``produce()`` calls; refuses some with BufferError (queue full) or KafkaException."""

    def __init__(self, full_times: int = 0, fail_at: int | None = None) -> None:
        self.queued: list[tuple[bytes, Callable[[Any, Any], None]]] = []
        self.full_times, self.fail_at, self.calls = full_times, fail_at, 0

    def produce(self, topic: str, value: bytes, *args: Any, **kwargs: Any) -> None:
        self.calls += 1
        if self.fail_at is not None and len(self.queued) == self.fail_at:
            raise KafkaException(confluent_kafka.KafkaError(confluent_kafka.KafkaError._STATE))
        if self.full_times:
            self.full_times -= 1
            raise BufferError("queue full")
        self.queued.append((value, kwargs["on_delivery"]))


def client_with(fake: FakeProducer) -> ConfluentProducerClient:
    client = ConfluentProducerClient("h:1")
    # A stand-in for confluent_kafka.Producer (typed in some confluent-kafka releases only).
    cast(Any, client)._producer = fake
    client._loop = asyncio.get_running_loop()
    return client


def deliver(
    client: ConfluentProducerClient, fake: FakeProducer, order: list[int], errors: dict[int, int]
) -> None:
    """Run the delivery callbacks in ``order`` (as librdkafka's poll thread would), then settle."""
    for index in order:
        code = errors.get(index)
        error = None if code is None else confluent_kafka.KafkaError(code)
        fake.queued[index][1](error, FakeMessage(0, 100 + index))
    client._settle()


async def test_a_batch_resolves_once_every_report_is_in_with_metadata_in_input_order() -> None:
    fake = FakeProducer()
    client = client_with(fake)
    batch = await client.enqueue_many("t", [b"a", b"b", b"c"])
    assert [value for value, _ in fake.queued] == [b"a", b"b", b"c"]
    deliver(client, fake, [2, 0], {})
    assert not batch.done()  # one report is still out
    deliver(client, fake, [1], {})
    assert [m.offset for m in await batch] == [100, 101, 102]


async def test_a_batch_fails_with_the_first_failure_in_input_order() -> None:
    fake = FakeProducer()
    client = client_with(fake)
    batch = await client.enqueue_many("t", [b"a", b"b", b"c"])
    # Reports come back out of order; message 1's failure is the one to raise, as awaiting
    # single sends in order would.
    deliver(
        client,
        fake,
        [2, 1, 0],
        {2: confluent_kafka.KafkaError._MSG_TIMED_OUT, 1: confluent_kafka.KafkaError._TRANSPORT},
    )
    with pytest.raises(BrokerError, match="delivering to topic 't'") as caught:
        await batch
    assert "timed out" not in str(caught.value)  # message 1's transport error, not 2's timeout


async def test_a_full_local_queue_is_waited_out_and_order_kept() -> None:
    fake = FakeProducer(full_times=2)
    client = client_with(fake)
    batch = await client.enqueue_many("t", [b"a", b"b"])
    assert fake.calls == 4 and [value for value, _ in fake.queued] == [b"a", b"b"]
    deliver(client, fake, [0, 1], {})
    assert len(await batch) == 2


async def test_a_batch_refused_part_way_raises_and_its_queued_reports_settle_nothing() -> None:
    fake = FakeProducer(fail_at=1)
    client = client_with(fake)
    with pytest.raises(BrokerError, match="sending to topic 't'"):
        await client.enqueue_many("t", [b"a", b"b", b"c"])
    assert len(fake.queued) == 1
    deliver(client, fake, [0], {})  # the report of the one queued message: nothing to resolve
    assert not client._reports


WITHOUT_CONFLUENT = textwrap.dedent(
    """
    import sys
    sys.modules["confluent_kafka"] = None  # as if the extra were not installed
    import dq_sdk
    from dq_sdk import Admin, Consumer, MissingDependencyError, Producer
    from dq_sdk.schemas import PointingNumpyArray
    assert not [m for m in sys.modules if m.startswith("dq_sdk._transport.confluent")]
    for make in (
        lambda: Producer(PointingNumpyArray, "127.0.0.1:9", transport="confluent"),
        lambda: Consumer(PointingNumpyArray, "127.0.0.1:9", transport="confluent"),
        lambda: Admin("127.0.0.1:9", transport="confluent"),
    ):
        try:
            make()
        except MissingDependencyError as error:
            print(error)
        else:
            raise SystemExit("no MissingDependencyError")
    """
)


def test_without_the_extra_every_confluent_client_names_it() -> None:
    done = subprocess.run(
        [sys.executable, "-c", WITHOUT_CONFLUENT], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 3, done.stdout
    for line in lines:
        assert "confluent-kafka" in line and "dq-sdk[confluent]" in line, line
