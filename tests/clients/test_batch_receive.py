"""Batch receive: ``Consumer.receive_batch`` / ``batches()`` on each transport.

Rows come as one columnar ``RowBatch`` whose arrays say where each row came from; other models
as a list of ``Received[M]``. Commits follow processing as with single receive, and bad
messages go through the policy one by one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import numpy as np
import pytest

from dq_sdk import (
    Consumer,
    DataQueueProducer,
    DecodeError,
    Producer,
    Received,
    RowBatch,
    TransportName,
)
from dq_sdk.schemas import PointingNumpyArray, StructuredArray

LIMIT_S = 30
PointingArray = StructuredArray[PointingNumpyArray]


def row(index: int) -> PointingNumpyArray:
    values: dict[str, object] = dict.fromkeys(PointingNumpyArray.model_fields, 0.25)
    values.update(antenna_name=f"R{index:05d}", xel_offset=float(index), el_offset=float("nan"))
    return PointingNumpyArray.model_validate(values)


async def rows_until(
    consumer: Consumer[PointingNumpyArray], count: int, max_records: int = 10_000
) -> list[RowBatch[PointingNumpyArray]]:
    """Batches until ``count`` rows arrived; bounded in time."""
    batches: list[RowBatch[PointingNumpyArray]] = []
    async with asyncio.timeout(LIMIT_S):
        while sum(len(b) for b in batches) < count:
            batches.append(await consumer.receive_batch(max_records=max_records, timeout_s=LIMIT_S))
    return batches


async def test_rows_arrive_as_one_array_with_where_each_came_from(
    dq_bootstrap: str, dq_topic_factory: Callable[..., str], transport: TransportName
) -> None:
    topic = dq_topic_factory(partitions=3)
    sent = [row(i) for i in range(600)]
    async with Producer(PointingNumpyArray, dq_bootstrap, topic=topic) as producer:
        metadata = await producer.send_batch(sent)
    where = {(m.partition, m.offset): i for i, m in enumerate(metadata)}

    async with Consumer(
        PointingNumpyArray, dq_bootstrap, topics=[topic], transport=transport
    ) as consumer:
        batches = await rows_until(consumer, len(sent))

    seen: list[int] = []
    for batch in batches:
        array = batch.rows.array
        assert type(batch.rows) is PointingArray
        assert array.dtype == PointingNumpyArray.numpy_dtype()
        assert len(array) == len(batch.offsets) == len(batch.partitions) == len(batch.topics)
        assert set(batch.topics) == {topic}
        assert (batch.timestamps > 0).all()
        for position in range(len(array)):
            index = where[int(batch.partitions[position]), int(batch.offsets[position])]
            # The row at this position is the one sent with this partition and offset.
            assert batch.rows[position] == sent[index]
            seen.append(index)
    assert sorted(seen) == list(range(len(sent)))


async def test_max_records_bounds_each_batch(
    dq_bootstrap: str, dq_topic: str, transport: TransportName
) -> None:
    async with Producer(PointingNumpyArray, dq_bootstrap, topic=dq_topic) as producer:
        await producer.send_batch([row(i) for i in range(250)])
    async with Consumer(
        PointingNumpyArray, dq_bootstrap, topics=[dq_topic], transport=transport
    ) as consumer:
        batches = await rows_until(consumer, 250, max_records=40)
    assert all(1 <= len(b) <= 40 for b in batches)
    offsets = np.concatenate([b.offsets for b in batches])
    assert offsets.tolist() == list(range(250))  # one partition: in order, none twice


async def test_a_batch_is_committed_once_the_next_is_asked_for(
    dq_bootstrap: str, dq_topic: str, transport: TransportName
) -> None:
    async with Producer(PointingNumpyArray, dq_bootstrap, topic=dq_topic) as producer:
        await producer.send_batch([row(i) for i in range(300)])
    group = f"{dq_topic}-group"

    def consumer() -> Consumer[PointingNumpyArray]:
        return Consumer(
            PointingNumpyArray,
            dq_bootstrap,
            topics=[dq_topic],
            group_id=group,
            transport=transport,
            # tansu holds a rebalance for about the session timeout when a member joins;
            # 6 s is the least Apache Kafka accepts by default.
            session_timeout_ms=6000,
        )

    # The first batch is processed (the second was asked for); the second is in hand when
    # the loop fails, so it is not committed and comes again.
    with pytest.raises(RuntimeError, match="pipeline failed"):
        async with consumer() as first:
            one = await first.receive_batch(max_records=100, timeout_s=LIMIT_S)
            two = await first.receive_batch(max_records=100, timeout_s=LIMIT_S)
            raise RuntimeError("pipeline failed")
    async with consumer() as second:
        again = await second.receive_batch(max_records=100, timeout_s=LIMIT_S)
    assert int(again.offsets[0]) == int(two.offsets[0]) == int(one.offsets[-1]) + 1


async def test_a_bad_message_is_skipped_alone(
    dq_bootstrap: str, dq_topic: str, transport: TransportName
) -> None:
    await _good_bad_good(dq_bootstrap, dq_topic)
    async with Consumer(
        PointingNumpyArray, dq_bootstrap, topics=[dq_topic], on_error="skip", transport=transport
    ) as consumer:
        batches = await rows_until(consumer, 10)
        assert consumer.policy.skipped == 1
    offsets = np.concatenate([b.offsets for b in batches]).tolist()
    assert offsets == [0, 1, 2, 3, 4, 6, 7, 8, 9, 10]
    names = [name for b in batches for name in b.rows.array["antenna_name"].tolist()]
    assert names == [f"R{i:05d}" for i in range(10)]


async def test_raise_ends_a_batch_before_the_bad_message_and_then_goes_on(
    dq_bootstrap: str, dq_topic: str, transport: TransportName
) -> None:
    await _good_bad_good(dq_bootstrap, dq_topic)
    async with Consumer(
        PointingNumpyArray, dq_bootstrap, topics=[dq_topic], transport=transport
    ) as consumer:
        before = await rows_until(consumer, 5)
        with pytest.raises(DecodeError) as caught:
            await consumer.receive_batch(timeout_s=LIMIT_S)
        after = await rows_until(consumer, 5)
    assert np.concatenate([b.offsets for b in before]).tolist() == [0, 1, 2, 3, 4]
    assert (caught.value.topic, caught.value.partition, caught.value.offset) == (dq_topic, 0, 5)
    assert np.concatenate([b.offsets for b in after]).tolist() == [6, 7, 8, 9, 10]


async def _good_bad_good(bootstrap: str, topic: str) -> None:
    """Offsets 0-4 and 6-10 are rows R00000-R00009; offset 5 is not msgpack at all."""
    async with Producer(PointingNumpyArray, bootstrap, topic=topic) as producer:
        await producer.send_batch([row(i) for i in range(5)])
        async with DataQueueProducer(bootstrap, topic=topic) as raw:
            await raw.send(b"\xc1 not msgpack")
        await producer.send_batch([row(i) for i in range(5, 10)])


async def test_other_models_come_as_a_list_of_received(
    dq_bootstrap: str, dq_topic: str, transport: TransportName
) -> None:
    arrays = [PointingArray.from_rows([row(i), row(i + 1)]) for i in range(0, 20, 2)]
    async with Producer(PointingArray, dq_bootstrap, topic=dq_topic) as producer:
        await producer.send_batch(arrays)
    got: list[Received[StructuredArray[PointingNumpyArray]]] = []
    async with Consumer(
        PointingArray, dq_bootstrap, topics=[dq_topic], transport=transport
    ) as consumer:
        async with asyncio.timeout(LIMIT_S):
            async for batch in consumer.batches(timeout_s=LIMIT_S):
                got.extend(batch)
                if len(got) >= len(arrays):
                    break
    assert [r.value for r in got] == arrays
    assert [r.offset for r in got] == list(range(len(arrays)))


async def test_max_records_is_checked(dq_bootstrap: str, dq_topic: str) -> None:
    async with Consumer(PointingNumpyArray, dq_bootstrap, topics=[dq_topic]) as consumer:
        for bad in (0, -1, 1.5, True):
            with pytest.raises(ValueError, match="max_records"):
                await consumer.receive_batch(max_records=bad, timeout_s=1)  # type: ignore[arg-type]
