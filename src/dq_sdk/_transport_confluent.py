"""The confluent-kafka (librdkafka) transport, chosen with ``transport="confluent"``.

librdkafka batches, compresses and talks to the brokers in its own C threads, so Python does
little per message: this is why the transport is several times faster than aiokafka for small
messages. Its Python API blocks, and this module is the bridge to asyncio:

- ``produce()`` only queues, so it runs on the event loop. One poll thread serves librdkafka's
  delivery reports and hands them to the loop in batches: one ``call_soon_threadsafe`` per
  poll, not per message, because waking the loop costs more than resolving a future.
- The consumer first takes what librdkafka has already fetched, without blocking; only when
  nothing is there does it wait, in a single worker thread (the "lane"). Every call that may
  block runs in that lane, so calls on the consumer never overlap.

``confluent_kafka.aio`` (2.16) is not used: its ``AIOProducer`` cannot send headers, and every
dq-sdk message carries some. aiokafka-style options (``linger_ms``, ``max_request_size``,
``group_id``, SSL/SASL names...) are mapped to librdkafka's; ``librdkafka_config={...}``
passes anything else through and wins over the mapped values.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, NamedTuple, TypeVar

try:
    import confluent_kafka
    from confluent_kafka import KafkaError as LibKafkaError
    from confluent_kafka import KafkaException, TopicPartition
except ImportError as exc:  # pragma: no cover - depends on the installed extras
    from ._exceptions import MissingDependencyError

    raise MissingDependencyError(
        "confluent-kafka", "confluent", 'the transport="confluent" option'
    ) from exc

from ._exceptions import BrokerUnavailableError, DQError, KafkaError
from ._transport import Headers, Record, RecordMetadata, estimate_wire_size
from ._transport import _split_options as split_options

__all__ = [
    "ConfluentConsumerClient",
    "ConfluentProducerClient",
    "ConfluentRecordMetadata",
    "consumer_config",
    "producer_config",
]

log = logging.getLogger("dq_sdk.transport.confluent")
_T = TypeVar("_T")

# aiokafka option name -> librdkafka property, for both clients.
_COMMON = {
    "client_id": "client.id",
    "metadata_max_age_ms": "metadata.max.age.ms",
    "retry_backoff_ms": "retry.backoff.ms",
    "connections_max_idle_ms": "connections.max.idle.ms",
    "security_protocol": "security.protocol",
    "sasl_mechanism": "sasl.mechanism",
    "sasl_plain_username": "sasl.username",
    "sasl_plain_password": "sasl.password",
    "sasl_kerberos_service_name": "sasl.kerberos.service.name",
}
_PRODUCER = {
    "acks": "acks",
    "compression_type": "compression.type",
    "linger_ms": "linger.ms",
    "max_batch_size": "batch.size",
    "max_request_size": "message.max.bytes",
    "request_timeout_ms": "request.timeout.ms",
    "enable_idempotence": "enable.idempotence",
}
_CONSUMER = {
    "group_id": "group.id",
    "group_instance_id": "group.instance.id",
    "auto_offset_reset": "auto.offset.reset",
    "enable_auto_commit": "enable.auto.commit",
    "auto_commit_interval_ms": "auto.commit.interval.ms",
    "session_timeout_ms": "session.timeout.ms",
    "heartbeat_interval_ms": "heartbeat.interval.ms",
    "max_poll_interval_ms": "max.poll.interval.ms",
    "fetch_max_wait_ms": "fetch.wait.max.ms",
    "fetch_min_bytes": "fetch.min.bytes",
    "fetch_max_bytes": "fetch.max.bytes",
    "max_partition_fetch_bytes": "max.partition.fetch.bytes",
    "isolation_level": "isolation.level",
    "check_crcs": "check.crcs",
    "client_rack": "client.rack",
    "request_timeout_ms": "socket.timeout.ms",
}
# aiokafka options that take Python objects librdkafka cannot use.
_UNMAPPABLE = {
    "ssl_context": "give librdkafka_config={'ssl.ca.location': ..., 'ssl.certificate.location': "
    "..., 'ssl.key.location': ...} instead of an ssl.SSLContext",
    "sasl_oauth_token_provider": "give librdkafka_config={'oauth_cb': ...} instead",
    "partitioner": "give librdkafka_config={'partitioner': ...} (a librdkafka partitioner name)",
}
_DEFAULT_MAX_REQUEST_SIZE = 1_048_576  # aiokafka's, so both transports refuse the same messages
_RECEIVE_MAX_DEFAULT = 100_000_000  # librdkafka's receive.message.max.bytes default
# How long the poll thread waits for a delivery report; bounds how long stop() waits for it.
_POLL_S = 0.02
_STOP_FLUSH_S = 330.0  # over librdkafka's default message.timeout.ms (300 s): every report comes
_QUEUE_FULL_WAIT_S = 60.0  # how long enqueue waits for room in librdkafka's local queue
_CONSUME_BATCH = 1000  # records taken per consume() call
_MISSING_TOPIC_RETRY_S = 0.5  # group-less subscription: how soon to look again for a topic
# A fetch the broker holds because some partitions are empty delays the others' first
# records by this much: librdkafka's 500 ms made every consumer's first message 0.5 s late.
_FETCH_WAIT_MS = 100


class ConfluentRecordMetadata(NamedTuple):
    """Where a delivered message went; the fields of aiokafka's ``RecordMetadata``."""

    topic: str
    partition: int
    offset: int
    timestamp: int
    timestamp_type: int


def _mapped(options: Mapping[str, Any], table: Mapping[str, str], what: str) -> dict[str, Any]:
    config: dict[str, Any] = {}
    for name, value in options.items():
        if name in _UNMAPPABLE:
            raise TypeError(
                f'{what} option {name!r} has no transport="confluent" form: {_UNMAPPABLE[name]}'
            )
        prop = table.get(name) or _COMMON.get(name)
        if prop is None:
            raise TypeError(
                f'unknown {what} option {name!r} for transport="confluent"; pass librdkafka '
                f"properties as librdkafka_config={{...}}"
            )
        if value is not None:
            config[prop] = value
    return config


def producer_config(bootstrap: str, options: Mapping[str, Any]) -> dict[str, Any]:
    """librdkafka producer properties for aiokafka-style ``options``."""
    options = dict(options)
    extra = dict(options.pop("librdkafka_config", None) or {})
    if options.get("compression_type", "") is None:
        options["compression_type"] = "none"
    config: dict[str, Any] = {
        "bootstrap.servers": bootstrap,
        # aiokafka's defaults, so switching transport changes speed, not behaviour: no wait
        # before sending (librdkafka's default is 5 ms, a 5 ms floor on every awaited send),
        # its request limit, and murmur2 keys (Java's and aiokafka's key -> partition map).
        "linger.ms": 0,
        "message.max.bytes": _DEFAULT_MAX_REQUEST_SIZE,
        "partitioner": "murmur2_random",
        **_mapped(options, _PRODUCER, "producer"),
    }
    config.update(extra)
    return config


def consumer_config(bootstrap: str, options: Mapping[str, Any]) -> dict[str, Any]:
    """librdkafka consumer properties for aiokafka-style ``options``."""
    options = dict(options)
    extra = dict(options.pop("librdkafka_config", None) or {})
    options.pop("max_poll_records", None)  # the client's batch size, not a librdkafka setting
    if options.get("auto_offset_reset") == "none":
        options["auto_offset_reset"] = "error"
    config: dict[str, Any] = {
        "bootstrap.servers": bootstrap,
        "fetch.wait.max.ms": _FETCH_WAIT_MS,
        **_mapped(options, _CONSUMER, "consumer"),
    }
    if "group.id" not in config:
        # librdkafka needs a group id even to assign partitions by hand. Without a group the
        # client assigns every partition itself and never commits or joins, as aiokafka does.
        config["group.id"] = f"dq-sdk-no-group-{uuid.uuid4().hex}"
    fetch_max = int(config.get("fetch.max.bytes", 0))
    if fetch_max + 512 > _RECEIVE_MAX_DEFAULT:
        # librdkafka refuses a fetch limit its own receive buffer cannot hold.
        config["receive.message.max.bytes"] = fetch_max + 512
    config.update(extra)
    return config


def _is_unreachable(error: LibKafkaError) -> bool:
    return error.code() in (
        LibKafkaError._TRANSPORT,
        LibKafkaError._ALL_BROKERS_DOWN,
        LibKafkaError._MSG_TIMED_OUT,
        LibKafkaError._TIMED_OUT,
        LibKafkaError._RESOLVE,
    )


def _dq_error(error: object, what: str, bootstrap: str, **where: Any) -> DQError:
    """A dq-sdk error for a librdkafka error (a ``KafkaError`` or ``KafkaException``)."""
    if isinstance(error, KafkaException) and error.args:
        error = error.args[0]
    if isinstance(error, LibKafkaError) and _is_unreachable(error):
        return BrokerUnavailableError(
            f"{what}: no Kafka broker answered at {bootstrap!r} ({error.str()})", **where
        )
    text = error.str() if isinstance(error, LibKafkaError) else str(error)
    return KafkaError(f"{what} failed against {bootstrap!r}: {text}", **where)


async def _blocking(
    call: Callable[[], _T], what: str, bootstrap: str, executor: ThreadPoolExecutor | None = None
) -> _T:
    """Run a blocking librdkafka call off the event loop, with dq-sdk errors."""
    try:
        return await asyncio.get_running_loop().run_in_executor(executor, call)
    except KafkaException as exc:
        raise _dq_error(exc, what, bootstrap) from exc


async def _check_reachable(
    list_topics: Callable[..., Any], what: str, bootstrap: str, timeout_s: float
) -> None:
    """A metadata request: how librdkafka clients learn that the bootstrap address is alive."""
    try:
        await asyncio.to_thread(list_topics, None, timeout_s)
    except KafkaException as exc:
        raise BrokerUnavailableError(
            f"{what}: no Kafka broker answered at {bootstrap!r} within {timeout_s:g} s "
            f"({exc.args[0].str() if exc.args else exc})"
        ) from exc


class ConfluentProducerClient:
    """A librdkafka producer behind the :class:`~dq_sdk._transport.ProducerClient` protocol."""

    def __init__(self, bootstrap: str, **options: Any) -> None:
        self.bootstrap = bootstrap
        self.connect_timeout_s, kafka_options = split_options(options)
        self.max_request_size = int(
            kafka_options.get("max_request_size") or _DEFAULT_MAX_REQUEST_SIZE
        )
        # Built now so a bad option fails at construction, as with aiokafka.
        self._config = producer_config(bootstrap, kafka_options)
        self._producer: confluent_kafka.Producer | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._reports: deque[tuple[asyncio.Future[RecordMetadata], Any, Any]] = deque()
        self._settle_scheduled = False
        self._stop_polling = threading.Event()
        self._poller: threading.Thread | None = None
        self._partitions: dict[str, frozenset[int]] = {}

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        try:
            producer = confluent_kafka.Producer(self._config)
        except KafkaException as exc:
            raise _dq_error(exc, "starting the producer", self.bootstrap) from exc
        try:
            await _check_reachable(
                producer.list_topics,
                "starting the producer",
                self.bootstrap,
                self.connect_timeout_s,
            )
        except BaseException:
            await asyncio.to_thread(producer.close)
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

    def _report(self, future: asyncio.Future[RecordMetadata], error: Any, message: Any) -> None:
        # Called by librdkafka inside poll()/flush(): only queue, the loop resolves.
        self._reports.append((future, error, message))

    def _settle(self) -> None:
        """Resolve the futures of every queued delivery report (runs on the loop)."""
        self._settle_scheduled = False
        reports = self._reports
        while reports:
            future, error, message = reports.popleft()
            if future.done():
                continue
            if error is None:
                kind, stamp = message.timestamp()
                future.set_result(
                    ConfluentRecordMetadata(
                        message.topic(), message.partition(), message.offset(), stamp, kind
                    )
                )
            else:
                topic = message.topic()
                future.set_exception(
                    _dq_error(
                        error,
                        f"delivering to topic {topic!r}",
                        self.bootstrap,
                        topic=topic,
                        partition=None if message.partition() < 0 else message.partition(),
                    )
                )

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
            await _blocking(
                functools.partial(producer.flush, _STOP_FLUSH_S),
                "stopping the producer",
                self.bootstrap,
            )
        finally:
            self._stop_polling.set()
            if self._poller is not None:
                await asyncio.to_thread(self._poller.join, 5 * _POLL_S + 1.0)
            self._settle()
            await asyncio.to_thread(producer.close)

    async def flush(self) -> None:
        producer = self._require()
        await _blocking(
            functools.partial(producer.flush, _STOP_FLUSH_S),
            "flushing the producer",
            self.bootstrap,
        )
        self._settle()

    def wire_size(self, value: bytes, key: bytes | None, headers: Headers | None) -> int:
        """aiokafka's estimate, over librdkafka's own: both transports refuse alike."""
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
        report = functools.partial(self._report, future)
        header_list = headers if isinstance(headers, list) else list(headers or ())
        deadline = None
        while True:
            try:
                producer.produce(
                    topic,
                    value,
                    key,
                    -1 if partition is None else partition,
                    on_delivery=report,
                    timestamp=timestamp_ms or 0,
                    headers=header_list,
                )
                return future
            except BufferError:
                # librdkafka's local queue is full: wait for deliveries to make room.
                now = time.monotonic()
                deadline = deadline or now + _QUEUE_FULL_WAIT_S
                if now >= deadline:
                    raise KafkaError(
                        f"sending to topic {topic!r}: librdkafka's local queue stayed full for "
                        f"{_QUEUE_FULL_WAIT_S:g} s (is the broker at {self.bootstrap!r} up?)",
                        topic=topic,
                    ) from None
                await asyncio.sleep(0.005)
            except KafkaException as exc:
                raise _dq_error(
                    exc,
                    f"sending to topic {topic!r}",
                    self.bootstrap,
                    topic=topic,
                    partition=partition,
                ) from exc

    async def _check_partition(
        self, producer: confluent_kafka.Producer, topic: str, partition: int
    ) -> None:
        known = self._partitions.get(topic)
        if known is None or partition not in known:  # unknown, or the topic may have grown
            metadata = await _blocking(
                functools.partial(producer.list_topics, topic, self.connect_timeout_s),
                f"reading the partitions of topic {topic!r}",
                self.bootstrap,
            )
            described = metadata.topics.get(topic)
            known = frozenset(described.partitions) if described is not None else frozenset()
            self._partitions[topic] = known
        if partition not in known:
            raise KafkaError(
                f"topic {topic!r} has no partition {partition} (it has {sorted(known)})",
                topic=topic,
                partition=partition,
            )

    async def delivered(self, future: Awaitable[RecordMetadata], topic: str) -> RecordMetadata:
        return await future


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
        self._refresh_at = float("inf")

    async def start(self) -> None:
        try:
            consumer = confluent_kafka.Consumer(self._config)
        except KafkaException as exc:
            raise _dq_error(exc, "starting the consumer", self.bootstrap) from exc
        try:
            await _check_reachable(
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

    async def stop(self) -> None:
        consumer, lane = self._consumer, self._lane
        self._consumer = self._lane = None
        if consumer is None or lane is None:
            return
        try:
            # Waits for a consume still running in the lane; close() must not overlap it.
            await _blocking(consumer.close, "stopping the consumer", self.bootstrap, lane)
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
            raise _dq_error(exc, what, self.bootstrap) from exc

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
        self._dirty = True

    def has_topics(self) -> bool:
        return bool(self._wanted_topics) or bool(self._wanted_pairs)

    def assignment(self) -> list[tuple[str, int]]:
        return sorted(self._assigned)

    async def _apply(self, consumer: confluent_kafka.Consumer) -> None:
        """Tell librdkafka what the application last asked for (in the lane)."""
        self._dirty = False
        pairs, topics = self._wanted_pairs, self._wanted_topics
        if pairs is not None:
            offset = confluent_kafka.OFFSET_INVALID if self.group_id else self._start_offset
            wanted = [TopicPartition(t, p, offset) for t, p in sorted(pairs)]
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
            topics, on_assign=self._on_assign, on_revoke=self._on_revoke, on_lost=self._on_revoke
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

    # Rebalance callbacks run in the lane: rebind the set, never mutate one the loop may read.
    def _on_assign(self, _consumer: Any, partitions: list[TopicPartition]) -> None:
        self._assigned = self._assigned | {(tp.topic, tp.partition) for tp in partitions}

    def _on_revoke(self, _consumer: Any, partitions: list[TopicPartition]) -> None:
        self._assigned = self._assigned - {(tp.topic, tp.partition) for tp in partitions}

    async def fetch(self, timeout_ms: int, max_records: int | None = None) -> list[Record]:
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

    def _records(self, messages: list[Any]) -> list[Record]:
        records = []
        for message in messages:
            error = message.error()
            if error is not None:
                self._on_error(error)
                continue
            topic, partition = message.topic(), message.partition()
            if (topic, partition) not in self._assigned and self._wanted_pairs is not None:
                continue  # fetched before an assign_topics() replaced the assignment
            if self._wanted_topics and topic not in self._wanted_topics:
                continue  # fetched before an update_topics() replaced the subscription
            headers = message.headers()
            kind, stamp = message.timestamp()
            value = message.value()
            records.append(
                Record(
                    topic,
                    partition,
                    message.offset(),
                    stamp if kind != confluent_kafka.TIMESTAMP_NOT_AVAILABLE else -1,
                    message.key(),
                    b"" if value is None else value,
                    tuple((k, b"" if v is None else v) for k, v in headers) if headers else (),
                )
            )
        return records

    def _on_error(self, error: LibKafkaError) -> None:
        if error.fatal():
            raise _dq_error(error, "fetching messages", self.bootstrap)
        if error.code() != LibKafkaError._PARTITION_EOF:
            # Like aiokafka, a consumer outlives brokers restarting and topics not created yet.
            log.warning("fetching from %s: %s", self.bootstrap, error.str())

    async def commit(self, offsets: Mapping[tuple[str, int], int] | None = None) -> None:
        """Commit the next offsets to read (all consumed positions when ``None``)."""
        if self.group_id is None:
            return
        consumer = self._require()
        if offsets is None:
            call: Callable[[], Any] = functools.partial(consumer.commit, asynchronous=False)
        else:
            listed = [TopicPartition(t, p, o) for (t, p), o in offsets.items()]
            call = functools.partial(consumer.commit, offsets=listed, asynchronous=False)
        try:
            async with asyncio.timeout(self.commit_timeout_s):
                await self._in_lane(call, "committing offsets")
        except TimeoutError as exc:
            raise BrokerUnavailableError(
                f"committing offsets: no group coordinator answered at {self.bootstrap!r} "
                f"within {self.commit_timeout_s:g} s"
            ) from exc
        except KafkaError as exc:
            cause = exc.__cause__
            if (
                isinstance(cause, KafkaException)
                and cause.args[0].code() == LibKafkaError._NO_OFFSET
            ):
                return  # nothing consumed since the last commit
            raise
