"""Consumers: the shared receiving core and the typed ``Consumer[M]``.

Flow: Kafka -> transport -> :class:`Subscriber` (subscription, commits) -> header check ->
codec -> ``M.from_wire`` (validation) -> :class:`Received` envelope. A message that fails any
step goes to the :class:`BadMessagePolicy`; the stream goes on after it.

Commits are "after processing": a message counts as processed when the application asks for
the next one (or leaves the ``async with`` block normally), and only processed offsets are
committed. A crash therefore re-delivers, never skips (at-least-once).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Collection, Iterable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Generic, Self, TypeVar

from . import _headers
from ._chunking import Reassembler
from ._exceptions import CommitFailedError, ConsumerStoppedError, DQError, SchemaMismatchError
from ._message import WireMessage
from ._policy import BadMessagePolicy, OnError
from ._producer import model_headers
from ._transport import Partition, Record, TransportName, consumer_client
from .codecs import decode

__all__ = ["Consumer", "MessageStream", "Received", "Subscriber"]

M = TypeVar("M", bound=WireMessage)
T = TypeVar("T")

log = logging.getLogger("dq_sdk.consumer")

_POLL_MS = 100
# Handing out buffered records awaits nothing, and one fetch can hold tens of thousands: yield
# to the event loop this often, so that the client's heartbeats (aiokafka runs them on this
# loop) and the application's other tasks are not starved into a session timeout.
_YIELD_EVERY_S = 0.05
_EXPIRY_CHECK_S = 0.1


@dataclass(frozen=True, slots=True)
class Received(Generic[M]):
    """A decoded, validated message and where it came from."""

    value: M
    topic: str
    partition: int
    offset: int
    timestamp: int
    key: bytes | None
    headers: tuple[tuple[str, bytes], ...]


class Subscriber:
    """Owns the transport's consumer: subscription, fetching, after-processing commits, and
    what a group rebalance does to them (the transport's :class:`RebalanceListener`)."""

    def __init__(
        self,
        server: str,
        *,
        topics: Iterable[str] | None,
        group_id: str | None,
        auto_offset_reset: str,
        commit_interval_s: float = 1.0,
        max_reassembly_bytes: int = 512 * 1024 * 1024,
        chunk_timeout_s: float = 120.0,
        transport: TransportName = "aiokafka",
        **kafka_options: Any,
    ) -> None:
        self.server = server
        self.reassembler = Reassembler(max_bytes=max_reassembly_bytes, timeout_s=chunk_timeout_s)
        # We commit ourselves, after processing; aiokafka's auto-commit would commit on fetch.
        kafka_options.setdefault("enable_auto_commit", False)
        self._client = consumer_client(
            server,
            transport,
            group_id=group_id,
            auto_offset_reset=auto_offset_reset,
            **kafka_options,
        )
        self._client.listen(self)
        self._auto_commit = bool(kafka_options["enable_auto_commit"])
        self._buffer: deque[Record] = deque()
        self._in_hand: Record | None = None
        self._processed: dict[Partition, int] = {}
        self._last_commit = self._last_yield = time.monotonic()
        self._commit_interval_s = commit_interval_s
        self._started = False
        # Partitions being or already revoked: their records are not handed out, and their
        # offsets are not recorded, until the group assigns them again.
        self._leaving: set[Partition] = set()
        self._revoked: set[Partition] = set()
        # Resolved when the message in hand is finished; only while a revocation waits for it.
        self._finished: asyncio.Future[None] | None = None
        if topics:
            self._client.subscribe(topics)

    @property
    def started(self) -> bool:
        return self._started

    async def start(self) -> None:
        await self._client.start()
        self._started = True

    async def stop(self, *, finished_in_hand: bool) -> None:
        """Commit what was processed (and the message in hand if finished), then close."""
        if not self._started:
            return
        self._started = False
        try:
            if finished_in_hand:
                self.done_with_in_hand()
            await self.commit(raise_rebalanced=False)
        finally:
            self._in_hand = None  # a revocation while closing must not wait for it
            await self._client.stop()

    def update_topics(self, topics: Iterable[str]) -> None:
        """Replace the subscription; takes effect while iteration goes on."""
        self._buffer.clear()
        self._client.subscribe(topics)

    def assign_topics(self, partitions: Iterable[tuple[str, int]]) -> None:
        """Replace the subscription with a manual assignment of (topic, partition) pairs."""
        self._buffer.clear()
        self._client.assign(partitions)

    def assignment(self) -> list[tuple[str, int]]:
        return self._client.assignment()

    def done_with_in_hand(self) -> None:
        record = self._in_hand
        if record is not None:
            self._in_hand = None
            where = (record.topic, record.partition)
            if where not in self._revoked:  # else it belongs to another member by now
                self._processed[where] = record.offset + 1
            if self._finished is not None and not self._finished.done():
                self._finished.set_result(None)

    async def commit(self, *, raise_rebalanced: bool = True) -> None:
        """Commit every processed offset. A commit that a rebalance made too late keeps the
        offsets of partitions still held for the next commit, and raises
        :class:`CommitFailedError` only if ``raise_rebalanced`` (else it logs it)."""
        if self._processed and not self._auto_commit:
            processed, self._processed = self._processed, {}
            try:
                await self._client.commit(self._capped(processed))
            except BaseException as exc:
                # Not committed (broker gone, cancelled by Ctrl-C, group rebalanced): keep the
                # offsets for the next commit, e.g. the one on leaving `async with`, unless
                # newer ones came or the partition went to another member meanwhile.
                for key, offset in processed.items():
                    if key not in self._revoked:
                        self._processed.setdefault(key, offset)
                if raise_rebalanced or not isinstance(exc, CommitFailedError):
                    raise
                log.warning("%s", exc)
        self._last_commit = time.monotonic()

    def _capped(self, processed: dict[Partition, int]) -> dict[Partition, int]:
        """Never commit past the first chunk of a message still being reassembled."""
        offsets = dict(processed)
        for (topic, partition), offset in processed.items():
            pending = self.reassembler.lowest_pending_offset(topic, partition)
            if pending is not None:
                offsets[(topic, partition)] = min(offset, pending)
        return offsets

    async def next_record(self, timeout_s: float | None = None) -> Record:
        """The next record; the previous one is now processed. Waits up to ``timeout_s``."""
        if not self._started:
            raise ConsumerStoppedError(
                "the consumer is not running: iterate it inside 'async with'"
            )
        self.done_with_in_hand()
        now = time.monotonic()
        if now - self._last_yield >= _YIELD_EVERY_S:
            self._last_yield = now
            await asyncio.sleep(0)
        deadline = None if timeout_s is None else now + timeout_s
        while True:
            # Also while no message comes: what was processed is committed on time.
            if self._processed and time.monotonic() - self._last_commit >= self._commit_interval_s:
                await self.commit(raise_rebalanced=False)
            while self._buffer:
                record = self._buffer.popleft()
                if not self._leaving or (record.topic, record.partition) not in self._leaving:
                    self._in_hand = record
                    return record
            remaining_ms = _POLL_MS
            if deadline is not None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"no message within {timeout_s} s")
                remaining_ms = max(1, min(_POLL_MS, int(remaining * 1000)))
            if not self._client.has_topics():
                # Topics may be given later, from another task (seed: update_topics).
                await asyncio.sleep(remaining_ms / 1000)
                continue
            self._buffer.extend(await self._client.fetch(timeout_ms=remaining_ms))

    # The transport's RebalanceListener: called on the event loop's thread.

    async def settle(self, partitions: Collection[Partition], timeout_s: float) -> None:
        """Stop handing out records of ``partitions`` and give the message in hand up to
        ``timeout_s`` to finish, so that it is committed before its partition goes (as in a
        Java consumer, whose rebalances run inside poll(), between two messages)."""
        self._leave(partitions)
        record = self._in_hand
        if record is None or (record.topic, record.partition) not in self._leaving:
            return
        self._finished = asyncio.get_running_loop().create_future()
        try:
            async with asyncio.timeout(timeout_s):
                await self._finished
        except TimeoutError:
            log.warning(
                "the message in hand (%s[%d]@%d) was not finished within %.3g s of its "
                "partition being revoked: it will be delivered again to the partition's owner",
                record.topic,
                record.partition,
                record.offset,
                timeout_s,
            )
        finally:
            self._finished = None

    def revoke(self, partitions: Collection[Partition]) -> dict[Partition, int]:
        self._leave(partitions)
        self._revoked.update(partitions)
        for topic, partition in partitions:
            self.reassembler.forget(topic, partition)
        offsets = {key: self._processed.pop(key) for key in partitions if key in self._processed}
        return self._capped(offsets)

    def assign(self, partitions: Collection[Partition]) -> None:
        self._leaving.difference_update(partitions)
        self._revoked.difference_update(partitions)

    def _leave(self, partitions: Collection[Partition]) -> None:
        """Drop the fetched records of ``partitions`` and hand out none until assigned again;
        a new assignment fetches again from the committed offset."""
        self._leaving.update(partitions)
        if self._buffer:
            leaving = self._leaving
            self._buffer = deque(r for r in self._buffer if (r.topic, r.partition) not in leaving)


class MessageStream(Generic[T]):
    """Shared lifecycle and iteration: records in, converted values out, bad ones by policy."""

    def __init__(
        self,
        server: str,
        *,
        topics: Iterable[str] | None,
        group_id: str | None,
        auto_offset_reset: str,
        on_error: OnError,
        dead_letter_topic: str | None,
        kafka_options: dict[str, Any],
    ) -> None:
        stream_options = {
            k: kafka_options.pop(k)
            for k in ("commit_interval_s", "max_reassembly_bytes", "chunk_timeout_s", "transport")
            if k in kafka_options
        }
        self._subscriber = Subscriber(
            server,
            topics=topics,
            group_id=group_id,
            auto_offset_reset=auto_offset_reset,
            **stream_options,
            **kafka_options,
        )
        self.policy = BadMessagePolicy(
            on_error,
            dead_letter_topic,
            server,
            stream_options.get("transport", "aiokafka"),
            **kafka_options,
        )

    def convert(self, record: Record) -> T:
        raise NotImplementedError

    async def __aenter__(self) -> Self:
        await self.policy.start()
        try:
            await self._subscriber.start()
        except BaseException:
            await self.policy.stop()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            await self._subscriber.stop(finished_in_hand=exc_type is None)
        finally:
            await self.policy.stop()

    def update_topics(self, topics: Iterable[str]) -> None:
        """Subscribe to these topics instead (a plain method: callable from another task)."""
        self._subscriber.update_topics(topics)

    def assign_topics(self, partitions: Iterable[tuple[str, int]]) -> None:
        """Read exactly these (topic, partition) pairs, without a consumer-group assignment."""
        self._subscriber.assign_topics(partitions)

    def assignment(self) -> list[tuple[str, int]]:
        return self._subscriber.assignment()

    async def commit(self) -> None:
        """Commit every processed message now (also done every ``commit_interval_s``, 1 s by
        default, and on exit). Raises :class:`CommitFailedError` if the group rebalanced
        first (those messages will be delivered again)."""
        await self._subscriber.commit()

    def __aiter__(self) -> AsyncIterator[T]:
        return self

    async def __anext__(self) -> T:
        return await self.receive()

    async def receive(self, *, timeout_s: float | None = None) -> T:
        """The next good message; raises ``TimeoutError`` after ``timeout_s`` without one."""
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        reassembler = self._subscriber.reassembler
        while True:
            # Only chunk sets in progress can expire; most streams never have any.
            for lost in reassembler.expired() if reassembler.pending else ():
                await self.policy.handle_lost(lost)
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                raise TimeoutError(f"no message within {timeout_s} s")
            # While a chunk set is incomplete, wake up often enough to notice it expire.
            step = remaining
            if reassembler.pending:
                step = _EXPIRY_CHECK_S if step is None else min(step, _EXPIRY_CHECK_S)
            try:
                record = await self._subscriber.next_record(step)
            except TimeoutError:
                continue
            try:
                whole = self._subscriber.reassembler.add(record)
                if whole is None:
                    continue  # a chunk of a message not yet complete
                record = whole  # a bad whole message is handled (dead-lettered) whole
                return self.convert(record)
            except DQError as error:
                await self.policy.handle(record, error)


class Consumer(MessageStream[Received[M]]):
    """Receives messages of one model ``M``: ``async for msg in consumer`` gives
    :class:`Received[M] <Received>` envelopes whose ``.value`` is an ``M``.

    Messages whose headers name another schema, a different major version or another encoding
    raise :class:`SchemaMismatchError`; like any bad message this goes through ``on_error``:
    ``"raise"`` (default; iteration can resume after it), ``"skip"`` or ``"dead_letter"``.

    ``group_join_timeout_s`` bounds how long entering ``async with`` waits to join the consumer
    group, apart from ``connect_timeout_s``: by default the session timeout plus the rebalance
    timeout plus ``connect_timeout_s`` (35 s with the defaults), since a join waits for the
    group's other members. The confluent transport joins in the background instead.
    """

    def __init__(
        self,
        model: type[M],
        server: str,
        *,
        topics: Iterable[str] | None = None,
        group_id: str | None = None,
        auto_offset_reset: str = "earliest",
        on_error: OnError = "raise",
        dead_letter_topic: str | None = None,
        transport: TransportName = "aiokafka",
        group_join_timeout_s: float | None = None,
        **kafka_options: Any,
    ) -> None:
        self.model = model
        kafka_options["transport"] = transport
        if group_join_timeout_s is not None:
            kafka_options["group_join_timeout_s"] = _positive(
                group_join_timeout_s, "group_join_timeout_s"
            )
        super().__init__(
            server,
            topics=topics,
            group_id=group_id,
            auto_offset_reset=auto_offset_reset,
            on_error=on_error,
            dead_letter_topic=dead_letter_topic,
            kafka_options=kafka_options,
        )

    def convert(self, record: Record) -> Received[M]:
        check_announced_model(record.headers, self.model)
        value = self.model.from_wire(decode(record.value, self.model.encoding))
        return Received(
            value=value,
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            timestamp=record.timestamp,
            key=record.key,
            headers=record.headers,
        )


def _positive(value: float, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ValueError(f"{name} must be a number of seconds above 0, not {value!r}")
    return float(value)


def _major(version: str) -> str:
    return version.split(".", 1)[0]


def check_announced_model(headers: tuple[tuple[str, bytes], ...], model: type[WireMessage]) -> None:
    """Refuse a message whose headers announce another schema, major version or encoding.

    Messages without dq-sdk headers (foreign producers, the seed API without a schema) are
    decoded with the model's encoding and validated, which is the real test anyway.
    """
    if headers == model_headers(model.encoding, model):
        return  # exactly what a dq-sdk producer of this model sends: all three match
    schema_id = _headers.header_value(headers, _headers.SCHEMA_ID)
    if schema_id is not None and schema_id != model.schema_id:
        raise SchemaMismatchError(
            f"message has schema {schema_id!r}; this consumer expects {model.__name__} "
            f"({model.schema_id!r})"
        )
    version = _headers.header_value(headers, _headers.SCHEMA_VERSION)
    if version is not None and _major(version) != _major(model.schema_version):
        raise SchemaMismatchError(
            f"message has {model.__name__} schema version {version}; this consumer reads "
            f"version {model.schema_version} (major versions differ): regenerate the models"
        )
    encoding = _headers.header_value(headers, _headers.ENCODING)
    if encoding is not None and encoding != model.encoding.value:
        raise SchemaMismatchError(
            f"message is encoded as {encoding!r}; {model.__name__} uses {model.encoding.value!r}"
        )
