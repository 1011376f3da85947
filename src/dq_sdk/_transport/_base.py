"""What every transport shares: the shapes of records and results, the client protocols the
producers and consumers are written against, and option handling. No Kafka library here
(message sizes, which need the record format's arithmetic, are in :mod:`._sizes`)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, TypeVar

__all__ = [
    "DEFAULT_CONNECT_TIMEOUT_S",
    "AdminClient",
    "ConsumerClient",
    "GroupInfo",
    "GroupMember",
    "FetchedRecord",
    "Headers",
    "Partition",
    "ProducerClient",
    "RebalanceListener",
    "RecordMetadata",
    "TopicInfo",
    "TransportName",
    "listed",
    "split_options",
    "uses_sasl",
    "when_all",
]

_T = TypeVar("_T")
_R = TypeVar("_R")

#: Which Kafka client library moves the bytes: aiokafka (default, pure asyncio) or
#: ``"confluent"`` (librdkafka through confluent-kafka; the ``confluent`` extra).
TransportName = Literal["aiokafka", "confluent"]

#: Bound on how long starting a client may take before the bootstrap address is reported dead.
DEFAULT_CONNECT_TIMEOUT_S = 15.0

Headers = Sequence[tuple[str, bytes]]
#: A (topic, partition) pair.
Partition = tuple[str, int]


class RecordMetadata(Protocol):
    """What a successful send returns: where the message went. Either transport's is a named
    tuple with these fields (aiokafka's own ``RecordMetadata``, or the confluent transport's
    copy of it)."""

    @property
    def topic(self) -> str: ...
    @property
    def partition(self) -> int: ...
    @property
    def offset(self) -> int: ...
    @property
    def timestamp(self) -> int: ...


@dataclass(frozen=True, slots=True)
class FetchedRecord:
    """One message as fetched from Kafka, before decoding (not to be confused with
    :class:`dq_sdk._models._base.Record`, the base of the generated pydantic models)."""

    topic: str
    partition: int
    offset: int
    timestamp: int
    key: bytes | None
    value: bytes
    headers: tuple[tuple[str, bytes], ...]


@dataclass(frozen=True, slots=True)
class TopicInfo:
    """A topic as the cluster describes it.

    ``config`` is the topic's configuration as the broker reports it (DescribeConfigs):
    Apache Kafka lists every effective setting, defaults included; some brokers list only
    those set on the topic. Sensitive values the broker withholds are left out.
    """

    name: str
    partitions: int
    internal: bool
    config: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class GroupMember:
    """One member of a consumer group and the partitions assigned to it."""

    member_id: str
    client_id: str
    host: str
    partitions: tuple[tuple[str, int], ...]


@dataclass(frozen=True, slots=True)
class GroupInfo:
    """A consumer group as its coordinator describes it.

    ``state`` is Kafka's: ``"Stable"``, ``"PreparingRebalance"``, ``"CompletingRebalance"``,
    ``"Empty"`` (no members, offsets kept) or ``"Dead"`` (unknown to the broker).
    """

    group_id: str
    state: str
    protocol_type: str
    protocol: str
    members: tuple[GroupMember, ...]


def listed(partitions: Iterable[Partition] | Mapping[Partition, int]) -> str:
    """``topic[0, 2], other[1]``, or with offsets ``topic[0]@12``: for log lines and errors."""
    if isinstance(partitions, Mapping):
        return ", ".join(f"{t}[{p}]@{o}" for (t, p), o in sorted(partitions.items())) or "none"
    by_topic: dict[str, list[int]] = {}
    for topic, partition in sorted(partitions):
        by_topic.setdefault(topic, []).append(partition)
    return ", ".join(f"{t}{sorted(ps)}" for t, ps in by_topic.items()) or "none"


def uses_sasl(kafka_options: Mapping[str, Any]) -> bool:
    return str(kafka_options.get("security_protocol", "")).startswith("SASL")


def split_options(options: Mapping[str, Any]) -> tuple[float, dict[str, Any]]:
    kafka_options = dict(options)
    timeout = float(kafka_options.pop("connect_timeout_s", DEFAULT_CONNECT_TIMEOUT_S))
    return timeout, kafka_options


class ProducerClient(Protocol):
    """What the producers need from a transport's producer."""

    bootstrap: str
    max_request_size: int

    async def start(self) -> None: ...
    async def stop(self) -> None: ...
    async def flush(self) -> None: ...
    def wire_size(self, value: bytes, key: bytes | None, headers: Headers | None) -> int: ...
    async def enqueue(
        self,
        topic: str,
        value: bytes,
        *,
        key: bytes | None = None,
        headers: Headers | None = None,
        partition: int | None = None,
        timestamp_ms: int | None = None,
    ) -> asyncio.Future[RecordMetadata]: ...
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
        """Queue every value, in order, as ``enqueue`` would one by one (same partitions,
        same order within a partition); the future gives each one's metadata in the order of
        ``values`` once all are delivered, or the first failure (await it with ``delivered``).
        Nothing is checked for size here: the caller has done it."""
        ...

    async def delivered(self, future: Awaitable[_T], topic: str) -> _T:
        """The result of an ``enqueue``/``enqueue_many`` future; failures as dq-sdk errors."""
        ...


def when_all(
    futures: Sequence[asyncio.Future[_T]], finish: Callable[[list[_T]], _R]
) -> asyncio.Future[_R]:
    """A future of ``finish(results)`` once every future is done, or of the first failure in
    the order of ``futures``. Every failure is retrieved (no "exception was never retrieved"
    warnings), and no future is waited on by a task of its own."""
    outer: asyncio.Future[_R] = asyncio.get_running_loop().create_future()
    remaining = len(futures)

    def settle() -> None:
        error: BaseException | None = None
        for future in futures:
            failure = asyncio.CancelledError() if future.cancelled() else future.exception()
            error = error or failure
        if outer.done():
            return
        if error is not None:
            outer.set_exception(error)
            return
        try:
            outer.set_result(finish([future.result() for future in futures]))
        except Exception as exc:  # a bug in finish must not be lost in a callback
            outer.set_exception(exc)

    def one_done(_: object) -> None:
        nonlocal remaining
        remaining -= 1
        if remaining == 0:
            settle()

    if not futures:
        settle()
    for future in futures:
        future.add_done_callback(one_done)
    return outer


class RebalanceListener(Protocol):
    """What a consumer client tells its owner when the group takes partitions away or gives
    some. The client commits what ``revoke`` returns before the partitions go, and never
    commits for a partition it does not hold."""

    async def settle(self, partitions: Collection[Partition], timeout_s: float) -> None:
        """Partitions are about to be revoked: wait up to ``timeout_s`` for the application to
        finish the message in hand if it is from one of them. Only for clients whose
        rebalances run in the background (aiokafka); librdkafka's run between messages."""
        ...

    def revoke(self, partitions: Collection[Partition]) -> dict[Partition, int]:
        """These partitions go: forget their fetched records; return (and forget) the
        processed offsets to commit for them now."""
        ...

    def assign(self, partitions: Collection[Partition]) -> None:
        """These partitions are now held."""
        ...


class ConsumerClient(Protocol):
    """What the consumers need from a transport's consumer."""

    bootstrap: str
    group_id: str | None

    def listen(self, listener: RebalanceListener) -> None:
        """Tell ``listener`` about revocations and assignments (call before ``start``)."""
        ...

    async def start(self) -> None: ...
    async def stop(self) -> None: ...
    def subscribe(self, topics: Iterable[str]) -> None: ...
    def assign(self, partitions: Iterable[tuple[str, int]]) -> None: ...
    def has_topics(self) -> bool: ...
    async def fetch(
        self, timeout_ms: int, max_records: int | None = None
    ) -> list[FetchedRecord]: ...
    async def commit(self, offsets: Mapping[tuple[str, int], int] | None = None) -> None: ...
    def assignment(self) -> list[tuple[str, int]]: ...
    def highwater(self, topic: str, partition: int) -> int | None:
        """The partition's high-water mark as last fetched (no request), else ``None``."""
        ...

    # Positions and offsets (the seek/lag API of the consumers).
    async def seek(self, offsets: Mapping[tuple[str, int], int]) -> None: ...
    async def seek_to_beginning(self, pairs: Iterable[tuple[str, int]] = ()) -> None: ...
    async def position(self, topic: str, partition: int) -> int: ...
    async def high_watermarks(
        self, pairs: Iterable[tuple[str, int]], *, max_age_s: float
    ) -> dict[tuple[str, int], int]:
        """High-water marks from Fetch responses (never ListOffsets "latest": see
        docs/cli.md); the client's own when at most ``max_age_s`` old."""
        ...

    async def offsets_for_time(
        self, pairs: Iterable[tuple[str, int]], timestamp_ms: int
    ) -> dict[tuple[str, int], int | None]: ...


class AdminClient(Protocol):
    """What :class:`dq_sdk.Admin` needs from a transport's admin client."""

    bootstrap: str

    async def start(self) -> None: ...
    async def stop(self) -> None: ...
    async def list_topics(self) -> list[str]: ...
    async def describe_topics(self, names: Sequence[str]) -> list[TopicInfo]: ...
    async def create_topics(
        self, topics: Mapping[str, int], replication_factor: int, config: Mapping[str, str]
    ) -> None: ...
    async def create_partitions(self, topics: Mapping[str, int]) -> None: ...
    async def delete_topics(self, names: Sequence[str]) -> None: ...
    async def list_groups(self) -> list[str]: ...
    async def describe_groups(self, group_ids: Sequence[str]) -> list[GroupInfo]: ...
    async def group_offsets(self, group_id: str) -> dict[tuple[str, int], int]: ...
