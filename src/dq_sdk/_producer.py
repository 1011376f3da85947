"""The typed producer ``Producer[M]``.

Flow: model -> ``to_wire()`` -> validation -> codec -> :class:`~dq_sdk._sender.PayloadSender`
(size check, chunking) -> transport -> Kafka. The seed's ``DataQueueProducer`` (in
:mod:`dq_sdk.dataqueues`) and consumers' dead letters send through the same
``PayloadSender``, so all share one size check, one header layout and one transport.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterable, Mapping
from typing import Generic, TypeVar

from . import _headers
from ._exceptions import DQError, InvalidArgumentError
from ._headers import describing_headers
from ._lifecycle import StartedInContext
from ._message import WireMessage, check_model
from ._models._structured import StructuredRow
from ._sender import PayloadSender
from ._settings import (
    DEFAULT_CONNECT_TIMEOUT_S,
    DEFAULT_MAX_REQUEST_SIZE,
    Acks,
    CompressionType,
    SaslMechanism,
    SecurityProtocol,
    check_topic,
    checked_keywords,
    connection_from,
    producer_settings_from,
)
from ._transport import RecordMetadata, TransportName
from ._validation import validate as validate_value
from ._validation import validation_plan
from .codecs import Encoding, encode
from .codecs._msgpack_numpy import pack_rows
from .telemetry._hooks import producer_hooks

__all__ = ["Producer"]

M = TypeVar("M", bound=WireMessage)


class Producer(StartedInContext, Generic[M]):
    """Sends messages of one model ``M`` to Kafka, validated and encoded by the model.

    ``Producer(PointingNumpyArray, "host:9092", topic="pointing_offset")`` is a
    ``Producer[PointingNumpyArray]``; sending another model is a type error. Use it with
    ``async with``: entering connects, leaving delivers every pending message and closes.

    ``server`` is ``host:port[,host:port...]`` or ``kafka://host:port[/topic]`` (the topic
    then becomes the default ``topic``); without it, ``DQ_SDK_BOOTSTRAP`` or SKA's
    ``SDP_KAFKA_HOST`` from the environment. Every option is checked here, before any
    connection (docs/options.md lists them with their defaults). ``max_batch_size`` defaults to
    1,000,000 bytes (aiokafka's own default is 16 KiB; see ``docs/performance.md``).
    ``chunk_size=N`` sends payloads over N bytes as chunks that consumers reassemble.
    ``client_options`` go to the Kafka client as they are, for what dq-sdk does not model.
    """

    @checked_keywords
    def __init__(
        self,
        model: type[M],
        server: str | None = None,
        *,
        topic: str | None = None,
        validate: bool = True,
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
        check_model(model, "Producer")
        self.connection = connection_from(server, locals())
        self.settings = producer_settings_from(locals())
        self.model = model
        given = topic if topic is not None else self.connection.bootstrap.topic
        self.topic = None if given is None else check_topic(given)
        if type(validate) is not bool:
            raise InvalidArgumentError(f"validate={validate!r} is not allowed: True or False")
        self.validate = validate
        self._sender = PayloadSender(self.connection, self.settings)
        self._sender.telemetry = producer_hooks(self.connection.transport, model)
        self._resource = self._sender

    def _topic(self, topic: str | None) -> str:
        if topic is not None:
            return check_topic(topic)
        if self.topic is None:
            raise InvalidArgumentError(
                f"no topic: pass topic= to Producer({self.model.__name__}, ...) or to send()"
            )
        return self.topic

    def encode(self, message: M, *, topic: str | None = None) -> bytes:
        """Validate (unless disabled) and encode one message, as :meth:`send` does."""
        if not isinstance(message, self.model):
            # Caught by mypy for typed code; this guards untyped callers.
            raise TypeError(f"Producer[{self.model.__name__}] cannot send {type(message).__name__}")
        wire = message.to_wire()
        try:
            if self.validate and not validation_plan(self.model).passes_at_once(wire):
                validate_value(wire, self.model)
            return encode(wire, self.model.encoding)
        except DQError as exc:
            exc.located(topic=topic)
            raise

    def _encode_all(self, messages: list[M], topic: str) -> list[bytes]:
        """``[self.encode(m) for m in messages]``, the same bytes; rows of a structured model
        are made into one array and packed at once (a third of the time per row)."""
        model = self.model
        if (
            isinstance(model, type)
            and issubclass(model, StructuredRow)
            and model.encoding is Encoding.MSGPACK_NUMPY
            and len(messages) > 1
        ):
            # Each row's own wire value would be a fresh 1-row array built with the row dtype
            # itself: this array holds exactly those rows (or is None when that cannot be
            # proven), and validation passes it exactly when it passes each row's own.
            array = model.wire_rows(messages)
            if array is not None and (
                not self.validate or validation_plan(model).passes_at_once(array)
            ):
                try:
                    return pack_rows(array)
                except DQError as exc:
                    exc.located(topic=topic)
                    raise
        return [self.encode(message, topic=topic) for message in messages]

    async def send(
        self,
        message: M,
        *,
        topic: str | None = None,
        key: bytes | str | None = None,
        headers: _headers.HeadersIn | None = None,
        partition: int | None = None,
        timestamp_ms: int | None = None,
    ) -> RecordMetadata:
        """Validate, encode and send one message; return its metadata once delivered.

        An invalid message raises :class:`MessageValidationError` and never reaches the topic.
        """
        target = self._topic(topic)
        payload = self.encode(message, topic=target)
        return await self._sender.publish(
            target,
            payload,
            key=key,
            headers=describing_headers(self.model.encoding, self.model, headers),
            partition=partition,
            timestamp_ms=timestamp_ms,
        )

    async def send_batch(
        self,
        messages: Iterable[M],
        *,
        topic: str | None = None,
        key: bytes | str | None = None,
        headers: _headers.HeadersIn | None = None,
        partition: int | None = None,
    ) -> list[RecordMetadata]:
        """Send many messages without waiting for each; return their metadata in order.

        Every message is validated and encoded before the first is sent, so one invalid message
        means none of the batch is sent.
        """
        target = self._topic(topic)
        payloads = self._encode_all(list(messages), target)
        return await self._sender.publish_many(
            target,
            payloads,
            key=key,
            headers=describing_headers(self.model.encoding, self.model, headers),
            partition=partition,
        )
