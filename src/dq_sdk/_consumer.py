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
import time
from collections import deque
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Generic, Self, TypeVar, cast, overload

import numpy as np

from . import _headers
from ._batches import RowBatch, RowLayout, fast_rows, join_rows, row_layout
from ._chunking import CHUNK_ID, Reassembler
from ._exceptions import ConsumerStoppedError, DQError, SchemaMismatchError
from ._message import WireMessage
from ._models._structured import StructuredArray, StructuredRow
from ._policy import BadMessagePolicy, OnError
from ._producer import model_headers
from ._transport import Record, TransportName, consumer_client
from .codecs import decode

__all__ = ["Consumer", "MessageStream", "Received", "Subscriber"]

M = TypeVar("M", bound=WireMessage)
R = TypeVar("R", bound=StructuredRow)
T = TypeVar("T")

_POLL_MS = 100
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
    """Owns the aiokafka consumer: subscription, fetching and after-processing commits."""

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
        self._auto_commit = bool(kafka_options["enable_auto_commit"])
        self._buffer: deque[Record] = deque()
        self._in_hand: Record | None = None
        self._in_hand_batch: list[Record] = []
        self._processed: dict[tuple[str, int], int] = {}
        self._last_commit = time.monotonic()
        self._commit_interval_s = commit_interval_s
        self._started = False
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
            await self.commit()
        finally:
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
        if self._in_hand is not None:
            record = self._in_hand
            self._processed[(record.topic, record.partition)] = record.offset + 1
            self._in_hand = None
        if self._in_hand_batch:
            processed = self._processed
            # Records come in offset order within a partition: the last one of each wins.
            for record in self._in_hand_batch:
                processed[(record.topic, record.partition)] = record.offset + 1
            self._in_hand_batch = []

    async def commit(self) -> None:
        if self._processed and not self._auto_commit:
            processed, self._processed = self._processed, {}
            offsets = dict(processed)
            for (topic, partition), offset in offsets.items():
                # Never commit past the first chunk of a message still being reassembled.
                pending = self.reassembler.lowest_pending_offset(topic, partition)
                if pending is not None:
                    offsets[(topic, partition)] = min(offset, pending)
            try:
                await self._client.commit(offsets)
            except BaseException:
                # Not committed (broker gone, or cancelled by Ctrl-C): keep the offsets for the
                # next commit, e.g. the one on leaving `async with`, unless newer ones came.
                for key, offset in processed.items():
                    self._processed.setdefault(key, offset)
                raise
        self._last_commit = time.monotonic()

    async def next_record(self, timeout_s: float | None = None) -> Record:
        """The next record; the previous one is now processed. Waits up to ``timeout_s``."""
        await self._refill(timeout_s)
        self._in_hand = self._buffer.popleft()
        return self._in_hand

    async def next_batch(self, max_records: int, timeout_s: float | None = None) -> list[Record]:
        """The records fetched so far, at most ``max_records``, at least one; the previous
        record or batch is now processed. Waits up to ``timeout_s`` for the first."""
        await self._refill(timeout_s)
        buffer = self._buffer
        if len(buffer) <= max_records:
            batch = list(buffer)
            buffer.clear()
        else:
            batch = [buffer.popleft() for _ in range(max_records)]
        self._in_hand_batch = batch
        return batch

    def give_back(self, records: list[Record]) -> None:
        """Return the last ``records`` of the batch in hand unprocessed: the next call hands
        them over again (a batch cut short before a bad message that is to be raised)."""
        if records:
            self._in_hand_batch = self._in_hand_batch[: len(self._in_hand_batch) - len(records)]
            self._buffer.extendleft(reversed(records))

    async def _refill(self, timeout_s: float | None) -> None:
        """Mark what is in hand processed, commit when due, wait until a record is buffered."""
        if not self._started:
            raise ConsumerStoppedError(
                "the consumer is not running: iterate it inside 'async with'"
            )
        self.done_with_in_hand()
        if self._processed and time.monotonic() - self._last_commit >= self._commit_interval_s:
            await self.commit()
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        while not self._buffer:
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
        """Commit every processed message now (also done every second and on exit)."""
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
        **kafka_options: Any,
    ) -> None:
        self.model = model
        kafka_options["transport"] = transport
        super().__init__(
            server,
            topics=topics,
            group_id=group_id,
            auto_offset_reset=auto_offset_reset,
            on_error=on_error,
            dead_letter_topic=dead_letter_topic,
            kafka_options=kafka_options,
        )

    # Row models get columns, others a list: the return type really changes with the model.
    @overload
    async def receive_batch(  # type: ignore[overload-overlap]
        self: Consumer[R], *, max_records: int = ..., timeout_s: float | None = ...
    ) -> RowBatch[R]: ...
    @overload
    async def receive_batch(
        self, *, max_records: int = ..., timeout_s: float | None = ...
    ) -> list[Received[M]]: ...
    async def receive_batch(
        self, *, max_records: int = 10_000, timeout_s: float | None = None
    ) -> RowBatch[Any] | list[Received[M]]:
        """What the fetches so far brought, at most ``max_records`` good messages, decoded at
        once; the previous batch is now processed (committed as single messages are).

        For a row model (``Consumer[PointingNumpyArray]``) one :class:`RowBatch`: all rows in
        one ``StructuredArray`` with topic, partition, offset and timestamp arrays beside it,
        no Python object per row. For any other model a list of ``Received[M]``. Bad messages
        go through ``on_error`` one by one; with ``"raise"`` the batch stops before a bad
        message, and the next call raises for it (then goes on after it, as iteration does).
        Raises ``TimeoutError`` after ``timeout_s`` without a good message.
        """
        if isinstance(max_records, bool) or not isinstance(max_records, int) or max_records < 1:
            raise ValueError(f"max_records must be a positive int, not {max_records!r}")
        layout = None
        if issubclass(self.model, StructuredRow):
            layout = row_layout(self.model, model_headers(self.model.encoding, self.model))
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        while True:
            records = await self._records_until(deadline, timeout_s, max_records)
            if layout is not None:
                rows = await self._rows(records, layout)
                if rows is not None:
                    return rows
            else:
                received = await self._received(records)
                if received:
                    return received

    @overload
    def batches(  # type: ignore[overload-overlap]
        self: Consumer[R], *, max_records: int = ..., timeout_s: float | None = ...
    ) -> AsyncIterator[RowBatch[R]]: ...
    @overload
    def batches(
        self, *, max_records: int = ..., timeout_s: float | None = ...
    ) -> AsyncIterator[list[Received[M]]]: ...
    def batches(
        self, *, max_records: int = 10_000, timeout_s: float | None = None
    ) -> AsyncIterator[Any]:
        """``async for batch in consumer.batches(): ...``: :meth:`receive_batch` again and
        again, each batch processed once the loop asks for the next."""

        async def repeat() -> AsyncIterator[Any]:
            while True:
                yield await self.receive_batch(max_records=max_records, timeout_s=timeout_s)

        return repeat()

    async def _records_until(
        self, deadline: float | None, timeout_s: float | None, max_records: int
    ) -> list[Record]:
        reassembler = self._subscriber.reassembler
        while True:
            for lost in reassembler.expired() if reassembler.pending else ():
                await self.policy.handle_lost(lost)
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                raise TimeoutError(f"no message within {timeout_s} s")
            step = remaining
            if reassembler.pending:
                step = _EXPIRY_CHECK_S if step is None else min(step, _EXPIRY_CHECK_S)
            try:
                return await self._subscriber.next_batch(max_records, step)
            except TimeoutError:
                continue

    async def _one(self, records: list[Record], index: int) -> Received[M] | None:
        """``records[index]`` the single-message way: ``None`` for a chunk of a message not yet
        complete or a bad message the policy let go; raises as ``on_error="raise"`` says,
        after giving back what follows it."""
        record = records[index]
        try:
            whole = self._subscriber.reassembler.add(record)
            return None if whole is None else self.convert(whole)
        except DQError as error:
            if self.policy.on_error == "raise":
                self._subscriber.give_back(records[index + 1 :])
            await self.policy.handle(record, error)
            return None

    async def _received(self, records: list[Record]) -> list[Received[M]]:
        received: list[Received[M]] = []
        for index, record in enumerate(records):
            if received and self.policy.on_error == "raise" and self._is_bad(record):
                self._subscriber.give_back(records[index:])
                break
            one = await self._one(records, index)
            if one is not None:
                received.append(one)
        return received

    def _is_bad(self, record: Record) -> bool:
        """Whether ``record`` would raise; only asked under ``"raise"`` with messages in hand,
        so a batch ends before a bad message and the next call raises for it."""
        if _headers.header_value(record.headers, CHUNK_ID) is not None:
            return False  # chunks are judged when their message is whole
        try:
            self.convert(record)
        except DQError:
            return True
        return False

    async def _rows(self, records: list[Record], layout: RowLayout) -> RowBatch[Any] | None:
        parts: list[np.ndarray[Any, np.dtype[np.void]]] = []
        sources: list[Record] = []
        index, count = 0, len(records)
        while index < count:
            run = fast_rows(layout, records, index)
            if run:
                try:
                    parts.append(join_rows(layout, records[index : index + run]))
                    sources.extend(records[index : index + run])
                    index += run
                    continue
                except DQError:
                    pass  # some row is bad: find it the single-message way
            if parts and self.policy.on_error == "raise" and self._is_bad(records[index]):
                self._subscriber.give_back(records[index:])
                break
            one = await self._one(records, index)
            if one is not None:
                parts.append(cast(StructuredRow, one.value).to_wire())
                sources.append(records[index])
            index += 1
        if not sources:
            return None
        array = parts[0] if len(parts) == 1 else np.concatenate(parts)
        rows = StructuredArray[self.model](array)  # type: ignore[name-defined]
        return RowBatch(
            rows=rows,
            topics=tuple(record.topic for record in sources),
            partitions=np.fromiter((r.partition for r in sources), np.int32, len(sources)),
            offsets=np.fromiter((r.offset for r in sources), np.int64, len(sources)),
            timestamps=np.fromiter((r.timestamp for r in sources), np.int64, len(sources)),
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
