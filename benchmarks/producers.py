"""Producer throughput: typed ``Producer[M]``, the seed's ``DataQueueProducer``, raw twins.

Two comparisons per payload, each interleaved and best-of-N:

- awaited sends (``send`` waits for each delivery) against raw aiokafka
  ``await (await producer.send(...))``;
- batches (``send_batch``: validate and encode all, enqueue all, await all) against raw
  aiokafka enqueuing all then awaiting all, with the same settings (dq-sdk's defaults where
  they differ from aiokafka's: 1,000,000-byte record batches), and against raw aiokafka at its
  own 16 KiB default, what an untuned raw user gets. The confluent transport is compared with
  aiokafka. The same batch of pre-encoded bytes through dq-sdk's ``PayloadSender.publish_many``
  separates the cost of the transport path from that of the model and codec.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from dq_sdk import Admin, DataQueueProducer, Producer
from dq_sdk._sender import PayloadSender
from dq_sdk._settings import connection_from, producer_settings_from

from . import _clients
from ._clients import Headers
from ._core import Row, Settings, interleaved, rate, ratio_row
from ._payloads import Payload

__all__ = ["run"]

AREA = "producer"
SMALL = "row (1 antenna)"
# send_batch without the model, validation and codec: dq-sdk's transport path alone.
PLUMBING = "PayloadSender batch, pre-encoded"
PLUMBING_C = "PayloadSender batch, pre-encoded [confluent]"
# The raw twin at aiokafka's own defaults (16 KiB batches): what raw aiokafka gives untuned.
RAW_DEFAULTS = "raw aiokafka batch, aiokafka's 16 KiB batches"


async def _typed_send(
    bootstrap: str, topic: str, payload: Payload, count: int, **options: Any
) -> float:
    messages = payload.cycle(count)
    async with Producer(payload.model, bootstrap, topic=topic, **options) as producer:
        start = time.perf_counter()
        for message in messages:
            await producer.send(message)
        return rate(count, time.perf_counter() - start)


async def _typed_batch(
    bootstrap: str, topic: str, payload: Payload, count: int, **options: Any
) -> float:
    messages = payload.cycle(count)
    async with Producer(payload.model, bootstrap, topic=topic, **options) as producer:
        start = time.perf_counter()
        await producer.send_batch(messages)
        return rate(count, time.perf_counter() - start)


async def _seed_send(
    bootstrap: str, topic: str, payload: Payload, count: int, **options: Any
) -> float:
    encoding = payload.model.encoding
    async with DataQueueProducer(bootstrap, topic=topic, encoding=encoding, **options) as producer:
        start = time.perf_counter()
        for _ in range(count):
            await producer.send(payload.seed_value)
        return rate(count, time.perf_counter() - start)


async def _sender_batch(
    bootstrap: str, topic: str, value: bytes, headers: Headers, count: int, **options: Any
) -> float:
    sender = PayloadSender(connection_from(bootstrap, options), producer_settings_from(options))
    await sender.start()
    try:
        payloads = [value] * count
        start = time.perf_counter()
        await sender.publish_many(topic, payloads, headers=headers)
        return rate(count, time.perf_counter() - start)
    finally:
        await sender.stop()


def _on_fresh_topic(
    admin: Admin, name: str, measure: Callable[[str], Awaitable[float]]
) -> Callable[[], Awaitable[float]]:
    async def case() -> float:
        async with _clients.fresh_topic(admin, name) as topic:
            return await measure(topic)

    return case


async def _payload_rows(
    bootstrap: str, admin: Admin, payload: Payload, settings: Settings
) -> list[Row]:
    value, headers, options = payload.wire, payload.headers, payload.options
    n_send, n_batch = payload.send_count, payload.batch_count
    confluent = {**options, "transport": "confluent"}
    sends = await interleaved(
        {
            "raw aiokafka send": _on_fresh_topic(
                admin,
                "raw-send",
                lambda t: _clients.aiokafka_send(bootstrap, t, value, headers, n_send, options),
            ),
            "Producer.send": _on_fresh_topic(
                admin, "send", lambda t: _typed_send(bootstrap, t, payload, n_send, **options)
            ),
            "DataQueueProducer.send": _on_fresh_topic(
                admin, "seed", lambda t: _seed_send(bootstrap, t, payload, n_send, **options)
            ),
            "Producer.send [confluent]": _on_fresh_topic(
                admin, "send-c", lambda t: _typed_send(bootstrap, t, payload, n_send, **confluent)
            ),
        },
        settings.repeats,
        "higher",
    )
    batches = await interleaved(
        {
            "raw aiokafka batch": _on_fresh_topic(
                admin,
                "raw-batch",
                lambda t: _clients.aiokafka_batch(bootstrap, t, value, headers, n_batch, options),
            ),
            RAW_DEFAULTS: _on_fresh_topic(
                admin,
                "raw-batch-16k",
                lambda t: _clients.aiokafka_batch(
                    bootstrap, t, value, headers, n_batch, {**options, "max_batch_size": 16_384}
                ),
            ),
            "Producer.send_batch": _on_fresh_topic(
                admin, "batch", lambda t: _typed_batch(bootstrap, t, payload, n_batch, **options)
            ),
            "Producer.send_batch [confluent]": _on_fresh_topic(
                admin,
                "batch-c",
                lambda t: _typed_batch(bootstrap, t, payload, n_batch, **confluent),
            ),
            PLUMBING: _on_fresh_topic(
                admin,
                "plumbing",
                lambda t: _sender_batch(bootstrap, t, value, headers, n_batch, **options),
            ),
            PLUMBING_C: _on_fresh_topic(
                admin,
                "plumbing-c",
                lambda t: _sender_batch(bootstrap, t, value, headers, n_batch, **confluent),
            ),
            "raw confluent batch": _on_fresh_topic(
                admin,
                "raw-batch-c",
                lambda t: _clients.confluent_batch(bootstrap, t, value, headers, n_batch, options),
            ),
        },
        settings.repeats,
        "higher",
    )
    small = payload.name == SMALL
    mib = len(value) / 2**20

    def row(case: str, figure: float) -> Row:
        return Row(AREA, case, payload.name, figure, "msg/s", extra={"MiB/s": figure * mib})

    raw_send = row("raw aiokafka send", sends["raw aiokafka send"])
    typed_send = row("Producer.send", sends["Producer.send"])
    raw_batch = row("raw aiokafka batch", batches["raw aiokafka batch"])
    typed_batch = row("Producer.send_batch", batches["Producer.send_batch"])
    plumbing = row(PLUMBING, batches[PLUMBING])
    raw_defaults = row(RAW_DEFAULTS, batches[RAW_DEFAULTS])
    return [
        raw_send,
        ratio_row(typed_send, raw_send, target=">= 0.95" if small else None),
        ratio_row(row("DataQueueProducer.send", sends["DataQueueProducer.send"]), raw_send),
        ratio_row(row("Producer.send [confluent]", sends["Producer.send [confluent]"]), typed_send),
        raw_batch,
        ratio_row(typed_batch, raw_batch, target=">= 1.0" if small else None),
        ratio_row(raw_defaults, raw_batch),
        ratio_row(typed_batch, raw_defaults),
        ratio_row(
            row("Producer.send_batch [confluent]", batches["Producer.send_batch [confluent]"]),
            typed_batch,
            target=">= 3.0" if small else None,
        ),
        ratio_row(row("raw confluent batch", batches["raw confluent batch"]), raw_batch),
        ratio_row(plumbing, raw_batch),
        ratio_row(row(PLUMBING_C, batches[PLUMBING_C]), plumbing),
    ]


async def run(bootstrap: str, payloads: list[Payload], settings: Settings) -> list[Row]:
    rows: list[Row] = []
    async with Admin(bootstrap) as admin:
        for payload in payloads:
            rows += await _payload_rows(bootstrap, admin, payload, settings)
    return rows
