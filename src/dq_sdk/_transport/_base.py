"""What every transport shares: the shapes of records and results, the client protocols the
producers and consumers are written against, and option handling. No Kafka library here."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

__all__ = [
    "DEFAULT_CONNECT_TIMEOUT_S",
    "ConsumerClient",
    "Headers",
    "ProducerClient",
    "Record",
    "RecordMetadata",
    "TopicInfo",
    "TransportName",
    "split_options",
    "uses_sasl",
]

#: Which Kafka client library moves the bytes: aiokafka (default, pure asyncio) or
#: ``"confluent"`` (librdkafka through confluent-kafka; the ``confluent`` extra).
TransportName = Literal["aiokafka", "confluent"]

#: Bound on how long starting a client may take before the bootstrap address is reported dead.
DEFAULT_CONNECT_TIMEOUT_S = 15.0

Headers = Sequence[tuple[str, bytes]]


class RecordMetadata(Protocol):
    """What a successful send returns (aiokafka's ``RecordMetadata``, a named tuple)."""

    @property
    def topic(self) -> str: ...
    @property
    def partition(self) -> int: ...
    @property
    def offset(self) -> int: ...
    @property
    def timestamp(self) -> int: ...


@dataclass(frozen=True, slots=True)
class Record:
    """One message as fetched from Kafka, before decoding."""

    topic: str
    partition: int
    offset: int
    timestamp: int
    key: bytes | None
    value: bytes
    headers: tuple[tuple[str, bytes], ...]


@dataclass(frozen=True, slots=True)
class TopicInfo:
    """A topic as the cluster describes it."""

    name: str
    partitions: int
    internal: bool


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
    async def delivered(self, future: Awaitable[RecordMetadata], topic: str) -> RecordMetadata: ...


class ConsumerClient(Protocol):
    """What the consumers need from a transport's consumer."""

    bootstrap: str
    group_id: str | None

    async def start(self) -> None: ...
    async def stop(self) -> None: ...
    def subscribe(self, topics: Iterable[str]) -> None: ...
    def assign(self, partitions: Iterable[tuple[str, int]]) -> None: ...
    def has_topics(self) -> bool: ...
    async def fetch(self, timeout_ms: int, max_records: int | None = None) -> list[Record]: ...
    async def commit(self, offsets: Mapping[tuple[str, int], int] | None = None) -> None: ...
    def assignment(self) -> list[tuple[str, int]]: ...
