"""Metrics against the real broker, read with the OpenTelemetry SDK's in-memory reader, on
both transports: counts, bytes, partitions, models, durations, bad messages and lag."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from dq_sdk import (
    Consumer,
    DataQueueConsumer,
    DataQueueProducer,
    DecodeError,
    MessageTooLargeError,
    Producer,
    TransportName,
)
from dq_sdk.schemas import PointingNumpyArray, StructuredArray
from dq_sdk.telemetry import (
    CONSUMED_BYTES,
    CONSUMED_MESSAGES,
    CONSUMER_LAG,
    OPERATION_DURATION,
    REJECTED_BYTES,
    REJECTED_MESSAGES,
    SENT_BYTES,
    SENT_MESSAGES,
)

from .conftest import Telemetry

LIMIT_S = 20
PointingArray = StructuredArray[PointingNumpyArray]
MODEL = "StructuredArray[PointingNumpyArray]"


def pointing(n: int, scan: int) -> PointingArray:
    array = np.zeros(n, dtype=PointingNumpyArray.numpy_dtype())
    array["antenna_name"] = [f"SKA{i:03d}" for i in range(n)]
    array["xel_offset"] = np.random.default_rng(scan).normal(size=n)
    array["last_scan_index"] = scan
    return PointingArray(array)


async def test_sends_count_messages_and_bytes_per_partition_with_model_and_duration(
    dq_bootstrap: str,
    dq_topic_factory: Callable[..., str],
    transport: TransportName,
    otel: Telemetry,
) -> None:
    topic = dq_topic_factory(partitions=2)
    messages = [pointing(n, scan) for scan, n in enumerate((3, 5, 7, 11, 13))]
    async with Producer(PointingArray, dq_bootstrap, topic=topic, transport=transport) as producer:
        single = await producer.send(messages[0], partition=1)
        batch = await producer.send_batch(messages[1:], partition=0)
    sizes = [len(producer.encode(m)) for m in messages]

    base = {
        "messaging.system": "kafka",
        "messaging.operation.name": "send",
        "messaging.destination.name": topic,
        "dq_sdk.model": MODEL,
        "dq_sdk.transport": transport,
    }
    one, zero = (
        {**base, "messaging.destination.partition.id": "1"},
        {
            **base,
            "messaging.destination.partition.id": "0",
        },
    )
    assert single.partition == 1 and {m.partition for m in batch} == {0}
    assert otel.total(SENT_MESSAGES, one) == 1
    assert otel.total(SENT_MESSAGES, zero) == 4
    assert otel.total(SENT_BYTES, one) == sizes[0]
    assert otel.total(SENT_BYTES, zero) == sum(sizes[1:])
    assert all("error.type" not in attributes for attributes, _ in otel.points(SENT_MESSAGES))
    # One duration per call: the awaited send and the batch, each of at least one round trip.
    durations = otel.points(OPERATION_DURATION)
    assert sorted(p.count for _, p in durations) == [1, 1]
    assert all(0 < p.sum < LIMIT_S for _, p in durations)
    assert {a["messaging.destination.partition.id"] for a, _ in durations} == {"0", "1"}


async def test_a_failed_send_is_counted_with_its_error_type(
    dq_bootstrap: str, dq_topic: str, transport: TransportName, otel: Telemetry
) -> None:
    async with DataQueueProducer(
        dq_bootstrap, topic=dq_topic, transport=transport, max_request_size=2048
    ) as producer:
        await producer.send(b"small")
        with pytest.raises(MessageTooLargeError):
            await producer.send(b"x" * 4096)
    where = {"messaging.destination.name": dq_topic}
    assert otel.total(SENT_MESSAGES, where) == 2
    failed = {**where, "error.type": "MessageTooLargeError"}
    assert otel.total(SENT_MESSAGES, failed) == 1
    assert otel.total(SENT_BYTES, failed) == 4096
    # The seed API has no model: no model attribute, the rest as for typed producers.
    assert all("dq_sdk.model" not in a for a, _ in otel.points(SENT_MESSAGES))


async def test_consumer_counts_handed_over_messages_lag_and_processing_time(
    dq_bootstrap: str, dq_topic: str, transport: TransportName, otel: Telemetry
) -> None:
    messages = [pointing(4, scan) for scan in range(10)]
    async with Producer(PointingArray, dq_bootstrap, topic=dq_topic) as producer:
        await producer.send_batch(messages)
    size = len(producer.encode(messages[0]))

    # tansu answers a group join after about half the session timeout: keep it short.
    async with Consumer(
        PointingArray,
        dq_bootstrap,
        topics=[dq_topic],
        group_id=f"g-{dq_topic}",
        session_timeout_ms=6000,
        transport=transport,
    ) as consumer:
        for _ in range(4):
            await consumer.receive(timeout_s=LIMIT_S)
        # 10 in the partition, 4 handed over: the 4th is in hand, 6 come after it.
        lag = otel.points(CONSUMER_LAG)
        assert [(a["messaging.destination.partition.id"], p.value) for a, p in lag] == [("0", 6)]
        assert lag[0][0]["messaging.consumer.group.name"] == f"g-{dq_topic}"
        assert lag[0][0]["messaging.destination.name"] == dq_topic
        for _ in range(6):
            await consumer.receive(timeout_s=LIMIT_S)
        assert [p.value for _, p in otel.points(CONSUMER_LAG)] == [0]
    # A stopped consumer reports no lag any more.
    assert [p.value for _, p in otel.points(CONSUMER_LAG)] == []

    where = {
        "messaging.system": "kafka",
        "messaging.operation.name": "process",
        "messaging.destination.name": dq_topic,
        "messaging.destination.partition.id": "0",
        "messaging.consumer.group.name": f"g-{dq_topic}",
        "dq_sdk.model": MODEL,
        "dq_sdk.transport": transport,
    }
    assert otel.total(CONSUMED_MESSAGES, where) == 10
    assert otel.total(CONSUMED_BYTES, where) == 10 * size
    # Every message's span ended: 9 by asking for the next message, the last by leaving.
    assert len(otel.spans("CONSUMER")) == 10


async def test_bad_messages_are_counted_by_policy_and_error_type(
    dq_bootstrap: str,
    dq_topic_factory: Callable[..., str],
    transport: TransportName,
    otel: Telemetry,
) -> None:
    topic, dead = dq_topic_factory(), dq_topic_factory()
    poison = [b"\xc1 not msgpack", b"\xc1\xc1"]
    async with DataQueueProducer(dq_bootstrap, topic=topic) as raw:
        for value in poison:
            await raw.send(value)
    async with Producer(PointingArray, dq_bootstrap, topic=topic) as typed:
        await typed.send(pointing(2, 1))

    async with Consumer(
        PointingArray, dq_bootstrap, topics=[topic], transport=transport, on_error="skip"
    ) as skipping:
        await skipping.receive(timeout_s=LIMIT_S)
    async with Consumer(
        PointingArray,
        dq_bootstrap,
        topics=[topic],
        transport=transport,
        on_error="dead_letter",
        dead_letter_topic=dead,
    ) as dead_lettering:
        await dead_lettering.receive(timeout_s=LIMIT_S)
    async with DataQueueConsumer(
        dq_bootstrap, topics=[topic], transport=transport, encoding="msgpack_numpy"
    ) as raising:
        for _ in poison:
            with pytest.raises(DecodeError):
                await raising.receive(timeout_s=LIMIT_S)
        await raising.receive(timeout_s=LIMIT_S)

    rejected = otel.points(REJECTED_MESSAGES)
    by_action = {a["dq_sdk.on_error"]: p.value for a, p in rejected}
    assert by_action == {"skip": 2, "dead_letter": 2, "raise": 2}
    assert {a["error.type"] for a, _ in rejected} == {"DecodeError"}
    assert all(a["messaging.destination.name"] == topic for a, _ in rejected)
    assert otel.total(REJECTED_BYTES, {"dq_sdk.on_error": "skip"}) == sum(map(len, poison))
    # The good message, once per consumer; bad ones are not "consumed".
    assert otel.total(CONSUMED_MESSAGES, {"messaging.destination.name": topic}) == 3


async def test_batches_count_like_single_messages_and_link_their_senders(
    dq_bootstrap: str, dq_topic: str, transport: TransportName, otel: Telemetry
) -> None:
    rows = [PointingNumpyArray.from_record(pointing(1, scan).array[0]) for scan in range(6)]
    async with Producer(PointingNumpyArray, dq_bootstrap, topic=dq_topic) as producer:
        await producer.send_batch(rows[:3])
        await producer.send_batch(rows[3:])
    size = len(producer.encode(rows[0]))
    async with Consumer(
        PointingNumpyArray, dq_bootstrap, topics=[dq_topic], transport=transport
    ) as consumer:
        got = 0
        for _ in range(50):  # bounded: 6 rows arrive in one or a few fetches
            got += len(await consumer.receive_batch(timeout_s=LIMIT_S))
            if got == 6:
                break
        lag = [p.value for _, p in otel.points(CONSUMER_LAG)]
    assert got == 6
    where = {"messaging.destination.name": dq_topic, "dq_sdk.model": "PointingNumpyArray"}
    assert otel.total(CONSUMED_MESSAGES, where) == 6
    assert otel.total(CONSUMED_BYTES, where) == 6 * size
    assert lag == [0]
    sends = otel.spans("PRODUCER")
    batches = otel.spans("CONSUMER")
    assert len(sends) == 2 and batches
    counts = [dict(b.attributes or {})["messaging.batch.message_count"] for b in batches]
    assert sum(c for c in counts if isinstance(c, int)) == 6
    linked = {link.context.span_id for b in batches for link in b.links}
    assert linked == {s.context.span_id for s in sends if s.context is not None}
