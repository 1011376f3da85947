"""Transports: the only place that imports a Kafka client library.

Producers and consumers are written against the :class:`ProducerClient` /
:class:`ConsumerClient` protocols (:mod:`._base`, with what else both transports share);
``transport="aiokafka"`` (default, :mod:`.aiokafka`) or ``"confluent"`` (librdkafka, the
``confluent`` extra, :mod:`.confluent`) picks the implementation. The two subpackages have the
same modules (``producer``, ``consumer``, ``admin``, ``offsets``, ``_common``) and never import
each other; the confluent one is imported only when asked for.
"""

from __future__ import annotations

from typing import Any

from ._base import (
    DEFAULT_CONNECT_TIMEOUT_S,
    AdminClient,
    ConsumerClient,
    FetchedRecord,
    GroupInfo,
    GroupMember,
    Headers,
    Partition,
    ProducerClient,
    RebalanceListener,
    RecordMetadata,
    TopicInfo,
    TransportName,
)
from ._sizes import estimate_wire_size
from .aiokafka import AiokafkaAdminClient, AiokafkaConsumerClient, AiokafkaProducerClient

__all__ = [
    "DEFAULT_CONNECT_TIMEOUT_S",
    "AdminClient",
    "AiokafkaAdminClient",
    "AiokafkaConsumerClient",
    "AiokafkaProducerClient",
    "ConsumerClient",
    "FetchedRecord",
    "GroupInfo",
    "GroupMember",
    "Headers",
    "Partition",
    "ProducerClient",
    "RebalanceListener",
    "RecordMetadata",
    "TopicInfo",
    "TransportName",
    "admin_client",
    "consumer_client",
    "estimate_wire_size",
    "producer_client",
]


def _unknown(transport: object) -> ValueError:
    return ValueError(f"transport must be 'aiokafka' or 'confluent', not {transport!r}")


def producer_client(bootstrap: str, transport: TransportName, **options: Any) -> ProducerClient:
    """A producer client of the chosen transport."""
    if transport == "aiokafka":
        return AiokafkaProducerClient(bootstrap, **options)
    if transport == "confluent":
        # Imported here: without the ``confluent`` extra it raises MissingDependencyError.
        from .confluent import ConfluentProducerClient

        return ConfluentProducerClient(bootstrap, **options)
    raise _unknown(transport)


def consumer_client(bootstrap: str, transport: TransportName, **options: Any) -> ConsumerClient:
    """A consumer client of the chosen transport."""
    if transport == "aiokafka":
        return AiokafkaConsumerClient(bootstrap, **options)
    if transport == "confluent":
        from .confluent import ConfluentConsumerClient

        return ConfluentConsumerClient(bootstrap, **options)
    raise _unknown(transport)


def admin_client(bootstrap: str, transport: TransportName, **options: Any) -> AdminClient:
    """An admin client of the chosen transport."""
    if transport == "aiokafka":
        return AiokafkaAdminClient(bootstrap, **options)
    if transport == "confluent":
        from .confluent import ConfluentAdminClient

        return ConfluentAdminClient(bootstrap, **options)
    raise _unknown(transport)
