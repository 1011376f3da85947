"""The receiving side's hold on Kafka: :class:`RecordFetcher` owns the transport's consumer
client, its subscription or assignment, the buffer of fetched records, after-processing commits
and what a consumer-group rebalance does to them.

Commits are "after processing": a record counts as processed when the next one is asked for
(or the consumer is left normally), and only processed offsets are committed. A crash
therefore re-delivers, never skips (at-least-once).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Collection, Iterable

from ._chunking import Reassembler
from ._exceptions import CommitFailedError, ConsumerStoppedError, ReceiveTimeoutError
from ._settings import Connection, ConsumerSettings, client_options
from ._transport import FetchedRecord, Partition, consumer_client
from ._transport._base import listed

__all__ = ["RecordFetcher"]

log = logging.getLogger("dq_sdk.consumer")

_POLL_MS = 100
# Handing out buffered records awaits nothing, and one fetch can hold tens of thousands: yield
# to the event loop this often, so that the client's heartbeats (aiokafka runs them on this
# loop) and the application's other tasks are not starved into a session timeout.
_YIELD_EVERY_S = 0.05


class RecordFetcher:
    """Owns the transport's consumer: subscription, fetching, after-processing commits, and
    what a group rebalance does to them (the transport's :class:`RebalanceListener`)."""

    def __init__(
        self,
        connection: Connection,
        settings: ConsumerSettings,
        *,
        topics: Iterable[str] | None,
        group_id: str | None,
    ) -> None:
        self.server = connection.server
        self.reassembler = Reassembler(
            max_bytes=settings.max_reassembly_bytes, timeout_s=settings.chunk_timeout_s
        )
        # The client's options, mapped once from the typed settings. Unless asked otherwise
        # (enable_auto_commit, possibly in client_options) we commit ourselves, after
        # processing; the client's auto-commit would commit on fetch.
        options = client_options(connection, settings)
        self._client = consumer_client(
            connection.server, connection.transport, group_id=group_id, **options
        )
        self._client.listen(self)
        self._auto_commit = bool(options["enable_auto_commit"])
        self._buffer: deque[FetchedRecord] = deque()
        self._in_hand: FetchedRecord | None = None
        self._in_hand_batch: list[FetchedRecord] = []
        self._processed: dict[Partition, int] = {}
        self._last_commit = self._last_yield = time.monotonic()
        self._commit_interval_s = settings.commit_interval_s
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
