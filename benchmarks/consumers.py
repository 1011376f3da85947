"""Consumer throughput: typed ``Consumer[M]``, the seed's ``DataQueueConsumer``, raw twins.

Per payload, one topic is filled once by the typed producer; every case then reads all of it
from the beginning with a fresh, started client, timed from then to the last message handed
over (so every fetch counts, connecting does not). The raw twins hand over records as they
come. ``DataQueueConsumer`` without an encoding hands over bytes: it measures the consumer
machinery (polling, buffering, commit bookkeeping, chunk check) without decoding. The raw
"+ decode" twin decodes and builds the model as ``Consumer`` does, so ``Consumer`` against it
is the iteration overhead alone. The "+ msgpack-numpy/np.load" twin decodes as a raw aiokafka
user would (the seed's own decoders, copying, validating nothing): ``Consumer`` against it is
what dq-sdk costs or saves over doing it by hand.
"""

from __future__ import annotations

import io
import time
from collections.abc import Awaitable, Callable
from typing import Any

import msgpack  # type: ignore[import-untyped]
import msgpack_numpy
import numpy as np

from dq_sdk import Admin, Consumer, DataQueueConsumer, Producer
from dq_sdk._base_consumer import BaseConsumer
from dq_sdk.codecs import Encoding, decode

from . import _clients
from ._core import CASE_LIMIT_S, Row, Settings, interleaved, rate, ratio_row
from ._payloads import LARGE_LIMIT, Payload

__all__ = ["run"]

AREA = "consumer"
SMALL = "row (1 antenna)"


# What a raw aiokafka user would write to get arrays: the seed's own decoders, no validation.
BY_HAND = "raw aiokafka consumer + msgpack-numpy/np.load"
# Batch receive: a row model's rows of one fetch as one array, other models as lists.
BATCHES = "Consumer.receive_batch"
BATCHES_CONFLUENT = "Consumer.receive_batch [confluent]"


def _decoder_without_dq_sdk(encoding: Encoding) -> Callable[[bytes], object]:
    if encoding is Encoding.MSGPACK_NUMPY:
        return lambda data: msgpack.unpackb(data, object_hook=msgpack_numpy.decode)
    if encoding is Encoding.NPY:
        return lambda data: np.load(io.BytesIO(data), allow_pickle=False)
    raise ValueError(f"no by-hand decoder for {encoding.value}")


def _fetch_options(payload: Payload) -> dict[str, Any]:
    # The same fetch sizes for every client; large payloads need room for 16 MiB records.
    if "max_request_size" in payload.options:
        return {"max_partition_fetch_bytes": LARGE_LIMIT, "fetch_max_bytes": 2 * LARGE_LIMIT}
    return {}


async def _iterate(stream: BaseConsumer[Any], count: int) -> float:
    async with stream:
        start = time.perf_counter()
        for _ in range(count):
            await stream.receive(timeout_s=CASE_LIMIT_S)
        return rate(count, time.perf_counter() - start)


async def _batches(consumer: Consumer[Any], count: int) -> float:
    """Messages/s handed over by ``receive_batch``: rows of a row model count one each."""
    async with consumer:
        start = time.perf_counter()
        seen = 0
        while seen < count:
            batch = await consumer.receive_batch(timeout_s=CASE_LIMIT_S)
            seen += len(batch)
        return rate(count, time.perf_counter() - start)


async def _fill(bootstrap: str, topic: str, payload: Payload) -> None:
    async with Producer(payload.model, bootstrap, topic=topic, **payload.options) as producer:
        await producer.send_batch(payload.cycle(payload.batch_count))


async def _payload_rows(
    bootstrap: str, admin: Admin, payload: Payload, settings: Settings
) -> list[Row]:
    count, model, encoding = payload.batch_count, payload.model, payload.model.encoding
    fetch = _fetch_options(payload)
    confluent = {**fetch, "transport": "confluent"}
    async with _clients.fresh_topic(admin, "consume") as topic:
        await _fill(bootstrap, topic, payload)
        topics = [topic]
        cases: dict[str, Callable[[], Awaitable[float]]] = {
            "raw aiokafka consumer": lambda: _clients.aiokafka_consume(
                bootstrap, topic, count, fetch
            ),
            "raw aiokafka consumer + decode": lambda: _clients.aiokafka_consume(
                bootstrap, topic, count, fetch, lambda data: model.from_wire(decode(data, encoding))
            ),
            "Consumer": lambda: _iterate(Consumer(model, bootstrap, topics=topics, **fetch), count),
            BATCHES: lambda: _batches(Consumer(model, bootstrap, topics=topics, **fetch), count),
            BATCHES_CONFLUENT: lambda: _batches(
                Consumer(model, bootstrap, topics=topics, **confluent), count
            ),
            BY_HAND: lambda: _clients.aiokafka_consume(
                bootstrap, topic, count, fetch, _decoder_without_dq_sdk(encoding)
            ),
            "DataQueueConsumer (bytes)": lambda: _iterate(
                DataQueueConsumer(bootstrap, topics=topics, **fetch), count
            ),
            "DataQueueConsumer (decoded)": lambda: _iterate(
                DataQueueConsumer(bootstrap, topics=topics, encoding=encoding, **fetch), count
            ),
            "Consumer [confluent]": lambda: _iterate(
                Consumer(model, bootstrap, topics=topics, **confluent), count
            ),
            "raw confluent consumer": lambda: _clients.confluent_consume(
                bootstrap, topic, count, fetch
            ),
        }
        best = await interleaved(cases, settings.repeats, "higher")
    mib = len(payload.wire) / 2**20

    def row(case: str) -> Row:
        return Row(AREA, case, payload.name, best[case], "msg/s", extra={"MiB/s": best[case] * mib})

    raw, typed = row("raw aiokafka consumer"), row("Consumer")
    small = payload.name == SMALL
    decoding = row("raw aiokafka consumer + decode")
    by_hand = row(BY_HAND)
    batch_target = {SMALL: ">= 3", "pointing (200 antennas)": ">= 1.0"}.get(payload.name)
    return [
        raw,
        ratio_row(decoding, raw),
        ratio_row(typed, raw, target=">= 0.95" if small else None),
        ratio_row(typed, decoding),
        ratio_row(by_hand, raw),
        ratio_row(typed, by_hand),
        ratio_row(row(BATCHES), by_hand, target=batch_target),
        ratio_row(row(BATCHES), typed),
        ratio_row(row(BATCHES_CONFLUENT), by_hand, target=batch_target),
        ratio_row(row("DataQueueConsumer (bytes)"), raw),
        ratio_row(row("DataQueueConsumer (decoded)"), raw),
        ratio_row(row("Consumer [confluent]"), typed),
        ratio_row(row("raw confluent consumer"), raw),
    ]


async def run(bootstrap: str, payloads: list[Payload], settings: Settings) -> list[Row]:
    rows: list[Row] = []
    async with Admin(bootstrap) as admin:
        for payload in payloads:
            rows += await _payload_rows(bootstrap, admin, payload, settings)
    return rows
