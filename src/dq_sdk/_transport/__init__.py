"""Transports: the only place that imports a Kafka client library.

Producers and consumers are written against the :class:`ProducerClient` /
:class:`ConsumerClient` protocols; ``transport="aiokafka"`` (default) or ``"confluent"``
(librdkafka, the ``confluent`` extra) picks the implementation.
"""

from __future__ import annotations

from typing import Any

from ._aiokafka import KafkaConsumerClient, KafkaProducerClient, estimate_wire_size
from ._aiokafka_admin import KafkaAdminClient
from ._base import (
    DEFAULT_CONNECT_TIMEOUT_S,
    AdminClient,
    ConsumerClient,
    GroupInfo,
    GroupMember,
    Headers,
    Partition,
    ProducerClient,
    RebalanceListener,
    Record,
    RecordMetadata,
    TopicInfo,
    TransportName,
)

__all__ = [
    "DEFAULT_CONNECT_TIMEOUT_S",
    "AdminClient",
    "ConsumerClient",
    "GroupInfo",
    "GroupMember",
    "Headers",
    "KafkaAdminClient",
    "KafkaConsumerClient",
    "KafkaProducerClient",
    "Partition",
    "ProducerClient",
    "RebalanceListener",
    "Record",
    "RecordMetadata",
    "TopicInfo",
    "TransportName",
    "admin_client",
    "consumer_client",
    "estimate_wire_size",
    "producer_client",
]


def producer_client(bootstrap: str, transport: TransportName, **options: Any) -> ProducerClient:
    """A producer client of the chosen transport."""
    if transport == "aiokafka":
        return KafkaProducerClient(bootstrap, **options)
    if transport == "confluent":
        from ._confluent_producer import ConfluentProducerClient

        return ConfluentProducerClient(bootstrap, **options)
    raise ValueError(f"transport must be 'aiokafka' or 'confluent', not {transport!r}")


def consumer_client(bootstrap: str, transport: TransportName, **options: Any) -> ConsumerClient:
    """A consumer client of the chosen transport."""
    if transport == "aiokafka":
        return KafkaConsumerClient(bootstrap, **options)
    if transport == "confluent":
        from ._confluent_producer import ConfluentConsumerClient

        return ConfluentConsumerClient(bootstrap, **options)
    raise ValueError(f"transport must be 'aiokafka' or 'confluent', not {transport!r}")


def admin_client(bootstrap: str, transport: TransportName, **options: Any) -> AdminClient:
    """An admin client of the chosen transport."""
    if transport == "aiokafka":
        return KafkaAdminClient(bootstrap, **options)
    if transport == "confluent":
        # Imported first: without the ``confluent`` extra it raises MissingDependencyError.
        from . import _confluent_producer  # noqa: F401
        from ._confluent_admin import ConfluentAdminClient

        return ConfluentAdminClient(bootstrap, **options)
    raise ValueError(f"transport must be 'aiokafka' or 'confluent', not {transport!r}")
