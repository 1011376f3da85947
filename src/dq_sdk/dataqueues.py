"""The SKA SDP Data Queue Library's API (``DataQueueProducer``, ``DataQueueConsumer``,
``DataQueueAdmin``), as a thin shell over dq-sdk's typed core.

Code written for ``ska_sdp_dataqueues`` runs with only its import line changed. Values are
untyped here: any value its encoding can carry, validated against ``schema=`` on request.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterable, Mapping
from typing import Any, TypeGuard

from ._admin import Admin
from ._base_consumer import BaseConsumer
from ._exceptions import DQError, EncodeError, InvalidArgumentError
from ._headers import HeadersIn, describing_headers
from ._lifecycle import StartedInContext
from ._message import WireMessage
from ._policy import OnError
from ._sender import PayloadSender
from ._settings import (
    DEFAULT_CONNECT_TIMEOUT_S,
    DEFAULT_MAX_REQUEST_SIZE,
    Acks,
    AutoOffsetReset,
    CompressionType,
    SaslMechanism,
    SecurityProtocol,
    TransportName,
    check_topic,
    checked_keywords,
    connection_from,
    consumer_settings_from,
    producer_settings_from,
)
from ._transport import FetchedRecord, RecordMetadata
from ._validation import validate as validate_value
from .codecs import Encoding, decode, encode

__all__ = ["DataQueueAdmin", "DataQueueConsumer", "DataQueueProducer"]


def _encoding(value: Encoding | str | None) -> Encoding | None:
    return None if value is None else Encoding(value)


def _is_model(schema: object) -> TypeGuard[type[WireMessage]]:
    """Whether ``schema=`` is a dq-sdk model class (it then names encoding and schema id)."""
    return (
        isinstance(schema, type)
        and isinstance(getattr(schema, "schema_id", None), str)
        and isinstance(getattr(schema, "encoding", None), Encoding)
    )


class DataQueueProducer(StartedInContext):
    """Sends values to Kafka topics, encoding them with ``encoding``.

    ``topic`` and ``encoding`` are defaults for :meth:`send`. The options are those of
    :class:`dq_sdk.Producer` (docs/options.md), checked here. Use with ``async with``.
    """

    @checked_keywords
    def __init__(
        self,
        server: str | None = None,
        *,
        topic: str | None = None,
        encoding: Encoding | str | None = None,
        transport: TransportName = "aiokafka",
        linger_ms: int = 0,
        max_batch_size: int | None = None,
        max_request_size: int = DEFAULT_MAX_REQUEST_SIZE,
        chunk_size: int | None = None,
        compression_type: CompressionType | None = None,
        acks: Acks | None = None,
        enable_idempotence: bool = False,
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
        self.connection = connection_from(server, locals())
        self.settings = producer_settings_from(locals())
        given = topic if topic is not None else self.connection.bootstrap.topic
        self.topic = None if given is None else check_topic(given)
        self.encoding = _encoding(encoding)
        self._sender = PayloadSender(self.connection, self.settings)
        self._resource = self._sender

    async def send(
        self,
        data: object,
        *,
        topic: str | None = None,
        encoding: Encoding | str | None = None,
        schema: object = None,
        validate: bool = False,
        key: bytes | str | None = None,
        headers: HeadersIn | None = None,
        partition: int | None = None,
        timestamp_ms: int | None = None,
    ) -> RecordMetadata:
        """Encode ``data`` and send it; return its ``RecordMetadata`` once delivered.

        With ``validate=True`` the data is checked against ``schema`` first, and invalid data
        never reaches the topic. A dq-sdk model as ``schema`` also supplies the encoding when
        none is given. With no encoding anywhere, only ``bytes`` can be sent.
        """
        if topic is not None:
            target = check_topic(topic)
        elif self.topic is not None:
            target = self.topic
        else:
            raise InvalidArgumentError("no topic: pass topic= to DataQueueProducer(...) or send()")
        model = schema if _is_model(schema) else None
        chosen = _encoding(encoding) or self.encoding or (model.encoding if model else None)
        try:
            if validate and schema is not None:
                validate_value(data, schema)
            payload = _payload(data, chosen)
        except DQError as exc:
            exc.located(topic=target)
            raise
        return await self._sender.publish(
            target,
            payload,
            key=key,
            headers=describing_headers(chosen, model, headers),
            partition=partition,
            timestamp_ms=timestamp_ms,
        )


def _payload(data: object, encoding: Encoding | None) -> bytes:
    if encoding is not None:
        return encode(data, encoding)
    if isinstance(data, bytes | bytearray | memoryview):
        return bytes(data)
    raise EncodeError(
        f"no encoding given for a {type(data).__name__} value: pass encoding= (one of "
        f"{', '.join(e.value for e in Encoding)}) or send bytes"
    )


class DataQueueConsumer(BaseConsumer[tuple[str, Any]]):
    """Streams ``(topic, message)`` pairs from Kafka topics.

    The message is decoded with ``encoding``, or left as raw ``bytes`` without one. Offsets
    start at the earliest message by default, so messages sent before the consumer started are
    read too. ``update_topics`` and ``assign_topics`` change the topics while iterating.
    ``on_error`` decides what a message that does not decode does: ``"raise"`` (default),
    ``"skip"`` or ``"dead_letter"`` (to ``dead_letter_topic``).
    """

    @checked_keywords
    def __init__(
        self,
        server: str | None = None,
        *,
        topics: str | Iterable[str] | None = None,
        encoding: Encoding | str | None = None,
        group_id: str | None = None,
        auto_offset_reset: AutoOffsetReset = "earliest",
        on_error: OnError = "raise",
        dead_letter_topic: str | None = None,
        transport: TransportName = "aiokafka",
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
        self.encoding = _encoding(encoding)
        super().__init__(
            connection_from(server, locals()),
            consumer_settings_from(locals()),
            topics=topics,
            group_id=group_id,
            on_error=on_error,
            dead_letter_topic=dead_letter_topic,
        )

    def convert(self, record: FetchedRecord) -> tuple[str, Any]:
        """``(topic, value)`` for one record: decoded with ``encoding``, or the raw bytes."""
        if self.encoding is None:
            return record.topic, record.value
        return record.topic, decode(record.value, self.encoding)


class DataQueueAdmin(Admin):
    """Creates, lists, describes and deletes topics (see :class:`dq_sdk.Admin`)."""
