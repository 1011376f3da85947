"""The aiokafka consumer behind dq-sdk's consumer protocol (``transport="aiokafka"``, the default).

aiokafka rebalances in the background and awaits the listener's callbacks; the client hands
them to its owner's :class:`~dq_sdk._transport.RebalanceListener`. The aiokafka consumer is
built when the client starts, not before: aiokafka binds a client to the event loop running
when it is built.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Collection, Iterable, Mapping
from typing import Any

import aiokafka
import aiokafka.errors as kafka_errors
from aiokafka.structs import TopicPartition

from ..._exceptions import BrokerError, CommitFailedError, DQError
from .._base import (
    FetchedRecord,
    Partition,
    RebalanceListener,
    listed,
    split_options,
    uses_sasl,
)
from ._common import guarded, start_client

__all__ = ["AiokafkaConsumerClient", "group_join_timeout"]

log = logging.getLogger("dq_sdk.consumer")

# What aiokafka raises when a commit comes too late for a rebalance: the generation moved on,
# the member was dropped, or the partition was taken away before the commit was sent.
_REBALANCED = (
    kafka_errors.CommitFailedError,
    kafka_errors.IllegalStateError,
    kafka_errors.RebalanceInProgressError,
    kafka_errors.IllegalGenerationError,
    kafka_errors.UnknownMemberIdError,
)


def _group_timeouts_ms(options: Mapping[str, Any]) -> tuple[int, int]:
    """The session and rebalance timeouts aiokafka will use (rebalance defaults to session)."""
    session_ms = int(options.get("session_timeout_ms") or 10_000)
    return session_ms, int(options.get("rebalance_timeout_ms") or session_ms)


def group_join_timeout(options: Mapping[str, Any], connect_timeout_s: float) -> float:
    """How long joining a consumer group may take: the broker holds a join for up to the
    rebalance timeout (other members rejoining) plus a session timeout (a member that died
    without leaving expires), and the requests themselves get the connect timeout."""
    given = options.get("group_join_timeout_s")
    if given is not None:
        return float(given)
    session_ms, rebalance_ms = _group_timeouts_ms(options)
    return (session_ms + rebalance_ms) / 1000 + connect_timeout_s


class AiokafkaConsumerClient:
    """An aiokafka consumer with typed calls; ``subscribe``/``assign`` work before start too."""

    def __init__(self, bootstrap: str, **options: Any) -> None:
        self.bootstrap = bootstrap
        self.connect_timeout_s, kafka_options = split_options(options)
        self.group_join_timeout_s = group_join_timeout(kafka_options, self.connect_timeout_s)
        kafka_options.pop("group_join_timeout_s", None)
        self._options = kafka_options
        self._consumer: Any = None
        # Topics chosen before start: applied when the aiokafka consumer is built.
        self._pending_topics: list[str] | None = None
        self._pending_partitions: list[tuple[str, int]] | None = None
        self._sasl = uses_sasl(kafka_options)
        self.group_id: str | None = kafka_options.get("group_id")
        # aiokafka retries a commit for as long as no group coordinator answers, so a dead
        # broker would hang the caller; bound it as aiokafka bounds any other request.
        self.commit_timeout_s = int(kafka_options.get("request_timeout_ms", 40_000)) / 1000
        _, rebalance_ms = _group_timeouts_ms(kafka_options)
        # A revocation waits this long for the message in hand: half the time the broker
        # gives members to rejoin, so the rejoin itself is never late.
        self._settle_timeout_s = rebalance_ms / 2000
        self._listener: RebalanceListener | None = None
        self._rebalance_listener = _Rebalances(self)
        self._joined: asyncio.Event | None = None

    def listen(self, listener: RebalanceListener) -> None:
        self._listener = listener

    async def start(self) -> None:
        # Built here, not in __init__: aiokafka binds a client to the loop running when built.
        self._consumer = aiokafka.AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap, **self._options
        )
        joining = self.group_id is not None and self._pending_topics is not None
        if self._pending_topics is not None and not joining:
            self.subscribe(self._pending_topics)
        elif self._pending_partitions is not None:
            self.assign(self._pending_partitions)
        # Connecting is bounded by the connect timeout; joining a group is not connecting (a
        # join waits for the group's other members), so a group subscription is made after
        # the connection and the join gets a bound of its own.
        await start_client(self._consumer.start, self._consumer.stop, "the consumer", self)
        if joining and self._pending_topics is not None:
            self._joined = asyncio.Event()
            self.subscribe(self._pending_topics)
            await self._join()

    async def _join(self) -> None:
        assert self._joined is not None
        try:
            async with asyncio.timeout(self.group_join_timeout_s):
                await self._joined.wait()
        except BaseException as exc:  # timed out, or cancelled: close what was started
            with contextlib.suppress(Exception):
                await self._consumer.stop()
            if not isinstance(exc, TimeoutError):
                raise
            raise BrokerError(
                f"starting the consumer: connected to {self.bootstrap!r}, but joining consumer "
                f"group {self.group_id!r} did not finish within {self.group_join_timeout_s:g} s "
                "(group_join_timeout_s; by default the session plus the rebalance timeout plus "
                "connect_timeout_s): the group may be rebalancing with members that do not "
                "answer, or the group coordinator is unavailable"
            ) from exc

    async def stop(self) -> None:
        try:
            await guarded(self._consumer.stop(), "stopping the consumer", bootstrap=self.bootstrap)
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise  # the caller is being cancelled
            # aiokafka 0.14, broker gone: stop() cancels a fetch that sits in its retry
            # back-off and re-raises that fetch's CancelledError, before closing connections.
            # It is not a cancellation of the caller: finish closing instead.
            await self._consumer._client.close()

    def subscribe(self, topics: Iterable[str]) -> None:
        """Replace the subscription (aiokafka rebalances in the background)."""
        if self._consumer is None:
            self._pending_topics, self._pending_partitions = list(topics), None
            return
        try:
            self._consumer.subscribe(topics=list(topics), listener=self._rebalance_listener)
        except kafka_errors.KafkaError as exc:
            raise BrokerError(f"subscribing to {list(topics)!r} failed: {exc}") from exc

    def assign(self, partitions: Iterable[tuple[str, int]]) -> None:
        """Replace the assignment with these (topic, partition) pairs."""
        if self._consumer is None:
            self._pending_topics, self._pending_partitions = None, list(partitions)
            return
        pairs = [TopicPartition(topic, partition) for topic, partition in partitions]
        try:
            if self._consumer.subscription():
                self._consumer.unsubscribe()
            self._consumer.assign(pairs)
        except kafka_errors.KafkaError as exc:
            raise BrokerError(f"assigning {pairs!r} failed: {exc}") from exc
        if self._listener is not None:
            self._listener.assign([(tp.topic, tp.partition) for tp in pairs])

    async def partitions_revoked(self, partitions: Collection[Partition]) -> None:
        """Before the group takes ``partitions``: let the message in hand finish, then commit
        what was processed on them while they are still held."""
        if not partitions:
            return
        log.info("group %r: partitions revoked: %s", self.group_id, listed(partitions))
        if self._listener is None:
            return
        await self._listener.settle(partitions, self._settle_timeout_s)
        offsets = self._listener.revoke(partitions)
        if not offsets:
            return
        try:
            await self.commit(offsets)
        except DQError as exc:
            log.warning(
                "group %r: committing %s before the partitions went failed; their messages "
                "since the last commit will be delivered again: %s",
                self.group_id,
                listed(offsets),
                exc,
            )

    def partitions_assigned(self, partitions: Collection[Partition]) -> None:
        log.info("group %r: partitions assigned: %s", self.group_id, listed(partitions))
        if self._listener is not None:
            self._listener.assign(partitions)
        if self._joined is not None:
            self._joined.set()

    def has_topics(self) -> bool:
        if self._consumer is None:
            return bool(self._pending_topics or self._pending_partitions)
        return bool(self._consumer.subscription()) or bool(self._consumer.assignment())

    async def fetch(self, timeout_ms: int, max_records: int | None = None) -> list[FetchedRecord]:
        """Records that arrived within ``timeout_ms``, in partition order, possibly none."""
        batches = await guarded(
            self._consumer.getmany(timeout_ms=timeout_ms, max_records=max_records),
            "fetching messages",
            bootstrap=self.bootstrap,
        )
        records: list[FetchedRecord] = []
        for batch in batches.values():
            records.extend(_record(message) for message in batch)
        return records

    async def commit(self, offsets: Mapping[tuple[str, int], int] | None = None) -> None:
        """Commit the next offsets to read (all consumed positions when ``None``), only for
        partitions held now: a commit for a partition the group gave to another member would
        overwrite that member's progress."""
        if self.group_id is None:
            return
        arg = None
        if offsets is not None:
            held = self._consumer.assignment()
            arg = {}
            for (t, p), offset in offsets.items():
                tp = TopicPartition(t, p)
                if tp in held:
                    arg[tp] = offset
                else:
                    log.debug("not committing %s[%d] at %d: not held", t, p, offset)
            if not arg:
                return
        try:
            await guarded(
                self._consumer.commit(arg),
                "committing offsets",
                bootstrap=self.bootstrap,
                timeout_s=self.commit_timeout_s,
            )
        except BrokerError as exc:
            cause = exc.__cause__
            if isinstance(cause, _REBALANCED):
                raise CommitFailedError(
                    f"committing offsets {listed(offsets or {})} of group {self.group_id!r}: "
                    f"the group rebalanced first ({type(cause).__name__}: {cause}); these "
                    "messages will be delivered again"
                ) from cause
            raise
        log.debug("group %r: committed %s", self.group_id, listed(offsets or {}))

    async def seek(self, offsets: Mapping[tuple[str, int], int]) -> None:
        """The next fetch of each partition starts at its offset (they must be assigned)."""
        for (topic, partition), offset in offsets.items():
            try:
                self._consumer.seek(TopicPartition(topic, partition), offset)
            except (AssertionError, kafka_errors.KafkaError) as exc:  # asserts assignment
                raise BrokerError(
                    f"cannot seek to offset {offset}: partition {partition} of topic "
                    f"{topic!r} is not assigned to this consumer",
                    topic=topic,
                    partition=partition,
                ) from exc

    async def seek_to_beginning(self, pairs: Iterable[tuple[str, int]] = ()) -> None:
        """Start these partitions (all assigned ones when empty) at their first offset."""
        tps = [TopicPartition(t, p) for t, p in pairs]
        await guarded(
            self._consumer.seek_to_beginning(*tps), "seeking to beginning", bootstrap=self.bootstrap
        )

    async def position(self, topic: str, partition: int) -> int:
        """The offset of the next record this client will fetch for an assigned partition."""
        value = await guarded(
            self._consumer.position(TopicPartition(topic, partition)),
            f"reading the position in partition {partition} of topic {topic!r}",
            bootstrap=self.bootstrap,
            timeout_s=self.connect_timeout_s,
        )
        return int(value)

    async def high_watermarks(
        self, pairs: Iterable[tuple[str, int]], *, max_age_s: float
    ) -> dict[tuple[str, int], int]:
        """High-water marks from Fetch responses: this client's own when at most
        ``max_age_s`` old, else read by a short-lived probe consumer."""
        from .offsets import probe_high_watermarks

        marks: dict[tuple[str, int], int] = {}
        stale = []
        now_ms = time.time() * 1000
        for topic, partition in pairs:
            tp = TopicPartition(topic, partition)
            assigned = self._consumer is not None and tp in self._consumer.assignment()
            mark = self._consumer.highwater(tp) if assigned else None
            seen = self._consumer.last_poll_timestamp(tp) if mark is not None else None
            if mark is not None and seen is not None and now_ms - seen <= max_age_s * 1000:
                marks[(topic, partition)] = int(mark)
            else:
                stale.append((topic, partition))
        marks.update(
            await probe_high_watermarks(
                self.bootstrap, stale, self._options, timeout_s=self.connect_timeout_s
            )
        )
        return marks

    async def offsets_for_time(
        self, pairs: Iterable[tuple[str, int]], timestamp_ms: int
    ) -> dict[tuple[str, int], int | None]:
        """The first offset at or after ``timestamp_ms`` per partition; None past the end."""
        wanted = {TopicPartition(t, p): timestamp_ms for t, p in pairs}
        if not wanted:
            return {}
        found = await guarded(
            self._consumer.offsets_for_times(wanted),
            "finding offsets by time",
            bootstrap=self.bootstrap,
            timeout_s=self.connect_timeout_s,
        )
        # An answer stamped before the time asked for is no answer: tansu 0.6 gives offset 0
        # with timestamp -1 for a time after its last message, where Kafka gives none.
        return {
            (tp.topic, tp.partition): (
                None if hit is None or hit.timestamp < timestamp_ms else int(hit.offset)
            )
            for tp, hit in found.items()
        }

    def assignment(self) -> list[tuple[str, int]]:
        if self._consumer is None:
            return sorted(self._pending_partitions or ())
        return sorted((tp.topic, tp.partition) for tp in self._consumer.assignment())

    def highwater(self, topic: str, partition: int) -> int | None:
        """The last fetched high-water mark (correct on tansu, unlike ``end_offsets``)."""
        value = self._consumer.highwater(TopicPartition(topic, partition))
        return None if value is None else int(value)

    async def seek_to_recent(self, partitions: Iterable[tuple[str, int]], count: int) -> None:
        """Read each of these assigned partitions from ``count`` messages before its end.

        The end is the broker's ListOffsets answer: exact on Kafka; on tansu it is the last
        batch's base offset + 1 (too low), so there more than ``count`` messages come, never
        fewer. Never before the partition's first offset.
        """
        pairs = [TopicPartition(topic, partition) for topic, partition in partitions]
        if not pairs:
            return
        ends = await guarded(
            self._consumer.end_offsets(pairs), "reading end offsets", bootstrap=self.bootstrap
        )
        starts = await guarded(
            self._consumer.beginning_offsets(pairs),
            "reading beginning offsets",
            bootstrap=self.bootstrap,
        )
        for pair in pairs:
            self._consumer.seek(pair, max(int(starts[pair]), int(ends[pair]) - count))


class _Rebalances(aiokafka.ConsumerRebalanceListener):  # type: ignore[misc]
    """aiokafka's listener, handing over to the client (aiokafka awaits both callbacks)."""

    def __init__(self, client: AiokafkaConsumerClient) -> None:
        self._client = client

    async def on_partitions_revoked(self, revoked: Collection[Any]) -> None:
        await self._client.partitions_revoked([(tp.topic, tp.partition) for tp in revoked])

    async def on_partitions_assigned(self, assigned: Collection[Any]) -> None:
        self._client.partitions_assigned([(tp.topic, tp.partition) for tp in assigned])


def _record(message: Any) -> FetchedRecord:
    key, value = message.key, message.value
    return FetchedRecord(
        message.topic,
        message.partition,
        message.offset,
        message.timestamp,
        None if key is None else bytes(key),
        b"" if value is None else value,
        _header_pairs(message.headers),
    )


def _header_pairs(raw: Any) -> tuple[tuple[str, bytes], ...]:
    """aiokafka's headers as a tuple of (str, bytes) pairs. aiokafka gives such pairs already,
    so the pairs are checked, not rebuilt: rebuilding was half the cost of a record."""
    if not raw:
        return ()
    pairs = tuple(raw)
    for pair in pairs:
        if type(pair) is not tuple or type(pair[0]) is not str or type(pair[1]) is not bytes:
            return tuple((str(k), bytes(v)) for k, v in pairs)
    return pairs
