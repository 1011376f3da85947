"""The confluent-kafka consumer behind dq-sdk's consumer protocol (``transport="confluent"``).

librdkafka fetches in its own threads. The client first takes what is already fetched without
blocking; only when nothing is there does it wait, in a single worker thread (the "lane").
Every call that may block runs in that lane, so calls on the consumer never overlap.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import functools
import logging
import threading
import time
from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import confluent_kafka
from confluent_kafka import KafkaError as LibKafkaError
from confluent_kafka import KafkaException, TopicPartition

from ..._exceptions import BrokerError, BrokerUnavailableError, CommitFailedError, DQError
from .._base import FetchedRecord, Partition, RebalanceListener, listed, split_options
from ._common import blocking, check_reachable, consumer_config, dq_error

__all__ = ["ConfluentConsumerClient"]

_NO_TIMESTAMP = confluent_kafka.TIMESTAMP_NOT_AVAILABLE
log = logging.getLogger("dq_sdk.transport.confluent")
group_log = logging.getLogger("dq_sdk.consumer")
_T = TypeVar("_T")
# librdkafka's codes for a commit that came too late for a rebalance.
_REBALANCED = {
    LibKafkaError.REBALANCE_IN_PROGRESS,
    LibKafkaError.ILLEGAL_GENERATION,
    LibKafkaError.UNKNOWN_MEMBER_ID,
    LibKafkaError._ASSIGNMENT_LOST,
    LibKafkaError._STATE,
}
# How long a rebalance callback in librdkafka's thread waits for the event loop to answer.
_LOOP_ANSWER_S = 30.0

_CONSUME_BATCH = 1000  # records taken per consume() call
_MISSING_TOPIC_RETRY_S = 0.5  # group-less subscription: how soon to look again for a topic


def _wait_then_drain(consumer: confluent_kafka.Consumer, count: int, timeout_s: float) -> list[Any]:
    """The first message within ``timeout_s``, then what else is already there.

    ``consume(n, timeout)`` alone would wait the whole timeout unless ``n`` messages arrive.
    """
    first = consumer.poll(timeout_s)
    if first is None:
        return []
    return [first, *consumer.consume(count - 1, 0)] if count > 1 else [first]


class ConfluentConsumerClient:
    """A librdkafka consumer behind the :class:`~dq_sdk._transport.ConsumerClient` protocol.

    ``subscribe`` and ``assign`` are plain methods that may be called from another task while
    a fetch waits; they record what is wanted, and the next fetch applies it in the lane.
    Without ``group_id`` a subscription is served like aiokafka's: every partition of the
    topics is assigned by this client (new partitions are picked up on metadata refresh), from
    ``auto_offset_reset``, with no group join and no commits.
    """

    def __init__(self, bootstrap: str, **options: Any) -> None:
        self.bootstrap = bootstrap
        self.connect_timeout_s, kafka_options = split_options(options)
        # librdkafka joins in the background, during fetches: start() does not wait for it.
        kafka_options.pop("group_join_timeout_s", None)
        self.group_id: str | None = kafka_options.get("group_id")
        self._batch = int(kafka_options.get("max_poll_records") or _CONSUME_BATCH)
        self._metadata_age_s = int(kafka_options.get("metadata_max_age_ms") or 300_000) / 1000
        # A commit waits for the group coordinator; bound it as aiokafka bounds a request.
        self.commit_timeout_s = int(kafka_options.get("request_timeout_ms") or 40_000) / 1000
        self._config = consumer_config(bootstrap, kafka_options)
        # No group: start where auto_offset_reset says (aiokafka's default is "latest").
        reset = str(self._config.get("auto.offset.reset", "latest"))
        self._start_offset = (
            confluent_kafka.OFFSET_BEGINNING
            if reset in ("earliest", "smallest", "beginning")
            else confluent_kafka.OFFSET_END
        )
        self._consumer: confluent_kafka.Consumer | None = None
        self._lane: ThreadPoolExecutor | None = None
        # Jobs given to the lane and jobs it finished: equal means no call is running there,
        # even when the coroutine that awaited one was cancelled. Each is written by one thread.
        self._lane_given = 0
        self._lane_finished = 0
        self._inflight: asyncio.Future[list[Any]] | None = None
        # What the application asked for, and what librdkafka was last told.
        self._wanted_topics: frozenset[str] = frozenset()
        self._wanted_pairs: frozenset[tuple[str, int]] | None = None
        self._dirty = False
        self._assigned: set[tuple[str, int]] = set()
        # Offsets a manual assignment was last given (by assign or seek), per partition.
        self._assigned_at: dict[tuple[str, int], int] = {}
        # Offsets sought and not yet reached by a message, per partition (see seek).
        self._sought: dict[tuple[str, int], int] = {}
        self._refresh_at = float("inf")
        self._listener: RebalanceListener | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None

    def listen(self, listener: RebalanceListener) -> None:
        self._listener = listener

    async def start(self) -> None:
        try:
            consumer = confluent_kafka.Consumer(self._config)
        except KafkaException as exc:
            raise dq_error(exc, "starting the consumer", self.bootstrap) from exc
        try:
            await check_reachable(
                consumer.list_topics,
                "starting the consumer",
                self.bootstrap,
                self.connect_timeout_s,
            )
        except BaseException:
            await asyncio.to_thread(consumer.close)
            raise
        self._consumer = consumer
        self._lane = ThreadPoolExecutor(1, thread_name_prefix="dq-sdk-confluent-consumer")
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()

    async def stop(self) -> None:
        consumer, lane = self._consumer, self._lane
        self._consumer = self._lane = None
        if consumer is None or lane is None:
            return
        try:
            # Waits for a consume still running in the lane; close() must not overlap it.
            await blocking(consumer.close, "stopping the consumer", self.bootstrap, lane)
        finally:
            lane.shutdown(wait=False)

    def _in_lane(self, call: Callable[[], _T], what: str) -> Awaitable[_T]:
        assert self._lane is not None

        def job() -> _T:
            try:
                return call()
            finally:
                self._lane_finished += 1

        self._lane_given += 1
        future = asyncio.get_running_loop().run_in_executor(self._lane, job)
        return self._guard(future, what)

    async def _guard(self, future: Awaitable[_T], what: str) -> _T:
        try:
            return await future
        except KafkaException as exc:
            raise dq_error(exc, what, self.bootstrap) from exc

    def _require(self) -> confluent_kafka.Consumer:
        if self._consumer is None:
            raise DQError("the consumer is not running: iterate it inside 'async with'")
        return self._consumer

    def subscribe(self, topics: Iterable[str]) -> None:
        """Replace the subscription (applied by the next fetch)."""
        self._wanted_topics, self._wanted_pairs = frozenset(topics), None
        self._dirty = True

    def assign(self, partitions: Iterable[tuple[str, int]]) -> None:
        """Replace the assignment with these (topic, partition) pairs; the next fetch applies it."""
        self._wanted_topics, self._wanted_pairs = frozenset(), frozenset(partitions)
        self._assigned = set(self._wanted_pairs)
        self._assigned_at = {}
        self._sought = {}
        self._dirty = True

    def has_topics(self) -> bool:
        return bool(self._wanted_topics) or bool(self._wanted_pairs)

    def highwater(self, topic: str, partition: int) -> int | None:
        """The high-water mark librdkafka last fetched for the partition (no request)."""
        consumer = self._consumer
        if consumer is None:
            return None
        marks = consumer.get_watermark_offsets(TopicPartition(topic, partition), cached=True)
        if marks is None or marks[1] < 0:  # never fetched: librdkafka's OFFSET_INVALID
            return None
        return int(marks[1])

    def assignment(self) -> list[tuple[str, int]]:
        return sorted(self._assigned)

    async def _applied(self) -> confluent_kafka.Consumer:
        """The consumer, with the latest subscribe/assign request applied."""
        consumer = self._require()
        if self._dirty:
            await self._apply(consumer)
        return consumer

    async def seek(self, offsets: Mapping[tuple[str, int], int]) -> None:
        """The next fetch of each partition starts at its offset (they must be assigned)."""
        if self._dirty and self._wanted_pairs is not None:
            unknown = [pair for pair in offsets if pair not in self._wanted_pairs]
            if not unknown:
                # Not assigned in librdkafka yet: the assignment starts at these offsets, so
                # nothing is fetched from the old ones first.
                self._assigned_at.update(offsets)
                return
        consumer = await self._applied()
        for topic, partition in offsets:
            if (topic, partition) not in self._assigned:
                raise BrokerError(
                    f"cannot seek: partition {partition} of topic {topic!r} is not assigned "
                    "to this consumer",
                    topic=topic,
                    partition=partition,
                )
        if not offsets:
            return
        where = f"seeking to {dict(offsets)!r}"
        for (topic, partition), offset in offsets.items():
            target = TopicPartition(topic, partition, offset)
            # librdkafka's position() says where the application last was until a message
            # from the new offset arrives: remember it until then.
            self._sought[(topic, partition)] = offset
            try:
                # librdkafka's seek discards what was fetched for the old offset.
                await self._in_lane(functools.partial(consumer.seek, target), where)
            except BrokerError:
                if self._wanted_pairs is None:
                    raise
                # Its fetcher has not started yet (seek refuses that state): nothing was
                # fetched, so a new manual assignment with the offset is as good.
                await self._in_lane(
                    functools.partial(self._reassign_at, consumer, {(topic, partition): offset}),
                    where,
                )

    def _reassign_at(
        self, consumer: confluent_kafka.Consumer, offsets: dict[tuple[str, int], int]
    ) -> None:
        pairs = sorted(self._assigned)
        now = consumer.position([TopicPartition(t, p) for t, p in pairs])
        wanted = []
        for tp in now:
            key = (tp.topic, tp.partition)
            if key in offsets:
                at = offsets[key]
            elif tp.offset >= 0:
                at = tp.offset
            else:  # nothing fetched yet: where it was assigned or last sought
                at = self._assigned_at.get(key, self._start_offset)
            self._assigned_at[key] = at
            wanted.append(TopicPartition(tp.topic, tp.partition, at))
        consumer.assign(wanted)

    async def seek_to_beginning(self, pairs: Iterable[tuple[str, int]] = ()) -> None:
        """Start these partitions (all assigned ones when empty) at their first offset."""
        chosen = list(pairs) or self.assignment()
        await self.seek({pair: confluent_kafka.OFFSET_BEGINNING for pair in chosen})

    async def position(self, topic: str, partition: int) -> int:
        """The offset of the next record this client will fetch for an assigned partition."""
        consumer = await self._applied()
        tp = TopicPartition(topic, partition)
        where = f"reading the position in partition {partition} of topic {topic!r}"
        sought = self._sought.get((topic, partition))
        if sought is not None and sought >= 0:
            return sought
        (found,) = await self._in_lane(functools.partial(consumer.position, [tp]), where)
        if found.offset >= 0 and sought is None:
            return int(found.offset)
        at = sought if sought is not None else self._assigned_at.get((topic, partition))
        if at is not None and at >= 0:
            return at
        if at is None:
            # Nothing fetched or sought yet: the committed offset, else the reset policy.
            if self.group_id is not None:
                (committed,) = await self._in_lane(
                    functools.partial(consumer.committed, [tp], self.connect_timeout_s), where
                )
                if committed.offset >= 0:
                    return int(committed.offset)
            at = self._start_offset
        if at == confluent_kafka.OFFSET_BEGINNING:
            low, _high = await self._in_lane(
                functools.partial(
                    consumer.get_watermark_offsets, tp, self.connect_timeout_s, False
                ),
                where,
            )
            return int(low)
        marks = await self.high_watermarks([(topic, partition)], max_age_s=0)
        return marks[(topic, partition)]

    async def high_watermarks(
        self, pairs: Iterable[tuple[str, int]], *, max_age_s: float
    ) -> dict[tuple[str, int], int]:
        """High-water marks from Fetch responses (this client's own when it has them; a
        probe consumer reads the others). ``max_age_s=0`` always asks the probe."""
        from .offsets import cached_high_watermark, probe_high_watermarks

        consumer = self._consumer
        marks: dict[tuple[str, int], int] = {}
        unknown = []
        for topic, partition in pairs:
            mark = -1
            if consumer is not None and max_age_s > 0:
                mark = cached_high_watermark(consumer, topic, partition)
            if mark >= 0:
                marks[(topic, partition)] = mark
            else:
                unknown.append((topic, partition))
        marks.update(
            await probe_high_watermarks(self._config, unknown, timeout_s=self.connect_timeout_s)
        )
        return marks

    async def offsets_for_time(
        self, pairs: Iterable[tuple[str, int]], timestamp_ms: int
    ) -> dict[tuple[str, int], int | None]:
        """The first offset at or after ``timestamp_ms`` per partition; None past the end."""
        consumer = await self._applied()
        wanted = [TopicPartition(t, p, timestamp_ms) for t, p in pairs]
        if not wanted:
            return {}
        found = await self._in_lane(
            functools.partial(consumer.offsets_for_times, wanted, self.connect_timeout_s),
            "finding offsets by time",
        )
        return {(tp.topic, tp.partition): tp.offset if tp.offset >= 0 else None for tp in found}

    async def _apply(self, consumer: confluent_kafka.Consumer) -> None:
        """Tell librdkafka what the application last asked for (in the lane)."""
        self._dirty = False
        pairs, topics = self._wanted_pairs, self._wanted_topics
        if pairs is not None:
            offset = confluent_kafka.OFFSET_INVALID if self.group_id else self._start_offset
            # Offsets sought before the assignment reached librdkafka apply from the start.
            sought = {pair: at for pair, at in self._assigned_at.items() if pair in pairs}
            wanted = [TopicPartition(t, p, sought.get((t, p), offset)) for t, p in sorted(pairs)]
            self._assigned_at = sought
            await self._in_lane(functools.partial(self._reassign, consumer, wanted), "assigning")
            self._refresh_at = float("inf")
        elif self.group_id is not None:
            self._assigned = set()
            await self._in_lane(
                functools.partial(self._resubscribe, consumer, sorted(topics)),
                f"subscribing to {sorted(topics)!r}",
            )
        else:
            self._assigned = set()
            await self._in_lane(functools.partial(self._reassign, consumer, []), "assigning")
            await self._refresh(consumer)

    def _resubscribe(self, consumer: confluent_kafka.Consumer, topics: list[str]) -> None:
        consumer.unassign()  # librdkafka cannot mix a manual assignment with a subscription
        consumer.subscribe(
            topics, on_assign=self._on_assign, on_revoke=self._on_revoke, on_lost=self._on_lost
        )

    @staticmethod
    def _reassign(consumer: confluent_kafka.Consumer, wanted: list[TopicPartition]) -> None:
        with contextlib.suppress(KafkaException):  # nothing was subscribed
            consumer.unsubscribe()
        consumer.assign(wanted)

    async def _refresh(self, consumer: confluent_kafka.Consumer) -> None:
        """Group-less subscription: assign partitions of the topics that appeared since."""
        topics = sorted(self._wanted_topics)
        found: set[tuple[str, int]] = set()
        missing = False
        for topic in topics:
            metadata = await self._in_lane(
                functools.partial(consumer.list_topics, topic, self.connect_timeout_s),
                f"reading the partitions of topic {topic!r}",
            )
            described = metadata.topics.get(topic)
            if described is None or described.error is not None or not described.partitions:
                missing = True  # not created yet: look again soon, as aiokafka does
                continue
            found.update((topic, p) for p in described.partitions)
        new = sorted(found - self._assigned)
        if new:
            wanted = [TopicPartition(t, p, self._start_offset) for t, p in new]
            await self._in_lane(functools.partial(consumer.incremental_assign, wanted), "assigning")
            self._assigned = self._assigned | set(new)
        delay = _MISSING_TOPIC_RETRY_S if missing else self._metadata_age_s
        self._refresh_at = time.monotonic() + delay

    # Rebalance callbacks run where librdkafka serves them: inside poll/consume/close, in the
    # lane or (for the non-blocking consume in fetch) on the loop thread, so always between
    # two messages of the application. Rebind the set, never mutate one the loop may read.
    def _on_assign(self, _consumer: Any, partitions: list[TopicPartition]) -> None:
        pairs = [(tp.topic, tp.partition) for tp in partitions]
        group_log.info("group %r: partitions assigned: %s", self.group_id, listed(pairs))
        self._assigned = self._assigned | set(pairs)
        if self._listener is not None:
            self._on_loop(self._listener.assign, pairs)

    def _on_revoke(self, consumer: Any, partitions: list[TopicPartition]) -> None:
        """Commit what was processed on the partitions that go, while they are still held."""
        pairs = [(tp.topic, tp.partition) for tp in partitions]
        group_log.info("group %r: partitions revoked: %s", self.group_id, listed(pairs))
        try:
            offsets = self._on_loop(self._listener.revoke, pairs) if self._listener else {}
            if offsets:
                listing = [TopicPartition(t, p, o) for (t, p), o in offsets.items()]
                try:
                    consumer.commit(offsets=listing, asynchronous=False)
                    group_log.debug("group %r: committed %s", self.group_id, listed(offsets))
                except KafkaException as exc:
                    group_log.warning(
                        "group %r: committing %s before the partitions went failed; their "
                        "messages since the last commit will be delivered again: %s",
                        self.group_id,
                        listed(offsets),
                        exc,
                    )
        finally:
            self._assigned = self._assigned - set(pairs)

    def _on_lost(self, _consumer: Any, partitions: list[TopicPartition]) -> None:
        """Partitions already taken (session expired): too late to commit for them."""
        pairs = [(tp.topic, tp.partition) for tp in partitions]
        group_log.warning("group %r: partitions lost: %s", self.group_id, listed(pairs))
        self._assigned = self._assigned - set(pairs)
        if self._listener is not None:
            self._on_loop(self._listener.revoke, pairs)

    def _on_loop(self, call: Callable[[Collection[Partition]], _T], pairs: list[Partition]) -> _T:
        """Run ``call(pairs)`` on the event loop's thread (the listener's state lives there)
        and return its result; librdkafka's callback waits for it."""
        if threading.get_ident() == self._loop_thread or self._loop is None:
            return call(pairs)
        answer: concurrent.futures.Future[_T] = concurrent.futures.Future()

        def run() -> None:
            try:
                answer.set_result(call(pairs))
            except BaseException as exc:  # handed to the waiting thread
                answer.set_exception(exc)

        self._loop.call_soon_threadsafe(run)
        return answer.result(timeout=_LOOP_ANSWER_S)

    async def fetch(self, timeout_ms: int, max_records: int | None = None) -> list[FetchedRecord]:
        """Records that arrived within ``timeout_ms``, in partition order, possibly none."""
        consumer = self._require()
        if self._dirty:
            await self._apply(consumer)
        elif self._wanted_topics and self.group_id is None and time.monotonic() >= self._refresh_at:
            await self._refresh(consumer)
        count = max_records or self._batch
        if self._inflight is None:
            if self._lane_finished == self._lane_given:
                # Already fetched by librdkafka's threads: no thread hop, no wait.
                messages = consumer.consume(count, 0)
                if messages:
                    return self._records(messages)
            self._inflight = asyncio.ensure_future(
                self._in_lane(
                    functools.partial(_wait_then_drain, consumer, count, timeout_ms / 1000),
                    "fetching messages",
                )
            )
        inflight = self._inflight
        try:
            # Shielded: if this caller is cancelled, the next fetch still gets these messages.
            messages = await asyncio.shield(inflight)
        finally:
            if inflight.done():
                self._inflight = None
        return self._records(messages)

    def _records(self, messages: list[Any]) -> list[FetchedRecord]:
        records = []
        # A stream's messages mostly carry the same headers: convert a list once and reuse
        # the tuple while the next message's list is equal (which also lets the consumer's
        # header check compare the same objects).
        last_list: list[Any] | None = None
        last_pairs: tuple[tuple[str, bytes], ...] = ()
        wanted_pairs, wanted_topics = self._wanted_pairs, self._wanted_topics
        for message in messages:
            error = message.error()
            if error is not None:
                self._on_error(error)
                continue
            topic, partition = message.topic(), message.partition()
            if wanted_pairs is not None and (topic, partition) not in self._assigned:
                continue  # fetched before an assign_topics() replaced the assignment
            if wanted_topics and topic not in wanted_topics:
                continue  # fetched before an update_topics() replaced the subscription
            headers = message.headers()
            if not headers:
                pairs: tuple[tuple[str, bytes], ...] = ()
            elif headers == last_list:
                pairs = last_pairs
            else:
                pairs = tuple((k, b"" if v is None else v) for k, v in headers)
                last_list, last_pairs = headers, pairs
            kind, stamp = message.timestamp()
            value = message.value()
            records.append(
                FetchedRecord(
                    topic,
                    partition,
                    message.offset(),
                    stamp if kind != _NO_TIMESTAMP else -1,
                    message.key(),
                    b"" if value is None else value,
                    pairs,
                )
            )
        if self._sought:
            for record in records:
                self._sought.pop((record.topic, record.partition), None)
        return records

    def _on_error(self, error: LibKafkaError) -> None:
        if error.fatal():
            raise dq_error(error, "fetching messages", self.bootstrap)
        if error.code() != LibKafkaError._PARTITION_EOF:
            # Like aiokafka, a consumer outlives brokers restarting and topics not created yet.
            log.warning("fetching from %s: %s", self.bootstrap, error.str())

    async def commit(self, offsets: Mapping[tuple[str, int], int] | None = None) -> None:
        """Commit the next offsets to read (all consumed positions when ``None``), only for
        partitions held when the commit runs: Kafka accepts a member's commit for any
        partition, so one for a partition now owned by another member would overwrite that
        member's progress."""
        if self.group_id is None:
            return
        consumer = self._require()
        if offsets is None:
            call: Callable[[], Any] = functools.partial(consumer.commit, asynchronous=False)
        else:
            call = functools.partial(self._commit_held, consumer, dict(offsets))
        try:
            async with asyncio.timeout(self.commit_timeout_s):
                await self._in_lane(call, "committing offsets")
        except TimeoutError as exc:
            raise BrokerUnavailableError(
                f"committing offsets: no group coordinator answered at {self.bootstrap!r} "
                f"within {self.commit_timeout_s:g} s"
            ) from exc
        except BrokerError as exc:
            cause = exc.__cause__
            code = cause.args[0].code() if isinstance(cause, KafkaException) else None
            if code == LibKafkaError._NO_OFFSET:
                return  # nothing consumed since the last commit
            if code in _REBALANCED:
                raise CommitFailedError(
                    f"committing offsets {listed(offsets or {})} of group {self.group_id!r}: "
                    f"the group rebalanced first ({cause}); these messages will be delivered "
                    "again"
                ) from cause
            raise

    def _commit_held(
        self, consumer: confluent_kafka.Consumer, offsets: dict[Partition, int]
    ) -> None:
        """In the lane, where no rebalance callback can run meanwhile: commit for the
        partitions held now."""
        held = self._assigned
        listing = [TopicPartition(t, p, o) for (t, p), o in offsets.items() if (t, p) in held]
        for (t, p), o in offsets.items():
            if (t, p) not in held:
                group_log.debug("not committing %s[%d] at %d: not held", t, p, o)
        if listing:
            consumer.commit(offsets=listing, asynchronous=False)
            group_log.debug("group %r: committed %s", self.group_id, listed(offsets))
