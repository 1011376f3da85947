"""The aiokafka transport: the only module, with its admin twin, that imports aiokafka.

aiokafka ships no type information, so everything above talks to the small typed wrappers
here; aiokafka errors become dq-sdk errors with the address or topic they concern. The
aiokafka objects are built when a client starts, not before: aiokafka binds a client to the
event loop running when it is built, and dq-sdk endpoints may be created outside async code.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping, Sequence
from typing import Any, Protocol, TypeVar

import aiokafka
import aiokafka.errors as kafka_errors
from aiokafka.partitioner import DefaultPartitioner
from aiokafka.record.default_records import DefaultRecordBatchBuilder
from aiokafka.structs import RecordMetadata as AIOKafkaRecordMetadata
from aiokafka.structs import TopicPartition

from .._exceptions import (
    BrokerError,
    BrokerUnavailableError,
    CommitFailedError,
    DQError,
    UnsupportedByBrokerError,
)
from ._base import (
    Headers,
    Partition,
    RebalanceListener,
    Record,
    RecordMetadata,
    listed,
    split_options,
    uses_sasl,
    when_all,
)

__all__ = [
    "KafkaConsumerClient",
    "KafkaProducerClient",
    "estimate_wire_size",
    "group_join_timeout",
    "guarded",
    "start_client",
]

_T = TypeVar("_T")
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


async def guarded(
    action: Awaitable[_T],
    what: str,
    *,
    bootstrap: str,
    timeout_s: float | None = None,
    sasl: bool = False,
) -> _T:
    """Await an aiokafka call, turning its errors and overlong waits into dq-sdk errors."""
    try:
        if timeout_s is None:
            # Every send and delivery comes here without a deadline: skip asyncio.timeout,
            # whose set-up cost more per message than aiokafka's own bookkeeping.
            return await action
        async with asyncio.timeout(timeout_s):
            return await action
    except TimeoutError as exc:
        raise BrokerUnavailableError(
            f"{what}: no Kafka broker answered at {bootstrap!r} within {timeout_s:g} s"
        ) from exc
    except kafka_errors.KafkaConnectionError as exc:
        raise BrokerUnavailableError(
            f"{what}: cannot connect to a Kafka broker at {bootstrap!r} ({exc})"
        ) from exc
    except kafka_errors.IncompatibleBrokerVersion as exc:
        raise UnsupportedByBrokerError(
            f"{what}: the broker at {bootstrap!r} does not support this request ({exc})"
        ) from exc
    except kafka_errors.KafkaError as exc:
        raise BrokerError(f"{what} failed against {bootstrap!r}: {exc}") from exc
    except (KeyError, ValueError) as exc:
        if not sasl:
            raise
        # aiokafka's SCRAM client fails this way when a broker refuses the login with an
        # RFC 5802 error ("e=unknown-user", as tansu does) rather than a Kafka error code.
        raise BrokerError(
            f"{what}: the broker at {bootstrap!r} refused the SASL login "
            f"({type(exc).__name__}: {exc}); check sasl_mechanism and the credentials"
        ) from exc


def estimate_wire_size(value: bytes, key: bytes | None, headers: Headers | None) -> int:
    """The size aiokafka compares with ``max_request_size`` for one message.

    Shared by both transports (it is over librdkafka's own estimate), so a message is refused
    alike whichever transport sends it.
    """
    return int(DefaultRecordBatchBuilder.estimate_size_in_bytes(key, value, list(headers or ())))


class _Starting(Protocol):
    bootstrap: str
    connect_timeout_s: float
    _sasl: bool


async def start_client(
    start: Callable[[], Awaitable[object]],
    close: Callable[[], Awaitable[object]],
    what: str,
    client: _Starting,
) -> None:
    """Start an aiokafka client within the connect timeout; close it again if that fails
    (aiokafka leaves half-open connections behind when start fails)."""
    try:
        await guarded(
            start(),
            f"starting {what}",
            bootstrap=client.bootstrap,
            timeout_s=client.connect_timeout_s,
            sasl=client._sasl,
        )
    except DQError:
        with contextlib.suppress(Exception):
            await close()
        raise


#: dq-sdk's default ``max_batch_size`` (aiokafka's is 16 KiB): librdkafka's default
#: ``batch.size``, so both transports batch alike, and under Kafka's default
#: ``message.max.bytes`` (1,048,588). aiokafka has one request in flight per broker with one
#: batch per partition in it, so 16 KiB batches hold small messages to a round trip per
#: 16 KiB (27 pointing rows): raw aiokafka's own send() loop managed 1.6x fewer rows per
#: second, and 4,000 concurrent sends 22x fewer (docs/performance.md).
DEFAULT_MAX_BATCH_SIZE = 1_000_000
#: aiokafka's ``max_request_size``; the confluent transport uses it too, so that both refuse
#: the same messages.
DEFAULT_MAX_REQUEST_SIZE = 1_048_576


def producer_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """aiokafka producer options with dq-sdk's defaults where they differ from aiokafka's:
    ``max_batch_size`` is :data:`DEFAULT_MAX_BATCH_SIZE`, but never over
    ``max_request_size`` (a batch must fit in a request)."""
    merged = dict(options)
    limit = int(merged.get("max_request_size", DEFAULT_MAX_REQUEST_SIZE))
    merged.setdefault("max_batch_size", min(DEFAULT_MAX_BATCH_SIZE, limit))
    return merged


class KafkaProducerClient:
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


class KafkaConsumerClient:
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

    async def fetch(self, timeout_ms: int, max_records: int | None = None) -> list[Record]:
        """Records that arrived within ``timeout_ms``, in partition order, possibly none."""
        batches = await guarded(
            self._consumer.getmany(timeout_ms=timeout_ms, max_records=max_records),
            "fetching messages",
            bootstrap=self.bootstrap,
        )
        records: list[Record] = []
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
        from ._aiokafka_offsets import probe_high_watermarks

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

    def __init__(self, client: KafkaConsumerClient) -> None:
        self._client = client

    async def on_partitions_revoked(self, revoked: Collection[Any]) -> None:
        await self._client.partitions_revoked([(tp.topic, tp.partition) for tp in revoked])

    async def on_partitions_assigned(self, assigned: Collection[Any]) -> None:
        self._client.partitions_assigned([(tp.topic, tp.partition) for tp in assigned])


def _record(message: Any) -> Record:
    key, value = message.key, message.value
    return Record(
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
