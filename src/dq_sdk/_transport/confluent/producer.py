"""The confluent-kafka producer behind dq-sdk's producer protocol (``transport="confluent"``).

librdkafka's Python API blocks; this module bridges the producer to asyncio. ``produce()``
only queues, so it runs on the event loop. One poll thread serves librdkafka's delivery
reports and hands them to the loop in batches: one ``call_soon_threadsafe`` per poll, not per
message, because waking the loop costs more than resolving a future.

``confluent_kafka.aio`` (2.16) is not used: its ``AIOProducer`` cannot send headers, and every
dq-sdk message carries some.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import threading
import time
from collections import deque
from collections.abc import Awaitable, Sequence
from typing import Any, NamedTuple, TypeAlias, TypeVar

import confluent_kafka
from confluent_kafka import KafkaException

from ..._exceptions import BrokerError, DQError
from .._base import Headers, RecordMetadata, split_options
from .._sizes import DEFAULT_MAX_REQUEST_SIZE, estimate_wire_size
from ._common import blocking, check_reachable, dq_error, producer_config

__all__ = ["ConfluentProducerClient", "ConfluentRecordMetadata"]

_T = TypeVar("_T")
# What a delivery report resolves: one send's future, or a batch (with the message's index).
_Target: TypeAlias = "asyncio.Future[RecordMetadata] | _Batch"

# How long the poll thread waits for a delivery report; bounds how long stop() waits for it.
_POLL_S = 0.02
_STOP_FLUSH_S = 330.0  # over librdkafka's default message.timeout.ms (300 s): every report comes
_QUEUE_FULL_WAIT_S = 60.0  # how long enqueue waits for room in librdkafka's local queue


class ConfluentRecordMetadata(NamedTuple):
    """Where a delivered message went; the fields of aiokafka's ``RecordMetadata``."""

    topic: str
    partition: int
    offset: int
    timestamp: int
    timestamp_type: int


class ConfluentProducerClient:
    """A librdkafka producer behind the :class:`~dq_sdk._transport.ProducerClient` protocol."""

    def __init__(self, bootstrap: str, **options: Any) -> None:
        self.bootstrap = bootstrap
        self.connect_timeout_s, kafka_options = split_options(options)
        self.max_request_size = int(
            kafka_options.get("max_request_size") or DEFAULT_MAX_REQUEST_SIZE
        )
        # Built now so a bad option fails at construction, as with aiokafka.
        self._config = producer_config(bootstrap, kafka_options)
        self._producer: confluent_kafka.Producer | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        # (single send's future or batch, index in the batch, error, message) per report.
        self._reports: deque[tuple[_Target, int, Any, Any]] = deque()
        self._settle_scheduled = False
        self._stop_polling = threading.Event()
        self._poller: threading.Thread | None = None
        self._partitions: dict[str, frozenset[int]] = {}

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        try:
            producer = confluent_kafka.Producer(self._config)
        except KafkaException as exc:
            raise dq_error(exc, "starting the producer", self.bootstrap) from exc
        try:
            await check_reachable(
                producer.list_topics,
                "starting the producer",
                self.bootstrap,
                self.connect_timeout_s,
            )
        except BaseException:
            await asyncio.to_thread(_close, producer)
            raise
        self._producer = producer
        self._stop_polling.clear()
        self._poller = threading.Thread(
            target=self._poll,
            args=(producer, self._loop),
            name="dq-sdk-confluent-poll",
            daemon=True,
        )
        self._poller.start()

    def _poll(self, producer: confluent_kafka.Producer, loop: asyncio.AbstractEventLoop) -> None:
        """Serve delivery reports until told to stop (runs in the poll thread)."""
        while not self._stop_polling.is_set():
            producer.poll(_POLL_S)
            if self._reports and not self._settle_scheduled:
                self._settle_scheduled = True
                with contextlib.suppress(RuntimeError):  # the loop closed under us
                    loop.call_soon_threadsafe(self._settle)

    def _report(self, target: _Target, index: int, error: Any, message: Any) -> None:
        # Called by librdkafka inside poll()/flush(): only queue, the loop resolves.
        self._reports.append((target, index, error, message))

    def _settle(self) -> None:
        """Resolve the futures of every queued delivery report (runs on the loop)."""
        self._settle_scheduled = False
        reports = self._reports
        while reports:
            target, index, error, message = reports.popleft()
            if error is None:
                kind, stamp = message.timestamp()
                outcome: RecordMetadata | DQError = ConfluentRecordMetadata(
                    message.topic(), message.partition(), message.offset(), stamp, kind
                )
            else:
                topic = message.topic()
                outcome = dq_error(
                    error,
                    f"delivering to topic {topic!r}",
                    self.bootstrap,
                    topic=topic,
                    partition=None if message.partition() < 0 else message.partition(),
                )
            if isinstance(target, _Batch):
                target.settle(index, outcome)
            elif target.done():
                continue
            elif isinstance(outcome, DQError):
                target.set_exception(outcome)
            else:
                target.set_result(outcome)

    def _require(self) -> confluent_kafka.Producer:
        if self._producer is None:
            raise DQError("the producer is not running: use it inside 'async with'")
        return self._producer

    async def stop(self) -> None:
        """Deliver everything pending, then close."""
        producer, self._producer = self._producer, None
        if producer is None:
            return
        try:
            await blocking(
                functools.partial(producer.flush, _STOP_FLUSH_S),
                "stopping the producer",
                self.bootstrap,
            )
        finally:
            self._stop_polling.set()
            if self._poller is not None:
                await asyncio.to_thread(self._poller.join, 5 * _POLL_S + 1.0)
            self._settle()
            await asyncio.to_thread(_close, producer)

    async def flush(self) -> None:
        producer = self._require()
        await blocking(
            functools.partial(producer.flush, _STOP_FLUSH_S),
            "flushing the producer",
            self.bootstrap,
        )
        self._settle()

    def wire_size(self, value: bytes, key: bytes | None, headers: Headers | None) -> int:
        """The size both transports compare with ``max_request_size`` (over librdkafka's own
        estimate): both refuse alike."""
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
        """Queue one message in librdkafka; the future resolves on delivery."""
        producer = self._require()
        if partition is not None:
            await self._check_partition(producer, topic, partition)
        assert self._loop is not None
        future: asyncio.Future[RecordMetadata] = self._loop.create_future()
        report = functools.partial(self._report, future, 0)
        # confluent-kafka's stubs want header values typed as str | bytes | None.
        header_list: list[tuple[str, str | bytes | None]] = list(headers or ())
        target = -1 if partition is None else partition
        stamp = timestamp_ms or 0
        try:
            try:
                producer.produce(
                    topic,
                    value,
                    key,
                    target,
                    on_delivery=report,
                    timestamp=stamp,
                    headers=header_list,
                )
            except BufferError:  # the local queue is full: wait for deliveries to make room
                await self._produce_when_room(
                    producer, topic, value, key, target, report, stamp, header_list
                )
        except KafkaException as exc:
            raise dq_error(
                exc, f"sending to topic {topic!r}", self.bootstrap, topic=topic, partition=partition
            ) from exc
        return future

    async def _check_partition(
        self, producer: confluent_kafka.Producer, topic: str, partition: int
    ) -> None:
        known = self._partitions.get(topic)
        if known is None or partition not in known:  # unknown, or the topic may have grown
            metadata = await blocking(
                functools.partial(producer.list_topics, topic, self.connect_timeout_s),
                f"reading the partitions of topic {topic!r}",
                self.bootstrap,
            )
            described = metadata.topics.get(topic)
            known = frozenset(described.partitions) if described is not None else frozenset()
            self._partitions[topic] = known
        if partition not in known:
            raise BrokerError(
                f"topic {topic!r} has no partition {partition} (it has {sorted(known)})",
                topic=topic,
                partition=partition,
            )

    async def delivered(self, future: Awaitable[_T], topic: str) -> _T:
        return await future

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
        """``produce()`` each value in order (librdkafka batches by itself); the future gives
        their metadata in the same order once every report is in.

        One future for the whole batch, not one per message: a future, its callbacks and
        resolving it cost more than ``produce()`` itself (1.5x fewer rows/s with them).
        """
        producer = self._require()
        if partition is not None:
            await self._check_partition(producer, topic, partition)
        assert self._loop is not None
        batch = _Batch(self._loop.create_future(), len(values))
        if not values:
            batch.future.set_result([])
            return batch.future
        # confluent-kafka's stubs want header values typed as str | bytes | None.
        header_list: list[tuple[str, str | bytes | None]] = list(headers or ())
        stamp = timestamp_ms or 0
        target = -1 if partition is None else partition
        report = self._report
        try:
            for index, value in enumerate(values):
                on_delivery = functools.partial(report, batch, index)
                try:
                    producer.produce(
                        topic,
                        value,
                        key,
                        target,
                        on_delivery=on_delivery,
                        timestamp=stamp,
                        headers=header_list,
                    )
                except BufferError:  # the local queue is full: the slow path waits for room
                    await self._produce_when_room(
                        producer, topic, value, key, target, on_delivery, stamp, header_list
                    )
        except KafkaException as exc:
            batch.future.cancel()  # reports of what was queued settle nothing now
            raise dq_error(
                exc, f"sending to topic {topic!r}", self.bootstrap, topic=topic, partition=partition
            ) from exc
        except BaseException:
            batch.future.cancel()
            raise
        return batch.future

    async def _produce_when_room(
        self,
        producer: confluent_kafka.Producer,
        topic: str,
        value: bytes,
        key: bytes | None,
        partition: int,
        on_delivery: Any,
        timestamp: int,
        headers: list[tuple[str, str | bytes | None]],
    ) -> None:
        """``produce()``, retried while librdkafka's local queue is full (deliveries make
        room), for at most ``_QUEUE_FULL_WAIT_S``."""
        deadline = time.monotonic() + _QUEUE_FULL_WAIT_S
        while True:
            await asyncio.sleep(0.005)
            try:
                producer.produce(
                    topic,
                    value,
                    key,
                    partition,
                    on_delivery=on_delivery,
                    timestamp=timestamp,
                    headers=headers,
                )
                return
            except BufferError:
                if time.monotonic() >= deadline:
                    raise BrokerError(
                        f"sending to topic {topic!r}: librdkafka's local queue stayed full for "
                        f"{_QUEUE_FULL_WAIT_S:g} s (is the broker at {self.bootstrap!r} up?)",
                        topic=topic,
                    ) from None


class _Batch:
    """The delivery state of one ``enqueue_many``: its future and every message's outcome."""

    __slots__ = ("future", "outcomes", "pending")

    def __init__(self, future: asyncio.Future[list[RecordMetadata]], count: int) -> None:
        self.future = future
        self.outcomes: list[Any] = [None] * count
        self.pending = count

    def settle(self, index: int, result: RecordMetadata | DQError) -> None:
        """Record one message's outcome; resolve the future when it is the last (the first
        failure in input order wins, as with single sends awaited in order)."""
        self.outcomes[index] = result
        self.pending -= 1
        if self.pending or self.future.done():
            return
        failure = next((o for o in self.outcomes if isinstance(o, DQError)), None)
        if failure is not None:
            self.future.set_exception(failure)
        else:
            self.future.set_result(self.outcomes)


def _close(producer: confluent_kafka.Producer) -> None:
    """Release a producer: ``close()`` where confluent-kafka has it (2.13+); older releases
    (the ``quix`` extra pins < 2.13) free it when the last reference goes."""
    close = getattr(producer, "close", None)
    if close is not None:
        close()
