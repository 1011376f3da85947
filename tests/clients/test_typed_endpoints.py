"""Producer[M] and Consumer[M] against the real broker: models in, models out, headers, and
sharing topics with the seed API."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import numpy as np
import pytest

from dq_sdk import (
    Consumer,
    DataQueueAdmin,
    DataQueueConsumer,
    DataQueueProducer,
    Encoding,
    MessageValidationError,
    Producer,
    SchemaMismatchError,
    TransportName,
)
from dq_sdk.examples import pointing_offsets, spectrum_metric
from dq_sdk.schemas import (
    MetricPayload,
    PointingNumpyArray,
    PointingTable,
    SpectralWindow,
    SpectrumItem,
    StructuredArray,
)

LIMIT_S = 20
PointingArray = StructuredArray[PointingNumpyArray]


def row(name: str = "SKA001", offset: float = 1e-4) -> PointingNumpyArray:
    values: dict[str, object] = dict.fromkeys(PointingNumpyArray.model_fields, 0.5)
    values.update(antenna_name=name, xel_offset=offset, fitted_height=float("nan"))
    return PointingNumpyArray.model_validate(values)


async def test_row_messages_round_trip_with_metadata_and_headers(
    dq_bootstrap: str, transport: TransportName, dq_topic: str
) -> None:
    sent = [row(f"SKA{i:03d}", i * 1e-5) for i in range(1, 4)]
    async with Producer(
        PointingNumpyArray, dq_bootstrap, topic=dq_topic, transport=transport
    ) as producer:
        first = await producer.send(sent[0], key="SKA001", headers={"origin": "test"})
        rest = await producer.send_batch(sent[1:])
    assert (first.topic, first.partition, first.offset) == (dq_topic, 0, 0)
    assert [m.offset for m in rest] == [1, 2]

    async with Consumer(
        PointingNumpyArray, dq_bootstrap, topics=[dq_topic], transport=transport
    ) as consumer:
        received = [await consumer.receive(timeout_s=LIMIT_S) for _ in sent]
    assert [r.value for r in received] == sent
    assert [r.offset for r in received] == [0, 1, 2]
    envelope = received[0]
    assert (envelope.topic, envelope.partition, envelope.key) == (dq_topic, 0, b"SKA001")
    headers = dict(envelope.headers)
    assert headers["dq-encoding"] == b"msgpack_numpy"
    assert headers["dq-schema-id"] == PointingNumpyArray.schema_id.encode()
    assert headers["dq-schema-version"] == PointingNumpyArray.schema_version.encode()
    assert headers["origin"] == b"test"
    assert envelope.timestamp > 0
    assert np.isnan(envelope.value.fitted_height)


async def test_whole_pointing_array_is_one_message_shared_with_the_seed_api(
    dq_bootstrap: str, transport: TransportName, dq_topic: str
) -> None:
    offsets = pointing_offsets(300, scan=7, rng=np.random.default_rng(1))
    async with Producer(PointingArray, dq_bootstrap, topic=dq_topic, transport=transport) as typed:
        await typed.send(offsets)
    async with DataQueueProducer(dq_bootstrap, topic=dq_topic, transport=transport) as seed:
        await seed.send(offsets.array, encoding=Encoding.MSGPACK_NUMPY)

    async with DataQueueConsumer(
        dq_bootstrap, topics=[dq_topic], transport=transport
    ) as raw_consumer:
        _, typed_bytes = await raw_consumer.receive(timeout_s=LIMIT_S)
        _, seed_bytes = await raw_consumer.receive(timeout_s=LIMIT_S)
    assert typed_bytes == seed_bytes  # the same wire value, byte for byte

    async with Consumer(
        PointingArray, dq_bootstrap, topics=[dq_topic], transport=transport
    ) as consumer:
        both = [await consumer.receive(timeout_s=LIMIT_S) for _ in range(2)]
    for envelope in both:
        assert envelope.value == offsets
        assert len(envelope.value) == 300
        assert envelope.value.array.dtype == PointingNumpyArray.numpy_dtype()


async def test_pointing_table_and_metrics_round_trip(
    dq_bootstrap: str, transport: TransportName, dq_topic_factory: Callable[..., str]
) -> None:
    table_topic, metric_topic = dq_topic_factory(), dq_topic_factory()
    table = PointingTable.example(antenna=8, time=3)
    metric = spectrum_metric(512, np.random.default_rng(3))
    async with Producer(
        PointingTable, dq_bootstrap, topic=table_topic, transport=transport
    ) as producer:
        await producer.send(table)
    async with Producer(
        MetricPayload, dq_bootstrap, topic=metric_topic, transport=transport
    ) as producer:
        await producer.send(metric)
    async with Consumer(
        PointingTable, dq_bootstrap, topics=[table_topic], transport=transport
    ) as consumer:
        got_table = (await consumer.receive(timeout_s=LIMIT_S)).value
    async with Consumer(
        MetricPayload, dq_bootstrap, topics=[metric_topic], transport=transport
    ) as consumer:
        got_metric = (await consumer.receive(timeout_s=LIMIT_S)).value
    import xarray as xr

    xr.testing.assert_identical(got_table.dataset, table.dataset)
    assert got_metric == metric
    assert isinstance(got_metric.data[0], SpectrumItem)


async def test_invalid_message_never_reaches_the_topic(
    dq_bootstrap: str, transport: TransportName, dq_topic: str
) -> None:
    wrong = np.zeros(3, dtype=[("antenna_name", "U4"), ("xel_offset", "f4")])
    good = pointing_offsets(3, scan=1, rng=np.random.default_rng(0))
    async with Producer(
        PointingArray, dq_bootstrap, topic=dq_topic, transport=transport
    ) as producer:
        with pytest.raises(MessageValidationError):
            await producer.send(PointingArray(wrong))
        await producer.send(good)
    async with DataQueueProducer(dq_bootstrap, topic=dq_topic, transport=transport) as seed:
        with pytest.raises(MessageValidationError) as caught:
            await seed.send(wrong, schema=PointingNumpyArray, validate=True)
    assert caught.value.topic == dq_topic
    assert len(caught.value.issues) > 1  # every problem, not only the first
    async with Consumer(
        PointingArray, dq_bootstrap, topics=[dq_topic], transport=transport
    ) as consumer:
        first = await consumer.receive(timeout_s=LIMIT_S)
        assert first.offset == 0 and first.value == good
        with pytest.raises(TimeoutError):
            await consumer.receive(timeout_s=0.5)


async def test_consumer_of_another_model_says_so_and_goes_on(
    dq_bootstrap: str, transport: TransportName, dq_topic: str
) -> None:
    metric = MetricPayload(
        data_type="spectrum",
        processing_block_id="pb-test-123-123",
        timestamp=datetime(2026, 11, 25, tzinfo=UTC),
        spectral_window=SpectralWindow(
            freq_min=1e8,
            freq_max=2e8,
            count=2,
            channels_id=1,
            spectral_window_id=1,
            start=0,
            stride=1,
        ),
        data=[SpectrumItem(polarisation="XX", power=np.array([1.0, 2.0]))],
    )
    async with Producer(
        MetricPayload, dq_bootstrap, topic=dq_topic, transport=transport
    ) as metrics:
        await metrics.send(metric)
    async with Producer(
        PointingNumpyArray, dq_bootstrap, topic=dq_topic, transport=transport
    ) as pointing:
        await pointing.send(row())

    async with Consumer(
        PointingNumpyArray, dq_bootstrap, topics=[dq_topic], transport=transport
    ) as consumer:
        with pytest.raises(SchemaMismatchError, match=r"MetricPayload|signal_display") as caught:
            await consumer.receive(timeout_s=LIMIT_S)
        assert (caught.value.topic, caught.value.partition, caught.value.offset) == (
            dq_topic,
            0,
            0,
        )
        assert (await consumer.receive(timeout_s=LIMIT_S)).value == row()


async def test_schema_major_version_mismatch_is_refused(
    dq_bootstrap: str, transport: TransportName, dq_topic: str
) -> None:
    async with DataQueueProducer(dq_bootstrap, topic=dq_topic, transport=transport) as seed:
        await seed.send(
            row().to_numpy(),
            encoding="msgpack_numpy",
            headers=[
                ("dq-schema-id", PointingNumpyArray.schema_id.encode()),
                ("dq-schema-version", b"2.0.0"),
            ],
        )
    async with Consumer(
        PointingNumpyArray, dq_bootstrap, topics=[dq_topic], transport=transport
    ) as consumer:
        with pytest.raises(SchemaMismatchError, match=r"version 2\.0\.0"):
            await consumer.receive(timeout_s=LIMIT_S)


def test_endpoints_can_be_built_outside_async_code(dq_bootstrap: str, dq_topic: str) -> None:
    """aiokafka binds clients to the running loop; dq-sdk builds them on entry instead, so a
    pipeline can create its producers and consumers in plain (sync) set-up code."""
    import asyncio

    producer = Producer(PointingNumpyArray, dq_bootstrap, topic=dq_topic)
    consumer = Consumer(PointingNumpyArray, dq_bootstrap)
    consumer.assign_topics([(dq_topic, 0)])  # chosen before start: applied on entry
    admin = DataQueueAdmin(dq_bootstrap)

    async def run() -> PointingNumpyArray:
        async with admin:
            assert dq_topic in await admin.list_topics()
        async with producer:
            await producer.send(row())
        async with consumer:
            assert consumer.assignment() == [(dq_topic, 0)]
            return (await consumer.receive(timeout_s=LIMIT_S)).value

    assert asyncio.run(run()) == row()
