"""The confluent transport against the real broker, where it must behave like aiokafka's:
metadata, partition errors, size limits, large messages and consumer-group commits.

(The shared data-moving tests run on both transports: see tests/integration/conftest.py.)
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import numpy as np
import pytest

from dq_sdk import (
    Admin,
    BrokerError,
    Consumer,
    DataQueueConsumer,
    DataQueueProducer,
    MessageTooLargeError,
    Producer,
)
from dq_sdk.schemas import PointingNumpyArray
from dq_sdk.testing import start_broker

LIMIT_S = 20
MiB = 2**20


def row(name: str) -> PointingNumpyArray:
    values: dict[str, object] = dict.fromkeys(PointingNumpyArray.model_fields, 0.25)
    values["antenna_name"] = name
    return PointingNumpyArray.model_validate(values)


async def test_metadata_matches_what_the_consumer_reads(dq_bootstrap: str, dq_topic: str) -> None:
    async with Producer(
        PointingNumpyArray, dq_bootstrap, topic=dq_topic, transport="confluent"
    ) as p:
        sent = [await p.send(row("SKA001")), *await p.send_batch([row("SKA002"), row("SKA003")])]
    assert [(m.topic, m.partition, m.offset) for m in sent] == [(dq_topic, 0, i) for i in range(3)]
    assert all(m.timestamp > 0 for m in sent)
    async with Consumer(
        PointingNumpyArray, dq_bootstrap, topics=[dq_topic], transport="confluent"
    ) as consumer:
        got = [await consumer.receive(timeout_s=LIMIT_S) for _ in sent]
    assert [g.value.antenna_name for g in got] == ["SKA001", "SKA002", "SKA003"]
    assert [g.timestamp for g in got] == [m.timestamp for m in sent]


async def test_a_missing_partition_is_a_clear_error(
    dq_bootstrap: str, dq_topic_factory: Callable[..., str]
) -> None:
    topic = dq_topic_factory(partitions=2)
    async with DataQueueProducer(dq_bootstrap, topic=topic, transport="confluent") as producer:
        assert (await producer.send(b"ok", partition=1)).partition == 1
        with pytest.raises(BrokerError, match=r"has no partition 5 \(it has \[0, 1\]\)") as caught:
            await producer.send(b"lost", partition=5)
    assert (caught.value.topic, caught.value.partition) == (topic, 5)


async def test_size_limit_is_checked_before_sending_and_can_be_raised(
    dq_bootstrap: str, dq_topic_factory: Callable[..., str]
) -> None:
    # As on a real cluster: the topic's own limit (1 MiB by default) is raised with the client's.
    dq_topic = dq_topic_factory(config={"max.message.bytes": 20 * MiB})
    big = np.arange(4 * MiB, dtype=np.float32).tobytes()  # 16 MiB
    async with DataQueueProducer(dq_bootstrap, topic=dq_topic, transport="confluent") as producer:
        with pytest.raises(MessageTooLargeError, match="max_request_size=1048576"):
            await producer.send(big)
    async with DataQueueProducer(
        dq_bootstrap, topic=dq_topic, transport="confluent", max_request_size=20 * MiB
    ) as producer:
        await producer.send(big)
    async with DataQueueConsumer(
        dq_bootstrap, topics=[dq_topic], transport="confluent", max_partition_fetch_bytes=20 * MiB
    ) as consumer:
        _, received = await consumer.receive(timeout_s=LIMIT_S)
    assert received == big


async def test_group_commits_resume_where_the_last_member_stopped(
    dq_bootstrap: str, dq_topic: str
) -> None:
    async with DataQueueProducer(dq_bootstrap, topic=dq_topic, transport="confluent") as producer:
        for text in ("a", "b", "c"):
            await producer.send(text.encode())

    # tansu answers a join after about half the session timeout: keep it short in tests.
    def member() -> DataQueueConsumer:
        return DataQueueConsumer(
            dq_bootstrap,
            topics=[dq_topic],
            group_id=f"{dq_topic}-group",
            session_timeout_ms=6000,
            transport="confluent",
        )

    async with asyncio.timeout(60):
        async with member() as first:
            assert [await first.receive(timeout_s=LIMIT_S) for _ in range(2)] == [
                (dq_topic, b"a"),
                (dq_topic, b"b"),
            ]
            assert first.assignment() == [(dq_topic, 0)]
        async with member() as second:
            assert await second.receive(timeout_s=LIMIT_S) == (dq_topic, b"c")


@pytest.mark.kafka
async def test_a_batch_whose_deliveries_fail_raises_one_error_naming_the_topic() -> None:
    broker = start_broker()
    try:
        async with Admin(broker.bootstrap) as admin:
            await admin.create_topics([("doomed", 1)])
        async with Producer(
            PointingNumpyArray,
            broker.bootstrap,
            topic="doomed",
            transport="confluent",
            client_options={"message.timeout.ms": 1500},
        ) as producer:
            assert len(await producer.send_batch([row("SKA001")])) == 1
            broker.stop()
            started = time.monotonic()
            with pytest.raises(BrokerError, match="delivering to topic 'doomed'") as caught:
                async with asyncio.timeout(LIMIT_S):
                    await producer.send_batch([row(f"SKA{i:03d}") for i in range(500)])
            assert caught.value.topic == "doomed"
            assert time.monotonic() - started < LIMIT_S
    finally:
        broker.stop()
