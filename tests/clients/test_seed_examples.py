"""Every data-moving example of the SKA Data Queue Library's documentation, as written there.

Only the import line changes (``ska_sdp_dataqueues`` -> ``dq_sdk``), ``kafka_host`` points at the
test broker, topic names get a unique suffix so examples do not see each other's messages, and
producers and consumers get ``transport=transport`` so each example runs on both transports.
Two bugs of the document are fixed, not copied: the stream example sends through ``queue``, a
name it never defines (it means ``producer``), and the schema example forgets ``await``.
"""

from __future__ import annotations

import asyncio
import uuid

import numpy as np
import pytest

from dq_sdk import DataQueueAdmin, DataQueueConsumer, DataQueueProducer, Encoding, TransportName
from dq_sdk.schemas.numpy_structured_pointing import PointingNumpyArray

LIMIT_S = 30


def unique(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}"


async def test_send_data_to_a_topic(dq_bootstrap: str, transport: TransportName) -> None:
    kafka_host = dq_bootstrap
    kafka_topic = unique("test-topic")
    message = "Testing Testing"
    encoding = Encoding.ASCII

    async with DataQueueProducer(
        kafka_host, topic=kafka_topic, encoding=encoding, transport=transport
    ) as queue:
        record = await queue.send(message)

    assert record.topic == kafka_topic
    assert record.offset == 0
    async with DataQueueConsumer(
        kafka_host, topics=[kafka_topic], encoding="ascii", transport=transport
    ) as consumer:
        topic, received = await consumer.receive(timeout_s=LIMIT_S)
    assert (topic, received) == (kafka_topic, "Testing Testing")


async def test_stream_data_from_multiple_topics(
    dq_bootstrap: str, transport: TransportName
) -> None:
    kafka_host = dq_bootstrap
    topics = [unique("test-topic-1"), unique("test-topic-2")]
    seen = []

    consumer = DataQueueConsumer(
        kafka_host, topics=topics, encoding=Encoding.UTF8, transport=transport
    )
    producer = DataQueueProducer(kafka_host, transport=transport)

    async with asyncio.timeout(LIMIT_S):
        async with producer:
            for topic in topics:
                await producer.send(data="message", encoding=Encoding.UTF8, topic=topic)

        async with consumer:
            ind = 0
            async for topic, message in consumer:
                print(topic, message)
                seen.append((topic, message))
                ind += 1
                if ind == 2:
                    # once we got the data from both topics, exit
                    break

    assert sorted(seen) == sorted((t, "message") for t in topics)


async def test_raw_bytes_without_encoding(dq_bootstrap: str, transport: TransportName) -> None:
    topic = unique("raw")
    async with DataQueueProducer(dq_bootstrap, transport=transport) as producer:
        await producer.send(data="message", encoding=Encoding.UTF8, topic=topic)
    async with DataQueueConsumer(dq_bootstrap, topics=[topic], transport=transport) as consumer:
        assert await consumer.receive(timeout_s=LIMIT_S) == (topic, b"message")


async def test_schema_validation_example(dq_bootstrap: str, transport: TransportName) -> None:
    pointing_data = {
        "antenna_name": "MKT001",
        "last_scan_index": 9.0,
        "xel_offset": 3.5,
        "xel_offset_std": 0.1,
        "el_offset": 2.8,
        "el_offset_std": 0.1,
        "expected_width_h": 1.1,
        "expected_width_v": 1.1,
        "fitted_width_h": 1.3,
        "fitted_width_h_std": 0.1,
        "fitted_width_v": 1.2,
        "fitted_width_v_std": 0.1,
        "fitted_height": 100.0,
        "fitted_height_std": 1.2,
    }

    pointing_data_numpy = PointingNumpyArray(**pointing_data).to_numpy()  # type: ignore[arg-type]

    kafka_host = dq_bootstrap
    kafka_topic = unique("test-topic")

    async def run() -> object:
        async with DataQueueProducer(kafka_host, topic=kafka_topic, transport=transport) as queue:
            return await queue.send(
                pointing_data_numpy,
                encoding=Encoding.MSGPACK_NUMPY,
                schema=PointingNumpyArray,
                validate=True,
            )

    record = await run()
    assert getattr(record, "topic", None) == kafka_topic

    async with DataQueueConsumer(
        kafka_host, topics=[kafka_topic], encoding="msgpack_numpy", transport=transport
    ) as c:
        _, received = await c.receive(timeout_s=LIMIT_S)
    assert received.dtype == pointing_data_numpy.dtype
    np.testing.assert_array_equal(received, pointing_data_numpy)


async def test_dynamically_allocating_topics(dq_bootstrap: str, transport: TransportName) -> None:
    kafka_host = dq_bootstrap
    topics = [unique("test-topic-1"), unique("test-topic-2")]
    seen = []

    async with asyncio.timeout(LIMIT_S):
        async with DataQueueProducer(kafka_host, transport=transport) as producer:
            for topic in topics:
                await producer.send("message", encoding=Encoding.UTF8, topic=topic)

        async with DataQueueConsumer(
            kafka_host, encoding=Encoding.UTF8, transport=transport
        ) as consumer:
            consumer.update_topics(topics)
            async for topic, message in consumer:
                print(topic, message)
                seen.append((topic, message))
                if len(seen) == 2:  # the document's loop runs forever; ours stops when done
                    break

    assert sorted(seen) == sorted((t, "message") for t in topics)


async def test_update_topics_from_another_task_while_iterating(
    dq_bootstrap: str, transport: TransportName
) -> None:
    """The seed's use case: a long-running consumer whose topics another task chooses."""
    first, second = unique("dyn-a"), unique("dyn-b")
    async with DataQueueAdmin(dq_bootstrap) as admin:
        await admin.create_topics([first, second])
    async with DataQueueProducer(dq_bootstrap, encoding="utf-8", transport=transport) as producer:
        await producer.send("from-a", topic=first)
        await producer.send("from-b", topic=second)

    async with DataQueueConsumer(dq_bootstrap, encoding="utf-8", transport=transport) as consumer:

        async def choose_topics() -> None:
            await asyncio.sleep(0.2)  # the consumer is already waiting in its loop
            consumer.update_topics([first])

        chooser = asyncio.create_task(choose_topics())
        assert await consumer.receive(timeout_s=LIMIT_S) == (first, "from-a")
        await chooser
        consumer.update_topics([second])
        assert await consumer.receive(timeout_s=LIMIT_S) == (second, "from-b")


async def test_assign_topics_with_partitions(dq_bootstrap: str, transport: TransportName) -> None:
    topic = unique("assigned")
    async with DataQueueAdmin(dq_bootstrap) as admin:
        await admin.create_topics([(topic, 4)])
    async with DataQueueProducer(
        dq_bootstrap, topic=topic, encoding="utf-8", transport=transport
    ) as producer:
        for partition in range(4):
            await producer.send(f"p{partition}", partition=partition)

    async with DataQueueConsumer(
        dq_bootstrap, encoding=Encoding.UTF8, transport=transport
    ) as consumer:
        consumer.assign_topics([(topic, 0), (topic, 3)])
        got = {await consumer.receive(timeout_s=LIMIT_S) for _ in range(2)}
        assert consumer.assignment() == [(topic, 0), (topic, 3)]
        with pytest.raises(TimeoutError):
            await consumer.receive(timeout_s=1.0)  # partitions 1 and 2 are not read
    assert got == {(topic, "p0"), (topic, "p3")}


async def test_manually_creating_topics(dq_bootstrap: str) -> None:
    names = {
        n: unique(n) for n in ("topic-1", "topic-2", "topic-3", "topic-4", "topic-5", "topic-6")
    }
    kafka_host = dq_bootstrap

    async with DataQueueAdmin(kafka_host) as admin:
        # Creating normal topics
        await admin.create_topics([names["topic-1"], names["topic-2"]])
        # Creating topics and setting the amount of partitions they must have at minimum
        await admin.create_topics([(names["topic-3"], 5), (names["topic-4"], 10)])
        # Mixing partitions with not setting partitions:
        await admin.create_topics([(names["topic-5"], 3), names["topic-6"]])

        described = {t.name: t.partitions for t in await admin.describe_topics(names.values())}

    assert described == {
        names["topic-1"]: 1,
        names["topic-2"]: 1,
        names["topic-3"]: 5,
        names["topic-4"]: 10,
        names["topic-5"]: 3,
        names["topic-6"]: 1,
    }
