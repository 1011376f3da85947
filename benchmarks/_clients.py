"""Fresh topics and the raw client twins: aiokafka and confluent-kafka used directly.

The twins send the typed producer's exact bytes and headers with the same settings, so a ratio
typed / raw is the cost of dq-sdk's layer alone (model -> wire value -> validation -> codec ->
size check -> headers), nothing else.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import aiokafka
import confluent_kafka

from dq_sdk import Admin
from dq_sdk._transport.aiokafka.producer import producer_options

from ._core import CASE_LIMIT_S, rate

__all__ = [
    "aiokafka_batch",
    "aiokafka_consume",
    "aiokafka_send",
    "confluent_batch",
    "confluent_consume",
    "fresh_topic",
]

Headers = list[tuple[str, bytes]]
_TOPIC_CONFIG = {"max.message.bytes": str(32 * 2**20)}


@asynccontextmanager
async def fresh_topic(admin: Admin, stem: str) -> AsyncIterator[str]:
    """A new one-partition topic, deleted afterwards (tansu keeps every byte in memory)."""
    name = f"bench-{stem}-{uuid.uuid4().hex[:8]}"
    await admin.create_topics([(name, 1)], config=_TOPIC_CONFIG)
    try:
        yield name
    finally:
        await admin.delete_topics([name])


def _aiokafka_options(options: dict[str, Any]) -> dict[str, Any]:
    """dq-sdk options as raw aiokafka takes them, with dq-sdk's defaults where they differ
    from aiokafka's (``max_batch_size``): the same settings on both sides."""
    return producer_options(
        {k: v for k, v in options.items() if k not in ("transport", "client_options")}
    )


async def aiokafka_send(
    bootstrap: str, topic: str, value: bytes, headers: Headers, count: int, options: dict[str, Any]
) -> float:
    """Messages/s of raw aiokafka awaiting each delivery: ``await (await send(...))``."""
    producer = aiokafka.AIOKafkaProducer(bootstrap_servers=bootstrap, **_aiokafka_options(options))
    await producer.start()
    try:
        start = time.perf_counter()
        for _ in range(count):
            await (await producer.send(topic, value, headers=headers))
        return rate(count, time.perf_counter() - start)
    finally:
        await producer.stop()


async def aiokafka_batch(
    bootstrap: str, topic: str, value: bytes, headers: Headers, count: int, options: dict[str, Any]
) -> float:
    """Messages/s of raw aiokafka enqueuing every message, then awaiting every delivery."""
    producer = aiokafka.AIOKafkaProducer(bootstrap_servers=bootstrap, **_aiokafka_options(options))
    await producer.start()
    try:
        start = time.perf_counter()
        futures = [await producer.send(topic, value, headers=headers) for _ in range(count)]
        for future in futures:
            await future
        return rate(count, time.perf_counter() - start)
    finally:
        await producer.stop()


def _confluent_producer_config(bootstrap: str, options: dict[str, Any]) -> dict[str, Any]:
    from dq_sdk._transport.confluent._common import producer_config

    return producer_config(bootstrap, _aiokafka_options(options))


def _confluent_batch_blocking(
    bootstrap: str, topic: str, value: bytes, headers: Headers, count: int, options: dict[str, Any]
) -> float:
    producer = confluent_kafka.Producer(_confluent_producer_config(bootstrap, options))
    try:
        producer.list_topics(topic, 10)  # connected and topic known before the clock starts
        delivered = 0
        # confluent-kafka's stubs want header values typed as str | bytes | None.
        header_list: list[tuple[str, str | bytes | None]] = list(headers)

        def report(error: Any, _message: Any) -> None:
            nonlocal delivered
            if error is None:
                delivered += 1

        deadline = time.monotonic() + CASE_LIMIT_S
        start = time.perf_counter()
        for _ in range(count):
            while True:
                try:
                    producer.produce(topic, value, headers=header_list, on_delivery=report)
                    break
                except BufferError:  # local queue full: serve reports to make room
                    if time.monotonic() > deadline:
                        raise TimeoutError("raw confluent producer stuck") from None
                    producer.poll(0.001)
        remaining = producer.flush(CASE_LIMIT_S)
        elapsed = time.perf_counter() - start
        if remaining or delivered != count:
            raise RuntimeError(f"raw confluent producer delivered {delivered} of {count}")
        return rate(count, elapsed)
    finally:
        # close() arrived in confluent-kafka 2.13; the quix extra pins an older release.
        close = getattr(producer, "close", None)
        if close is not None:
            close()


async def confluent_batch(
    bootstrap: str, topic: str, value: bytes, headers: Headers, count: int, options: dict[str, Any]
) -> float:
    """Messages/s of confluent-kafka used directly: produce all, flush (its ceiling here)."""
    return await asyncio.to_thread(
        _confluent_batch_blocking, bootstrap, topic, value, headers, count, options
    )


async def aiokafka_consume(
    bootstrap: str,
    topic: str,
    count: int,
    options: dict[str, Any],
    convert: Callable[[bytes], object] | None = None,
) -> float:
    """Messages/s of a raw aiokafka consumer handing over ``count`` records one by one (each
    passed to ``convert`` if given), timed from the started client to the last record."""
    consumer = aiokafka.AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        **options,
    )
    await consumer.start()
    try:
        seen = 0
        deadline = time.monotonic() + CASE_LIMIT_S
        start = time.perf_counter()
        while seen < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"raw aiokafka consumer got {seen} of {count}")
            batches = await consumer.getmany(timeout_ms=100)
            for records in batches.values():
                for record in records:
                    if convert is not None:
                        convert(record.value)
                    seen += 1
        return rate(count, time.perf_counter() - start)
    finally:
        await consumer.stop()


def _confluent_consume_blocking(
    bootstrap: str, topic: str, count: int, options: dict[str, Any]
) -> float:
    from dq_sdk._transport.confluent._common import consumer_config

    config = consumer_config(bootstrap, {"auto_offset_reset": "earliest", **options})
    consumer = confluent_kafka.Consumer(config)
    try:
        consumer.list_topics(topic, 10)  # connected, as a started client is
        seen = 0
        deadline = time.monotonic() + CASE_LIMIT_S
        start = time.perf_counter()
        consumer.assign(
            [confluent_kafka.TopicPartition(topic, 0, confluent_kafka.OFFSET_BEGINNING)]
        )
        while seen < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"raw confluent consumer got {seen} of {count}")
            # consume(n) waits until n messages are there: never ask for more than remain.
            batch = consumer.consume(min(1000, count - seen), 0.1)
            seen += sum(1 for message in batch if message.error() is None)
        return rate(count, time.perf_counter() - start)
    finally:
        consumer.close()


async def confluent_consume(
    bootstrap: str, topic: str, count: int, options: dict[str, Any]
) -> float:
    """Messages/s of a confluent-kafka consumer used directly, timed from its assignment."""
    return await asyncio.to_thread(_confluent_consume_blocking, bootstrap, topic, count, options)
