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
import ssl
import time
from collections import deque
from collections.abc import AsyncIterator, Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Any, Generic, Self, TypeVar, cast, overload

import numpy as np

from . import _headers
from ._batches import RowBatch, RowLayout, fast_rows, join_rows, row_layout
from ._chunking import Reassembler
from ._exceptions import (
    CommitFailedError,
    ConsumerStoppedError,
    DQError,
    InvalidArgumentError,
    ReceiveTimeoutError,
    SchemaMismatchError,
)
from ._headers import CHUNK_ID, model_headers
from ._message import WireMessage, check_model
from ._models._structured import StructuredArray, StructuredRow
from ._policy import BadMessagePolicy, OnError
from ._settings import (
    DEFAULT_CONNECT_TIMEOUT_S,
    AutoOffsetReset,
    Connection,
    ConsumerSettings,
    SaslMechanism,
    SecurityProtocol,
    check_topic,
    checked_keywords,
    client_options,
    connection_from,
    consumer_settings_from,
    topic_list,
)
from ._transport import FetchedRecord, Partition, TransportName, consumer_client
from ._transport._base import listed
from .codecs import decode
from .telemetry._hooks import ConsumerHooks, consumer_hooks

__all__ = ["Consumer", "MessageStream", "Received", "Subscriber"]

M = TypeVar("M", bound=WireMessage)
R = TypeVar("R", bound=StructuredRow)
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
        commit_interval_s: float = 1.0,
        max_reassembly_bytes: int = 512 * 1024 * 1024,
        chunk_timeout_s: float = 120.0,
        transport: TransportName = "aiokafka",
        **kafka_options: Any,
    ) -> None:
        self.server = server
        self.reassembler = Reassembler(max_bytes=max_reassembly_bytes, timeout_s=chunk_timeout_s)
        # We commit ourselves, after processing; the client's auto-commit would commit on fetch.
        kafka_options.setdefault("enable_auto_commit", False)
        self._client = consumer_client(server, transport, group_id=group_id, **kafka_options)
        self._client.listen(self)
        self._auto_commit = bool(kafka_options["enable_auto_commit"])
        self._buffer: deque[FetchedRecord] = deque()
        self._in_hand: FetchedRecord | None = None
        self._in_hand_batch: list[FetchedRecord] = []
        self._processed: dict[Partition, int] = {}
        self._last_commit = self._last_yield = time.monotonic()
        self._commit_interval_s = commit_interval_s
        self._started = False
        self._assigned: list[tuple[str, int]] = []
        self._wanted_topics: list[str] = list(topics or ())
        self._warned_no_topics = False
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
        log.info(
            "consumer connected to %s (group %r, %s)",
            self.server,
            self._client.group_id,
            self._topics_text(),
        )

    def idle_note(self) -> str:
        """Why nothing may be arriving, for a timeout's message."""
        return "" if self._client.has_topics() else " (the consumer has no topics)"

    def _topics_text(self) -> str:
        wanted = self._client.assignment() or self._wanted_topics
        return f"topics {', '.join(map(str, wanted))}" if wanted else "no topics yet"

    def _note_assignment(self) -> None:
        """Log the partitions this consumer reads whenever they change (a group join or
        rebalance, a new subscription, a manual assignment)."""
        current = self._client.assignment()
        if current == self._assigned:
            return
        first = not self._assigned and self._client.group_id is not None
        self._assigned = current
        by_topic: dict[str, list[int]] = {}
        for topic, partition in current:
            by_topic.setdefault(topic, []).append(partition)
        text = "; ".join(f"{t} [{', '.join(map(str, p))}]" for t, p in by_topic.items())
        if first:
            log.info("consumer joined group %r: assigned %s", self._client.group_id, text)
        else:
            log.info("consumer of group %r assigned %s", self._client.group_id, text or "nothing")

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
            log.info("consumer left %s (group %r)", self.server, self._client.group_id)

    def update_topics(self, topics: Iterable[str]) -> None:
        """Replace the subscription; takes effect while iteration goes on."""
        self._buffer.clear()
        self._wanted_topics = list(topics)
        self._client.subscribe(self._wanted_topics)

    def assign_topics(self, partitions: Iterable[tuple[str, int]]) -> None:
        """Replace the subscription with a manual assignment of (topic, partition) pairs."""
        self._buffer.clear()
        self._client.assign(partitions)

    def assignment(self) -> list[tuple[str, int]]:
        """The ``(topic, partition)`` pairs this consumer reads now."""
        return self._client.assignment()

    # -- positions and offsets (Consumer.seek / positions / lag) ------------------------------

    def _require_started(self, what: str) -> None:
        if not self._started:
            raise ConsumerStoppedError(f"{what}: the consumer is not running (use 'async with')")

    def _drop_buffered(self, pairs: set[tuple[str, int]]) -> None:
        """Forget records fetched before a seek: the next one must come from the new offset."""
        if any((r.topic, r.partition) in pairs for r in self._buffer):
            kept = [r for r in self._buffer if (r.topic, r.partition) not in pairs]
            self._buffer.clear()  # in place: other methods may hold the deque
            self._buffer.extend(kept)

    async def seek(self, offsets: dict[tuple[str, int], int]) -> None:
        self._require_started("seek")
        await self._client.seek(offsets)
        self._drop_buffered(set(offsets))

    async def seek_to_beginning(self, pairs: list[tuple[str, int]]) -> None:
        self._require_started("seek_to_beginning")
        chosen = pairs or self.assignment()
        await self._client.seek_to_beginning(chosen)
        self._drop_buffered(set(chosen))

    async def high_watermarks(
        self, pairs: list[tuple[str, int]], max_age_s: float
    ) -> dict[tuple[str, int], int]:
        self._require_started("high_watermarks")
        return await self._client.high_watermarks(pairs or self.assignment(), max_age_s=max_age_s)

    async def seek_to_end(self, pairs: list[tuple[str, int]]) -> None:
        # From fresh Fetch high-water marks, not the client's seek_to_end (ListOffsets,
        # which tansu answers wrongly).
        await self.seek(await self.high_watermarks(pairs, 0.0))

    async def seek_to_time(self, pairs: list[tuple[str, int]], timestamp_ms: int) -> None:
        self._require_started("seek_to_time")
        chosen = pairs or self.assignment()
        found = await self._client.offsets_for_time(chosen, timestamp_ms)
        offsets = {pair: offset for pair, offset in found.items() if offset is not None}
        past_the_end = [pair for pair in chosen if found.get(pair) is None]
        if past_the_end:
            offsets.update(await self.high_watermarks(past_the_end, 0.0))
        await self.seek(offsets)

    async def positions(self) -> dict[tuple[str, int], int]:
        self._require_started("positions")
        first_buffered: dict[tuple[str, int], int] = {}
        for record in self._buffer:
            first_buffered.setdefault((record.topic, record.partition), record.offset)
        positions = {}
        for topic, partition in self.assignment():
            offset = first_buffered.get((topic, partition))
            if offset is None:
                offset = await self._client.position(topic, partition)
            positions[(topic, partition)] = offset
        return positions

    def highwater(self, topic: str, partition: int) -> int | None:
        """The last high-water mark fetched for the partition, or ``None``; never blocks."""
        return self._client.highwater(topic, partition)

    def done_with_in_hand(self) -> None:
        """The record or batch in hand is processed: record its offsets, except for
        partitions revoked meanwhile (they belong to another member by now)."""
        record = self._in_hand
        if record is not None:
            self._in_hand = None
            where = (record.topic, record.partition)
            if where not in self._revoked:
                self._processed[where] = record.offset + 1
        if self._in_hand_batch:
            processed, revoked = self._processed, self._revoked
            # Records come in offset order within a partition: the last one of each wins.
            for record in self._in_hand_batch:
                where = (record.topic, record.partition)
                if where not in revoked:
                    processed[where] = record.offset + 1
            self._in_hand_batch = []
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
                log.debug(
                    "committed %s (group %r)",
                    ", ".join(f"{t}[{p}]@{o}" for (t, p), o in processed.items()),
                    self._client.group_id,
                )
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

    async def next_record(self, timeout_s: float | None = None) -> FetchedRecord:
        """The next record; the previous one is now processed. Waits up to ``timeout_s``."""
        await self._refill(timeout_s)
        self._in_hand = self._buffer.popleft()
        return self._in_hand

    async def next_batch(
        self, max_records: int, timeout_s: float | None = None
    ) -> list[FetchedRecord]:
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

    def give_back(self, records: list[FetchedRecord]) -> None:
        """Return the last ``records`` of the batch in hand unprocessed: the next call hands
        them over again (a batch cut short before a bad message that is to be raised)."""
        if records:
            self._in_hand_batch = self._in_hand_batch[: len(self._in_hand_batch) - len(records)]
            self._buffer.extendleft(reversed(self._staying(records)))

    async def _refill(self, timeout_s: float | None) -> None:
        """Mark what is in hand processed, commit when due, wait until a record is buffered.

        The buffer never holds records of partitions being revoked (see ``_leave``)."""
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
            if self._buffer:
                return
            remaining_ms = _POLL_MS
            if deadline is not None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise ReceiveTimeoutError(f"no message within {timeout_s} s{self.idle_note()}")
                remaining_ms = max(1, min(_POLL_MS, int(remaining * 1000)))
            if not self._client.has_topics():
                # Topics may be given later, from another task (seed: update_topics); say so
                # rather than wait in silence.
                if not self._warned_no_topics:
                    self._warned_no_topics = True
                    log.warning(
                        "consumer of %s has no topics: it waits until update_topics() or "
                        "assign_topics() gives some",
                        self.server,
                    )
                await asyncio.sleep(remaining_ms / 1000)
                continue
            self._buffer.extend(self._staying(await self._client.fetch(timeout_ms=remaining_ms)))
            self._note_assignment()

    def _staying(self, records: list[FetchedRecord]) -> list[FetchedRecord]:
        """``records`` without those of partitions being revoked."""
        leaving = self._leaving
        if not leaving:
            return records
        return [r for r in records if (r.topic, r.partition) not in leaving]

    # The transport's RebalanceListener: called on the event loop's thread.

    async def settle(self, partitions: Collection[Partition], timeout_s: float) -> None:
        """Stop handing out records of ``partitions`` and give what is in hand up to
        ``timeout_s`` to finish, so that it is committed before its partition goes (as in a
        Java consumer, whose rebalances run inside poll(), between two messages)."""
        self._leave(partitions)
        in_hand = [self._in_hand] if self._in_hand is not None else self._in_hand_batch
        if not any((r.topic, r.partition) in self._leaving for r in in_hand):
            return
        self._finished = asyncio.get_running_loop().create_future()
        try:
            async with asyncio.timeout(timeout_s):
                await self._finished
        except TimeoutError:
            log.warning(
                "what was in hand from %s was not finished within %.3g s of the partitions "
                "being revoked: it will be delivered again to their new owner",
                listed(partitions),
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
            self._buffer = deque(self._staying(list(self._buffer)))


class MessageStream(Generic[T]):
    """Shared lifecycle and iteration: records in, converted values out, bad ones by policy."""

    def __init__(
        self,
        connection: Connection,
        settings: ConsumerSettings,
        *,
        topics: str | Iterable[str] | None,
        group_id: str | None,
        on_error: OnError,
        dead_letter_topic: str | None,
    ) -> None:
        self.connection = connection
        self.settings = settings
        chosen = topic_list(topics)
        if chosen is None and connection.bootstrap.topic is not None:
            chosen = [connection.bootstrap.topic]
        if group_id is not None and (type(group_id) is not str or not group_id):
            raise InvalidArgumentError(f"group_id={group_id!r} is not allowed: a non-empty str")
        if dead_letter_topic is not None:
            check_topic(dead_letter_topic, what="dead_letter_topic")
        options = client_options(connection, settings)
        self._subscriber = Subscriber(
            connection.server,
            topics=chosen,
            group_id=group_id,
            commit_interval_s=settings.commit_interval_s,
            max_reassembly_bytes=settings.max_reassembly_bytes,
            chunk_timeout_s=settings.chunk_timeout_s,
            transport=connection.transport,
            **options,
        )
        # The dead-letter producer shares the connection (address, security, timeouts), not
        # the consumer's own options nor its raw client_options (consumer settings).
        self.policy = BadMessagePolicy(
            on_error,
            dead_letter_topic,
            connection.server,
            connection.transport,
            **connection.options(),
        )
        # None unless dq_sdk.telemetry.instrument() was called. A typed Consumer has set
        # its model before calling this constructor; the seed's consumer has none.
        self.telemetry: ConsumerHooks | None = consumer_hooks(
            connection.transport,
            group_id,
            getattr(self, "model", None),
            self._subscriber.highwater,
        )
        self.policy.telemetry = self.telemetry

    def convert(self, record: FetchedRecord) -> T:
        """What the stream yields for one complete record (decoded and checked); a subclass's
        job. A :class:`DQError` raised here goes to the bad-message policy."""
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
            if self.telemetry is not None:
                self.telemetry.close()
            await self.policy.stop()

    def update_topics(self, topics: str | Iterable[str]) -> None:
        """Subscribe to these topics instead (a plain method: callable from another task).

        A ``str`` is one topic name."""
        self._subscriber.update_topics(topic_list(topics) or [])

    def assign_topics(self, partitions: Iterable[tuple[str, int]]) -> None:
        """Read exactly these (topic, partition) pairs, without a consumer-group assignment."""
        self._subscriber.assign_topics(_pairs(partitions))

    def assignment(self) -> list[tuple[str, int]]:
        """The ``(topic, partition)`` pairs assigned to this consumer now (with a ``group_id``,
        the group's share; it changes on a rebalance)."""
        return self._subscriber.assignment()

    async def commit(self) -> None:
        """Commit every processed message now (also done every ``commit_interval_s``, 1 s by
        default, and on exit). Raises :class:`CommitFailedError` if the group rebalanced
        first (those messages will be delivered again)."""
        await self._subscriber.commit()

    # -- positions and offsets -------------------------------------------------------------
    # A partition is a (topic, partition) pair, as in assign_topics; it must be assigned to
    # this consumer (after a group rebalance, assignment() lists them).

    async def seek(self, partition: tuple[str, int], offset: int) -> None:
        """Receive partition ``(topic, number)`` from ``offset`` on (next ``receive``)."""
        topic, number = _checked_partition(partition)
        await self._subscriber.seek({(topic, number): _checked_offset(topic, number, offset)})

    async def seek_many(self, offsets: Mapping[tuple[str, int], int]) -> None:
        """:meth:`seek` several partitions at once: ``{(topic, number): offset, ...}``."""
        checked = {}
        for partition, offset in offsets.items():
            topic, number = _checked_partition(partition)
            checked[(topic, number)] = _checked_offset(topic, number, offset)
        await self._subscriber.seek(checked)

    async def seek_to_beginning(self, *partitions: tuple[str, int]) -> None:
        """Start these partitions (default: every assigned one) at their first message."""
        await self._subscriber.seek_to_beginning([_checked_partition(p) for p in partitions])

    async def seek_to_end(self, *partitions: tuple[str, int]) -> None:
        """Start these partitions (default: every assigned one) after their last message, at
        the high-water mark, so only messages sent from now on are received."""
        await self._subscriber.seek_to_end([_checked_partition(p) for p in partitions])

    async def seek_to_time(self, when: datetime, *partitions: tuple[str, int]) -> None:
        """Start these partitions (default: every assigned one) at their first message with a
        timestamp at or after ``when`` (an aware datetime); at the end where there is none."""
        if not isinstance(when, datetime) or when.tzinfo is None:
            raise ValueError(f"when must be a timezone-aware datetime, not {when!r}")
        checked = [_checked_partition(p) for p in partitions]
        await self._subscriber.seek_to_time(checked, int(when.timestamp() * 1000))

    async def positions(self) -> dict[tuple[str, int], int]:
        """Offset of the next message ``receive`` will return, per assigned partition."""
        return await self._subscriber.positions()

    async def high_watermarks(
        self, *partitions: tuple[str, int], max_age_s: float = 1.0
    ) -> dict[tuple[str, int], int]:
        """The high-water mark (offset after the last message) per partition (default: every
        assigned one), from the broker's Fetch responses: this consumer's own when at most
        ``max_age_s`` old, else fetched now."""
        checked = [_checked_partition(p) for p in partitions]
        return await self._subscriber.high_watermarks(checked, max_age_s)

    async def lag(self, *, max_age_s: float = 1.0) -> dict[tuple[str, int], int]:
        """Messages not yet received, per assigned partition: high-water mark - position."""
        positions = await self.positions()
        marks = await self.high_watermarks(*positions, max_age_s=max_age_s)
        return {pair: max(0, marks[pair] - position) for pair, position in positions.items()}

    def __aiter__(self) -> AsyncIterator[T]:
        return self

    async def __anext__(self) -> T:
        return await self.receive()

    async def _next_wait(self, deadline: float | None, timeout_s: float | None) -> float | None:
        """Before each wait for records: hand chunk sets that expired to the policy, raise
        ``ReceiveTimeoutError`` once ``deadline`` has passed, and return how long the wait may
        take (``None``: no limit)."""
        reassembler = self._subscriber.reassembler
        # Only chunk sets in progress can expire; most streams never have any.
        for lost in reassembler.expired() if reassembler.pending else ():
            await self.policy.handle_lost(lost)
        remaining = None if deadline is None else deadline - time.monotonic()
        if remaining is not None and remaining <= 0:
            raise ReceiveTimeoutError(
                f"no message within {timeout_s} s{self._subscriber.idle_note()}"
            )
        # While a chunk set is incomplete, wake up often enough to notice it expire.
        if reassembler.pending:
            return _EXPIRY_CHECK_S if remaining is None else min(remaining, _EXPIRY_CHECK_S)
        return remaining

    async def receive(self, *, timeout_s: float | None = None) -> T:
        """The next good message; raises ``TimeoutError`` after ``timeout_s`` without one."""
        telemetry = self.telemetry
        if telemetry is not None:
            telemetry.next_requested()
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        while True:
            step = await self._next_wait(deadline, timeout_s)
            try:
                record = await self._subscriber.next_record(step)
            except TimeoutError:
                continue
            try:
                whole = self._subscriber.reassembler.add(record)
                if whole is None:
                    continue  # a chunk of a message not yet complete
                record = whole  # a bad whole message is handled (dead-lettered) whole
                converted = self.convert(record)
                if telemetry is not None:
                    telemetry.handed_over(record)
                return converted
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

    @checked_keywords
    def __init__(
        self,
        model: type[M],
        server: str | None = None,
        *,
        topics: str | Iterable[str] | None = None,
        group_id: str | None = None,
        on_error: OnError = "raise",
        dead_letter_topic: str | None = None,
        transport: TransportName = "aiokafka",
        auto_offset_reset: AutoOffsetReset = "earliest",
        commit_interval_s: float = 1.0,
        enable_auto_commit: bool = False,
        session_timeout_ms: int = 10_000,
        heartbeat_interval_ms: int = 3_000,
        max_poll_interval_ms: int = 300_000,
        max_poll_records: int | None = None,
        fetch_max_bytes: int = 52_428_800,
        max_partition_fetch_bytes: int = 1_048_576,
        max_reassembly_bytes: int = 512 * 1024 * 1024,
        chunk_timeout_s: float = 120.0,
        group_join_timeout_s: float | None = None,
        connect_timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S,
        request_timeout_ms: int = 40_000,
        client_id: str | None = None,
        security_protocol: SecurityProtocol = "PLAINTEXT",
        ssl_context: ssl.SSLContext | None = None,
        sasl_mechanism: SaslMechanism = "PLAIN",
        sasl_plain_username: str | None = None,
        sasl_plain_password: str | None = None,
        sasl_kerberos_service_name: str = "kafka",
        sasl_kerberos_domain_name: str | None = None,
        client_options: Mapping[str, object] | None = None,
    ) -> None:
        check_model(model, "Consumer")
        self.model = model
        super().__init__(
            connection_from(server, locals()),
            consumer_settings_from(locals()),
            topics=topics,
            group_id=group_id,
            on_error=on_error,
            dead_letter_topic=dead_letter_topic,
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
        if self.telemetry is not None:
            self.telemetry.next_requested()
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
    ) -> list[FetchedRecord]:
        while True:
            step = await self._next_wait(deadline, timeout_s)
            try:
                return await self._subscriber.next_batch(max_records, step)
            except TimeoutError:
                continue

    async def _one(self, records: list[FetchedRecord], index: int) -> Received[M] | None:
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

    async def _received(self, records: list[FetchedRecord]) -> list[Received[M]]:
        received: list[Received[M]] = []
        handed: list[FetchedRecord] = []  # the records behind them, for telemetry
        for index, record in enumerate(records):
            if received and self.policy.on_error == "raise" and self._is_bad(record):
                self._subscriber.give_back(records[index:])
                break
            one = await self._one(records, index)
            if one is not None:
                received.append(one)
                handed.append(record)
        if self.telemetry is not None:
            self.telemetry.handed_over_batch(handed)
        return received

    def _is_bad(self, record: FetchedRecord) -> bool:
        """Whether ``record`` would raise; only asked under ``"raise"`` with messages in hand,
        so a batch ends before a bad message and the next call raises for it."""
        if _headers.header_value(record.headers, CHUNK_ID) is not None:
            return False  # chunks are judged when their message is whole
        try:
            self.convert(record)
        except DQError:
            return True
        return False

    async def _rows(self, records: list[FetchedRecord], layout: RowLayout) -> RowBatch[Any] | None:
        parts: list[np.ndarray[Any, np.dtype[np.void]]] = []
        sources: list[FetchedRecord] = []
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
        if self.telemetry is not None:
            self.telemetry.handed_over_batch(sources)
        return RowBatch(
            rows=rows,
            topics=tuple(record.topic for record in sources),
            partitions=np.fromiter((r.partition for r in sources), np.int32, len(sources)),
            offsets=np.fromiter((r.offset for r in sources), np.int64, len(sources)),
            timestamps=np.fromiter((r.timestamp for r in sources), np.int64, len(sources)),
        )

    def convert(self, record: FetchedRecord) -> Received[M]:
        """Check the record's headers name this model, decode and validate it, and wrap it with
        where it came from. Called for every record; errors go to the ``on_error`` policy."""
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


def _checked_partition(partition: object) -> tuple[str, int]:
    """A ``(topic, partition)`` pair as given by a user, checked."""
    if (
        not isinstance(partition, tuple)
        or len(partition) != 2
        or not isinstance(partition[0], str)
        or not partition[0]
        or isinstance(partition[1], bool)
        or not isinstance(partition[1], int)
        or partition[1] < 0
    ):
        raise ValueError(
            f"a partition is a (topic, number) pair such as ('pointing_offset', 0), "
            f"not {partition!r}"
        )
    return partition[0], partition[1]


def _checked_offset(topic: str, number: int, offset: object) -> int:
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
        raise ValueError(
            f"offset for partition {number} of topic {topic!r} must be an int >= 0, not {offset!r}"
        )
    return offset


def _positive(value: float, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ValueError(f"{name} must be a number of seconds above 0, not {value!r}")
    return float(value)


def _pairs(partitions: Iterable[tuple[str, int]]) -> list[tuple[str, int]]:
    """Checked (topic, partition) pairs for ``assign_topics``."""
    if isinstance(partitions, str | bytes) or not isinstance(partitions, Iterable):
        raise InvalidArgumentError(
            f"assign_topics({partitions!r}): give a list of (topic, partition) pairs"
        )
    pairs = []
    for pair in partitions:
        if not (isinstance(pair, tuple) and len(pair) == 2):
            raise InvalidArgumentError(f"assign_topics: {pair!r} is not a (topic, partition) pair")
        topic, partition = pair
        check_topic(topic, what="assign_topics topic")
        if type(partition) is not int or partition < 0:
            raise InvalidArgumentError(
                f"assign_topics: partition {partition!r} of topic {topic!r} is not an int >= 0"
            )
        pairs.append((topic, partition))
    return pairs


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
