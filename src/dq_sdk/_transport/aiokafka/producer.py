"""The aiokafka producer behind dq-sdk's producer protocol (``transport="aiokafka"``, the default).

aiokafka ships no type information, so everything above talks to the small typed wrapper
here; aiokafka errors become dq-sdk errors with the address or topic they concern. The
aiokafka producer is built when the client starts, not before: aiokafka binds a client to the
event loop running when it is built, and dq-sdk endpoints may be created outside async code.
"""

from __future__ import annotations

import asyncio
import collections
import random
from collections.abc import Awaitable, Mapping, Sequence
from typing import Any, TypeVar

import aiokafka
from aiokafka.partitioner import DefaultPartitioner
from aiokafka.structs import RecordMetadata as AIOKafkaRecordMetadata

from ..._exceptions import BrokerError
from .._base import Headers, RecordMetadata, split_options, uses_sasl, when_all
from .._sizes import DEFAULT_MAX_BATCH_SIZE, DEFAULT_MAX_REQUEST_SIZE, estimate_wire_size
from ._common import guarded, start_client

__all__ = ["AiokafkaProducerClient", "producer_options"]

_T = TypeVar("_T")


def producer_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """aiokafka producer options with dq-sdk's defaults where they differ from aiokafka's:
    ``max_batch_size`` is :data:`DEFAULT_MAX_BATCH_SIZE`, but never over
    ``max_request_size`` (a batch must fit in a request)."""
    merged = dict(options)
    limit = int(merged.get("max_request_size", DEFAULT_MAX_REQUEST_SIZE))
    merged.setdefault("max_batch_size", min(DEFAULT_MAX_BATCH_SIZE, limit))
    return merged


class AiokafkaProducerClient:
    """A started-on-demand aiokafka producer with typed calls."""

    def __init__(self, bootstrap: str, **options: Any) -> None:
        self.bootstrap = bootstrap
        self.connect_timeout_s, kafka_options = split_options(options)
        self._options = producer_options(kafka_options)
        self.max_request_size = int(self._options.get("max_request_size", DEFAULT_MAX_REQUEST_SIZE))
        self._producer: Any = None
        self._sasl = uses_sasl(kafka_options)

    async def start(self) -> None:
        # aiokafka clients bind to the running loop when built, so they are built here: a
        # dq-sdk producer can be created anywhere, even outside async code, and entered later.
        self._producer = aiokafka.AIOKafkaProducer(
            bootstrap_servers=self.bootstrap, **self._options
        )
        await start_client(self._producer.start, self._producer.stop, "the producer", self)

    async def stop(self) -> None:
        """Deliver everything pending, then close."""
        await guarded(self._producer.stop(), "stopping the producer", bootstrap=self.bootstrap)

    async def flush(self) -> None:
        await guarded(self._producer.flush(), "flushing the producer", bootstrap=self.bootstrap)

    def wire_size(self, value: bytes, key: bytes | None, headers: Headers | None) -> int:
        """The size aiokafka compares with ``max_request_size`` for one message."""
        return estimate_wire_size(value, key, headers)

    async def enqueue(
        self,
        topic: str,
        value: bytes,
        *,
        key: bytes | None = None,
        headers: Headers | None = None,
        partition: int | None = None,
        timestamp_ms: int | None = None,
    ) -> asyncio.Future[RecordMetadata]:
        """Put one message in the producer's batch; the future resolves on delivery."""
        if partition is not None:
            await self._check_partition(topic, partition)
        future: asyncio.Future[RecordMetadata] = await guarded(
            self._producer.send(
                topic,
                value,
                key=key,
                partition=partition,
                timestamp_ms=timestamp_ms,
                headers=list(headers) if headers else None,
            ),
            f"sending to topic {topic!r}",
            bootstrap=self.bootstrap,
        )
        return future

    async def _check_partition(self, topic: str, partition: int | None) -> None:
        """Wait for the topic's metadata; refuse a ``partition`` the topic does not have."""
        known = await guarded(
            self._producer.partitions_for(topic),
            f"reading the partitions of topic {topic!r}",
            bootstrap=self.bootstrap,
        )
        if partition is not None and partition not in known:
            raise BrokerError(
                f"topic {topic!r} has no partition {partition} (it has {sorted(known)})",
                topic=topic,
                partition=partition,
            )

    async def delivered(self, future: Awaitable[_T], topic: str) -> _T:
        return await guarded(future, f"delivering to topic {topic!r}", bootstrap=self.bootstrap)

    async def enqueue_many(
        self,
        topic: str,
        values: Sequence[bytes],
        *,
        key: bytes | None = None,
        headers: Headers | None = None,
        partition: int | None = None,
        timestamp_ms: int | None = None,
    ) -> asyncio.Future[list[RecordMetadata]]:
        """Queue ``values`` through aiokafka's batch API: per partition, in order, filled
        ``create_batch()`` builders handed over with ``send_batch``. Each message goes to the
        partition ``send()`` would give it (the explicit one, else the producer's partitioner
        on the key), so a batch lands exactly as many single sends would, without their
        per-message cost. Each message's metadata is its batch's, at its own offset."""
        producer = self._producer
        # Also waits for the topic's metadata (as send() does), which _partitions reads.
        await self._check_partition(topic, partition)
        header_list = list(headers) if headers else []
        targets = self._partitions(topic, len(values), key, partition)
        by_partition: dict[int, list[int]] = {}
        for index, target in enumerate(targets):
            by_partition.setdefault(target, []).append(index)
        results: list[Any] = [None] * len(values)
        batches: list[asyncio.Future[Any]] = []
        # Batches handed over whose messages' metadata is not made yet. It is made here, just
        # after a hand-over (while the next request is in flight), not in a callback that
        # would delay the sender between a response and the next request.
        unplaced: collections.deque[tuple[asyncio.Future[Any], list[tuple[int, Any]]]] = (
            collections.deque()
        )
        what = f"sending to topic {topic!r}"
        try:
            # Round by round, one builder per partition: aiokafka takes one batch per
            # partition into each request, so every partition gets its next batch queued
            # while the previous request is in flight (a partition's next builder waits in
            # send_batch until its previous one is taken, as send() waits when a batch is full).
            queues = [(target, indices, [0]) for target, indices in by_partition.items()]
            while queues:
                for target, indices, cursor in queues:
                    builder = producer.create_batch()
                    placed: list[tuple[int, Any]] = []  # (message index, relative offset etc.)
                    position = cursor[0]
                    while position < len(indices):
                        index = indices[position]
                        appended = builder.append(
                            key=key,
                            value=values[index],
                            timestamp=timestamp_ms,
                            headers=header_list,
                        )
                        if appended is None:  # full, and now closed (a first record always fits)
                            break
                        placed.append((index, appended))
                        position += 1
                    cursor[0] = position
                    # A builder that is not full stays open, as send()'s would (linger_ms).
                    batch = await self._hand_over(builder, topic, target, what)
                    batches.append(batch)
                    unplaced.append((batch, placed))
                    while unplaced and unplaced[0][0].done():
                        _place(results, *unplaced.popleft())
                queues = [queue for queue in queues if queue[2][0] < len(queue[1])]
        except BaseException:
            for batch in batches:  # delivered or not, nobody will read these now
                batch.add_done_callback(_retrieve)
            raise

        def finish(_: object) -> list[Any]:
            while unplaced:
                _place(results, *unplaced.popleft())
            return results

        return when_all(batches, finish)

    def _partitions(
        self, topic: str, count: int, key: bytes | None, partition: int | None
    ) -> list[int]:
        """The partition of each of ``count`` messages, as ``send()`` chooses it (its
        ``_partition``: the explicit one, else the partitioner with the serialized key over
        the topic's partitions and the available ones, listed as send() lists them)."""
        if partition is not None:
            return [partition] * count
        producer = self._producer
        serialize = producer._key_serializer
        raw_key = key if serialize is None else serialize(key)
        every = list(producer._metadata.partitions_for_topic(topic))
        available = list(producer._metadata.available_partitions_for_topic(topic))
        choose = producer._partitioner
        if type(choose) is not DefaultPartitioner:  # the caller's own: asked for each message
            return [choose(raw_key, every, available) for _ in range(count)]
        if raw_key is not None:
            # A pure function of the key: one murmur2 for the batch, not one per message.
            return [choose(raw_key, every, available)] * count
        # No key: DefaultPartitioner picks uniformly from the available partitions (else from
        # all) for each message; so does this, in one call.
        pool = available or every
        return [pool[0]] * count if len(pool) == 1 else random.choices(pool, k=count)

    async def _hand_over(
        self, builder: Any, topic: str, partition: int, what: str
    ) -> asyncio.Future[Any]:
        """Queue a filled builder on its partition (waiting, as send() does, while the
        partition's previous batch is not yet taken by the sender)."""
        future: asyncio.Future[Any] = await guarded(
            self._producer.send_batch(builder, topic, partition=partition),
            what,
            bootstrap=self.bootstrap,
        )
        return future


def _retrieve(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()


def _place(results: list[Any], batch: asyncio.Future[Any], placed: list[tuple[int, Any]]) -> None:
    """Each message's metadata from its delivered batch's, as aiokafka resolves ``send()``
    futures (``MessageBatch.done``): the batch's base offset plus the message's relative
    offset; the broker's timestamp, or the message's own when the broker says -1 (CreateTime)."""
    if batch.cancelled() or batch.exception() is not None:
        return  # the failure reaches the caller through when_all
    meta = batch.result()
    if meta is None:  # acks=0: aiokafka resolves send() futures to None too
        return
    topic, partition, tp, base, stamp, kind, start = meta
    make = AIOKafkaRecordMetadata
    for index, appended in placed:
        at = appended.timestamp if stamp == -1 else stamp
        results[index] = make(topic, partition, tp, base + appended.offset, at, kind, start)
