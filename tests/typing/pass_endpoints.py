"""Typed endpoints: what mypy must infer (checked by test_endpoints_typing.py)."""

from __future__ import annotations

from typing import assert_type

from dq_sdk import Consumer, Producer, Received, RecordMetadata, RowBatch
from dq_sdk.schemas import MetricPayload, PointingNumpyArray, PointingTable, StructuredArray


async def producer_is_bound_to_its_model(server: str, row: PointingNumpyArray) -> None:
    producer = Producer(PointingNumpyArray, server, topic="pointing_offset")
    assert_type(producer, Producer[PointingNumpyArray])
    async with producer as entered:
        assert_type(entered, Producer[PointingNumpyArray])
        assert_type(await entered.send(row), RecordMetadata)
        assert_type(await entered.send_batch([row, row]), list[RecordMetadata])
        assert_type(entered.encode(row), bytes)


async def whole_arrays_are_a_model_too(
    server: str, offsets: StructuredArray[PointingNumpyArray]
) -> None:
    producer = Producer(StructuredArray[PointingNumpyArray], server, topic="pointing_offset")
    assert_type(producer, Producer[StructuredArray[PointingNumpyArray]])
    await producer.send(offsets)
    consumer = Consumer(StructuredArray[PointingNumpyArray], server, topics=["pointing_offset"])
    async for received in consumer:
        assert_type(received.value, StructuredArray[PointingNumpyArray])
        assert_type(received.value.rows(), list[PointingNumpyArray])


async def consumer_yields_envelopes_of_its_model(server: str) -> None:
    consumer = Consumer(MetricPayload, server, topics=["metrics-spectrum-01"])
    assert_type(consumer, Consumer[MetricPayload])
    async with consumer as entered:
        async for received in entered:
            assert_type(received, Received[MetricPayload])
            assert_type(received.value, MetricPayload)
            assert_type(received.offset, int)
            assert_type(received.key, bytes | None)
        assert_type(await entered.receive(timeout_s=1.0), Received[MetricPayload])


async def tables(server: str, table: PointingTable) -> None:
    async with Producer(PointingTable, server, topic="pointing_table") as producer:
        await producer.send(table)


def typed_options_with_their_types(server: str) -> None:
    producer = Producer(
        PointingNumpyArray,
        server,
        linger_ms=5,
        compression_type="zstd",
        acks="all",
        client_options={"metadata_max_age_ms": 1000},
    )
    assert_type(producer, Producer[PointingNumpyArray])
    # The bootstrap address may come from DQ_SDK_BOOTSTRAP / SDP_KAFKA_HOST instead.
    assert_type(Producer(MetricPayload, topic="m"), Producer[MetricPayload])
    consumer = Consumer(MetricPayload, topics="m", auto_offset_reset="latest", commit_interval_s=2)
    assert_type(consumer, Consumer[MetricPayload])


async def batches_are_columns_for_rows_and_lists_otherwise(server: str) -> None:
    rows = Consumer(PointingNumpyArray, server, topics=["pointing_offset"])
    batch = await rows.receive_batch(max_records=1000, timeout_s=1.0)
    assert_type(batch, RowBatch[PointingNumpyArray])
    assert_type(batch.rows, StructuredArray[PointingNumpyArray])
    async for each in rows.batches():
        assert_type(each, RowBatch[PointingNumpyArray])
    metrics = Consumer(MetricPayload, server, topics=["metrics-spectrum-01"])
    assert_type(await metrics.receive_batch(), list[Received[MetricPayload]])
    async for listed in metrics.batches(max_records=10):
        assert_type(listed, list[Received[MetricPayload]])
