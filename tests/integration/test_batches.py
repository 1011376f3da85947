"""send_batch on each transport's batch path: where each message lands, in which order, with
which metadata, and what is refused before anything is sent."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pytest

from dq_sdk import BrokerError, Consumer, MessageTooLargeError, Producer, RecordMetadata
from dq_sdk._transport import TransportName
from dq_sdk._transport._base import when_all
from dq_sdk.demo import pointing_offsets
from dq_sdk.schemas import PointingNumpyArray, StructuredArray

LIMIT_S = 30
PointingArray = StructuredArray[PointingNumpyArray]
# Record batches of this size (aiokafka's own default; dq-sdk's is 1,000,000 bytes): a row is
# about 600 bytes on the wire, so 2,000 rows fill some 70 of them, and a 200-antenna array
# (27 KiB) never fits one with another message.
BATCH_BYTES = 16 * 1024
SMALL_BATCHES: dict[str, Any] = {"max_batch_size": BATCH_BYTES}


def row(index: int) -> PointingNumpyArray:
    values: dict[str, object] = dict.fromkeys(PointingNumpyArray.model_fields, 0.5)
    values.update(antenna_name=f"R{index:05d}", xel_offset=float(index))
    return PointingNumpyArray.model_validate(values)


def index_of(message: PointingNumpyArray) -> int:
    return int(message.xel_offset)


async def read_all(
    bootstrap: str, topic: str, count: int, transport: TransportName
) -> dict[tuple[int, int], PointingNumpyArray]:
    """Every message of the topic by (partition, offset); bounded in count and time."""
    found: dict[tuple[int, int], PointingNumpyArray] = {}
    async with Consumer(
        PointingNumpyArray, bootstrap, topics=[topic], transport=transport
    ) as consumer:
        async with asyncio.timeout(LIMIT_S):
            for _ in range(count):
                received = await consumer.receive(timeout_s=LIMIT_S)
                found[received.partition, received.offset] = received.value
    return found


def check_placement(
    sent: Sequence[PointingNumpyArray],
    metadata: Sequence[RecordMetadata],
    found: dict[tuple[int, int], PointingNumpyArray],
    topic: str,
) -> dict[int, list[int]]:
    """Metadata i describes message i; per partition, offsets are contiguous and follow the
    input order. Returns the message indices of each partition."""
    assert len(metadata) == len(sent)
    assert [m.topic for m in metadata] == [topic] * len(sent)
    for message, meta in zip(sent, metadata, strict=True):
        assert found[meta.partition, meta.offset] == message
        assert meta.timestamp > 0
    per_partition: dict[int, list[int]] = {}
    for index, meta in enumerate(metadata):
        per_partition.setdefault(meta.partition, []).append(index)
    for partition, indices in per_partition.items():
        offsets = [metadata[i].offset for i in indices]
        assert offsets == list(range(offsets[0], offsets[0] + len(offsets))), partition
    return per_partition


async def test_a_large_batch_is_contiguous_ordered_and_described_in_order(
    dq_bootstrap: str, transport: TransportName, dq_topic: str
) -> None:
    sent = [row(i) for i in range(2_000)]  # many builders' worth
    async with Producer(
        PointingNumpyArray, dq_bootstrap, topic=dq_topic, transport=transport, **SMALL_BATCHES
    ) as producer:
        first = await producer.send(row(-1))
        metadata = await producer.send_batch(sent)
        again = await producer.send_batch(sent[:3])
    assert first.offset == 0
    assert [m.offset for m in metadata] == list(range(1, len(sent) + 1))
    assert [m.offset for m in again] == [len(sent) + 1, len(sent) + 2, len(sent) + 3]
    found = await read_all(dq_bootstrap, dq_topic, len(sent) + 4, transport)
    check_placement(sent, metadata, found, dq_topic)


async def test_messages_larger_than_a_builder_each_go_in_their_own(
    dq_bootstrap: str, transport: TransportName, dq_topic: str
) -> None:
    rng = np.random.default_rng(3)
    arrays = [pointing_offsets(200, scan, rng) for scan in range(12)]
    async with Producer(
        PointingArray, dq_bootstrap, topic=dq_topic, transport=transport, **SMALL_BATCHES
    ) as producer:
        metadata = await producer.send_batch(arrays)
    assert [m.offset for m in metadata] == list(range(len(arrays)))
    async with Consumer(PointingArray, dq_bootstrap, topics=[dq_topic], transport=transport) as c:
        received = [await c.receive(timeout_s=LIMIT_S) for _ in arrays]
    assert [r.value for r in received] == arrays


async def test_keys_land_where_single_sends_with_that_key_land(
    dq_bootstrap: str, transport: TransportName, dq_topic_factory: Callable[..., str]
) -> None:
    topic = dq_topic_factory(partitions=4)
    keys = [f"SKA{i:03d}" for i in range(12)]
    sent: list[PointingNumpyArray] = []
    metadata: list[RecordMetadata] = []
    async with Producer(
        PointingNumpyArray, dq_bootstrap, topic=topic, transport=transport
    ) as producer:
        single = {
            key: (await producer.send(row(-1 - n), key=key)).partition for n, key in enumerate(keys)
        }
        for n, key in enumerate(keys):
            batch = [row(1000 * n + i) for i in range(40)]
            described = await producer.send_batch(batch, key=key)
            assert {m.partition for m in described} == {single[key]}, key
            sent += batch
            metadata += described
    assert len(set(single.values())) > 1  # the keys do spread over the partitions
    found = await read_all(dq_bootstrap, topic, len(sent) + len(keys), transport)
    check_placement(sent, metadata, {k: v for k, v in found.items() if index_of(v) >= 0}, topic)


async def test_keyless_batches_spread_over_partitions_each_in_order(
    dq_bootstrap: str, transport: TransportName, dq_topic_factory: Callable[..., str]
) -> None:
    topic = dq_topic_factory(partitions=3)
    sent = [row(i) for i in range(600)]
    async with Producer(
        PointingNumpyArray, dq_bootstrap, topic=topic, transport=transport
    ) as producer:
        metadata = await producer.send_batch(sent)
    found = await read_all(dq_bootstrap, topic, len(sent), transport)
    per_partition = check_placement(sent, metadata, found, topic)
    if transport == "aiokafka":  # as send() without a key: a uniform pick per message
        assert set(per_partition) == {0, 1, 2}
        assert all(len(indices) > 100 for indices in per_partition.values())


async def test_an_explicit_partition_takes_the_whole_batch(
    dq_bootstrap: str, transport: TransportName, dq_topic_factory: Callable[..., str]
) -> None:
    topic = dq_topic_factory(partitions=3)
    sent = [row(i) for i in range(300)]
    async with Producer(
        PointingNumpyArray, dq_bootstrap, topic=topic, transport=transport
    ) as producer:
        metadata = await producer.send_batch(sent, partition=2, key="SKA001")
        with pytest.raises(BrokerError, match="no partition 3"):
            await producer.send_batch(sent[:2], partition=3)
    assert [(m.partition, m.offset) for m in metadata] == [(2, i) for i in range(len(sent))]
    found = await read_all(dq_bootstrap, topic, len(sent), transport)
    check_placement(sent, metadata, found, topic)


async def test_one_message_over_the_limit_means_none_is_sent(
    dq_bootstrap: str, transport: TransportName, dq_topic: str
) -> None:
    big = pointing_offsets(2_000, 1, np.random.default_rng(5))  # about 270 KiB
    small = pointing_offsets(2, 1, np.random.default_rng(6))
    async with Producer(
        PointingArray,
        dq_bootstrap,
        topic=dq_topic,
        transport=transport,
        max_request_size=128 * 1024,
    ) as producer:
        with pytest.raises(MessageTooLargeError):
            await producer.send_batch([small, small, big, small])
        marker = await producer.send(small)
    assert marker.offset == 0  # nothing of the refused batch reached the topic


async def test_chunked_messages_keep_their_place_in_a_batch(
    dq_bootstrap: str, transport: TransportName, dq_topic: str
) -> None:
    rng = np.random.default_rng(8)
    sizes = [2, 900, 3, 4, 700, 5]  # 900 and 700 antennas are over the chunk size
    arrays = [pointing_offsets(n, scan, rng) for scan, n in enumerate(sizes)]
    async with Producer(
        PointingArray, dq_bootstrap, topic=dq_topic, transport=transport, chunk_size=32 * 1024
    ) as producer:
        metadata = await producer.send_batch(arrays)
    offsets = [m.offset for m in metadata]
    assert offsets == sorted(offsets) and len(set(offsets)) == len(arrays)
    assert offsets[1] - offsets[0] > 1  # the chunks of the second message came in between
    async with Consumer(PointingArray, dq_bootstrap, topics=[dq_topic], transport=transport) as c:
        received = [await c.receive(timeout_s=LIMIT_S) for _ in arrays]
    assert [r.value for r in received] == arrays


async def test_an_empty_batch_sends_nothing(
    dq_bootstrap: str, transport: TransportName, dq_topic: str
) -> None:
    async with Producer(
        PointingNumpyArray, dq_bootstrap, topic=dq_topic, transport=transport
    ) as producer:
        assert await producer.send_batch([]) == []
        assert (await producer.send(row(0))).offset == 0


async def test_when_all_gives_results_in_order_or_the_first_failure() -> None:
    loop = asyncio.get_running_loop()
    futures = [loop.create_future() for _ in range(3)]
    done = when_all(futures, list)
    for value, future in zip((2, 0, 1), reversed(futures), strict=True):
        future.set_result(value)
    assert await done == [1, 0, 2]
    futures = [loop.create_future() for _ in range(3)]
    failed = when_all(futures, list)
    futures[2].set_exception(KeyError("late"))
    futures[1].set_exception(ValueError("first in order"))
    futures[0].set_result(0)
    with pytest.raises(ValueError, match="first in order"):
        await failed
    assert await when_all([], list) == []


async def test_aiokafka_batches_use_its_batch_api_not_send(
    dq_bootstrap: str, dq_topic: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import aiokafka

    handed_over: list[int] = []
    original = aiokafka.AIOKafkaProducer.send_batch

    async def counting(self: object, batch: object, topic: str, *, partition: int) -> object:
        handed_over.append(partition)
        return await original(self, batch, topic, partition=partition)

    async def refused(*args: object, **kwargs: object) -> None:
        raise AssertionError("send_batch must not go through send()")

    monkeypatch.setattr(aiokafka.AIOKafkaProducer, "send_batch", counting)
    monkeypatch.setattr(aiokafka.AIOKafkaProducer, "send", refused)
    sent = [row(i) for i in range(200)]
    async with Producer(PointingNumpyArray, dq_bootstrap, topic=dq_topic) as producer:
        metadata = await producer.send_batch(sent)
    assert [m.offset for m in metadata] == list(range(len(sent)))
    assert len(handed_over) == 1 and handed_over == [0]  # 200 rows: one record batch


@pytest.mark.parametrize(
    ("options", "cap"),
    [
        ({}, 1_000_000),  # dq-sdk's default max_batch_size
        ({"max_request_size": 256 * 1024}, 256 * 1024),  # no bigger than a request may be
        ({"max_batch_size": BATCH_BYTES}, BATCH_BYTES),  # or what the user says
    ],
    ids=["default", "max_request_size", "max_batch_size"],
)
async def test_aiokafka_record_batches_are_a_megabyte_unless_told_otherwise(
    dq_bootstrap: str,
    dq_topic: str,
    monkeypatch: pytest.MonkeyPatch,
    options: dict[str, Any],
    cap: int,
) -> None:
    import aiokafka

    sizes: list[int] = []
    original = aiokafka.AIOKafkaProducer.send_batch

    async def measuring(self: object, batch: Any, topic: str, *, partition: int) -> object:
        future = await original(self, batch, topic, partition=partition)
        sizes.append(batch.size())  # closed once handed over: its final size
        return future

    monkeypatch.setattr(aiokafka.AIOKafkaProducer, "send_batch", measuring)
    sent = [row(i) for i in range(3_000)]  # about 1.8 MB on the wire
    async with Producer(PointingNumpyArray, dq_bootstrap, topic=dq_topic, **options) as producer:
        metadata = await producer.send_batch(sent)
    assert [m.offset for m in metadata] == list(range(len(sent)))
    # Every batch but the last is full: no room left for another row (about 600 bytes).
    assert len(sizes) >= 2 and sum(sizes) > 1_500_000
    assert all(cap - 1_000 < size <= cap for size in sizes[:-1]), sizes
    assert sizes[-1] <= cap
