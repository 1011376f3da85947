"""Producers: the shared publishing core and the typed ``Producer[M]``.

Flow: model -> ``to_wire()`` -> validation -> codec -> size check -> transport -> Kafka.
The seed's ``DataQueueProducer`` (in :mod:`dq_sdk.dataqueues`) is a shell over
:class:`Publisher`, so both layers share one size check, one header layout and one transport.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Generic, TypeVar

from . import _chunking, _headers
from ._exceptions import DQError, InvalidArgumentError, MessageTooLargeError, ProducerStoppedError
from ._headers import describing_headers
from ._lifecycle import StartedInContext
from ._message import WireMessage, check_model
from ._models._structured import StructuredRow
from ._settings import (
    DEFAULT_CONNECT_TIMEOUT_S,
    DEFAULT_MAX_REQUEST_SIZE,
    Acks,
    CompressionType,
    Connection,
    ProducerSettings,
    SaslMechanism,
    SecurityProtocol,
    check_topic,
    checked_keywords,
    client_options,
    connection_from,
    producer_settings_from,
)
from ._transport import RecordMetadata, TransportName, producer_client
from ._validation import validate as validate_value
from ._validation import validation_plan
from .codecs import Encoding, encode
from .codecs._msgpack_numpy import pack_rows
from .telemetry._hooks import ProducerHooks, producer_hooks

__all__ = ["Producer", "Publisher"]

log = logging.getLogger("dq_sdk.producer")

M = TypeVar("M", bound=WireMessage)


def _key_bytes(key: bytes | str | None) -> bytes | None:
    return key.encode("utf-8") if isinstance(key, str) else key


class Publisher:
    """Sends already-encoded payloads; owns the transport's producer client's lifecycle."""

    def __init__(
        self,
        server: str,
        *,
        chunk_size: int | None = None,
        transport: TransportName = "aiokafka",
        **kafka_options: Any,
    ) -> None:
        self.server = server
        self._transport = transport
        self._client = producer_client(server, transport, **kafka_options)
        self._started = False
        if chunk_size is not None and not 0 < chunk_size < self._client.max_request_size:
            raise ValueError(
                f"chunk_size must be between 1 and max_request_size "
                f"({self._client.max_request_size}) minus room for headers, not {chunk_size}"
            )
        self.chunk_size = chunk_size
        # None unless dq_sdk.telemetry.instrument() was called: then every send is wrapped.
        self.telemetry: ProducerHooks | None = producer_hooks(transport)

    @classmethod
    def from_settings(cls, connection: Connection, settings: ProducerSettings) -> Publisher:
        """A publisher for checked settings, its client's options mapped once."""
        return cls(
            connection.server,
            chunk_size=settings.chunk_size,
            transport=connection.transport,
            **client_options(connection, settings),
        )

    @property
    def max_request_size(self) -> int:
        return self._client.max_request_size

    async def start(self) -> None:
        if not self._started:
            await self._client.start()
            self._started = True
            log.info("producer connected to %s (%s)", self.server, self._transport)

    async def stop(self) -> None:
        """Deliver every pending message, then close the client."""
        if self._started:
            self._started = False
            try:
                await self._client.stop()
            finally:
                log.info("producer left %s", self.server)

    async def enqueue(
        self,
        topic: str,
        payload: bytes,
        *,
        key: bytes | str | None,
        headers: Sequence[tuple[str, bytes]],
        partition: int | None,
        timestamp_ms: int | None,
    ) -> asyncio.Future[RecordMetadata]:
        """Check the size and hand the payload to the client's batch; await the future."""
        if not self._started:
            raise ProducerStoppedError(
                "the producer is not running: use it inside 'async with'", topic=topic
            )
        raw_key = _key_bytes(key)
        size = self._client.wire_size(payload, raw_key, headers)
        if size > self._client.max_request_size:
            raise MessageTooLargeError(size, self._client.max_request_size, topic=topic)
        return await self._client.enqueue(
            topic,
            payload,
            key=raw_key,
            headers=headers,
            partition=partition,
            timestamp_ms=timestamp_ms,
        )

    async def publish_many(
        self,
        topic: str,
        payloads: Sequence[bytes],
        *,
        key: bytes | str | None = None,
        headers: Sequence[tuple[str, bytes]] = (),
        partition: int | None = None,
    ) -> list[RecordMetadata]:
        """Send many payloads with the transport's batch call; their metadata, in order.

        Every size is checked before anything is sent, so a message over the limit means none
        of the batch is sent. Payloads over ``chunk_size`` go as chunks (the path of
        :meth:`publish`), in their place in the sequence; runs of the others go to the
        client's ``enqueue_many``, which puts each where a single send would.
        """
        if self.telemetry is not None:
            return await self.telemetry.send_many(
                topic,
                [len(payload) for payload in payloads],
                headers,
                lambda traced: self._publish_many(
                    topic, payloads, key=key, headers=traced, partition=partition
                ),
            )
        return await self._publish_many(
            topic, payloads, key=key, headers=headers, partition=partition
        )

    async def _publish_many(
        self,
        topic: str,
        payloads: Sequence[bytes],
        *,
        key: bytes | str | None,
        headers: Sequence[tuple[str, bytes]],
        partition: int | None,
    ) -> list[RecordMetadata]:
        """The work of :meth:`publish_many`, inside its telemetry when that is on."""
        if not self._started:
            raise ProducerStoppedError(
                "the producer is not running: use it inside 'async with'", topic=topic
            )
        raw_key = _key_bytes(key)
        header_list = list(headers)
        chunk_size = self.chunk_size
        limit = self._client.max_request_size
        chunked = [chunk_size is not None and len(p) > chunk_size for p in payloads]
        # The size estimate grows with the value by its length plus a few bytes of varints
        # (at most 8 under 4 GiB): a value that fits with 16 to spare needs no exact estimate.
        fits = limit - self._client.wire_size(b"", raw_key, header_list) - 16
        for payload, is_chunked in zip(payloads, chunked, strict=True):
            if not is_chunked and len(payload) > fits:  # chunks are checked as they are sent
                size = self._client.wire_size(payload, raw_key, header_list)
                if size > limit:
                    raise MessageTooLargeError(size, limit, topic=topic)
        results: list[RecordMetadata] = []
        # In input order: a run's future (its messages' metadata), or a chunked message's.
        parts: list[asyncio.Future[list[RecordMetadata]] | RecordMetadata] = []
        try:
            start = 0
            for index in range(len(payloads) + 1):
                if index < len(payloads) and not chunked[index]:
                    continue
                if index > start:
                    run = await self._client.enqueue_many(
                        topic,
                        payloads[start:index],
                        key=raw_key,
                        headers=header_list,
                        partition=partition,
                    )
                    parts.append(run)
                if index < len(payloads):
                    metadata = await self._publish_chunked(
                        topic, payloads[index], key=key, headers=header_list, partition=partition
                    )
                    parts.append(metadata)
                start = index + 1
            for part in parts:
                if isinstance(part, asyncio.Future):
                    results += await self._client.delivered(part, topic)
                else:
                    results.append(part)
        except BaseException as exc:
            for part in parts:  # nobody reads the rest now: drop their outcome quietly
                if isinstance(part, asyncio.Future):
                    part.add_done_callback(_retrieve)
            if isinstance(exc, DQError):
                raise exc.located(topic=topic) from exc.__cause__
            raise
        return results

    async def delivered(self, future: asyncio.Future[RecordMetadata], topic: str) -> RecordMetadata:
        try:
            return await self._client.delivered(future, topic)
        except DQError as exc:
            raise exc.located(topic=topic) from exc.__cause__

    async def publish(
        self,
        topic: str,
        payload: bytes,
        *,
        key: bytes | str | None = None,
        headers: Sequence[tuple[str, bytes]] = (),
        partition: int | None = None,
        timestamp_ms: int | None = None,
    ) -> RecordMetadata:
        if self.telemetry is not None:
            return await self.telemetry.send(
                topic,
                len(payload),
                headers,
                lambda traced: self._publish(
                    topic,
                    payload,
                    key=key,
                    headers=traced,
                    partition=partition,
                    timestamp_ms=timestamp_ms,
                ),
            )
        return await self._publish(
            topic, payload, key=key, headers=headers, partition=partition, timestamp_ms=timestamp_ms
        )

    async def _publish(
        self,
        topic: str,
        payload: bytes,
        *,
        key: bytes | str | None,
        headers: Sequence[tuple[str, bytes]],
        partition: int | None,
        timestamp_ms: int | None,
    ) -> RecordMetadata:
        if self.chunk_size is not None and len(payload) > self.chunk_size:
            return await self._publish_chunked(
                topic, payload, key=key, headers=headers, partition=partition
            )
        future = await self.enqueue(
            topic,
            payload,
            key=key,
            headers=headers,
            partition=partition,
            timestamp_ms=timestamp_ms,
        )
        return await self.delivered(future, topic)

    async def _publish_chunked(
        self,
        topic: str,
        payload: bytes,
        *,
        key: bytes | str | None,
        headers: Sequence[tuple[str, bytes]],
        partition: int | None,
    ) -> RecordMetadata:
        """Send the payload as ordered chunks on one partition; return the last one's metadata.

        The first chunk goes where the partitioner puts it, the rest follow to that partition,
        so a consumer reads them in order.
        """
        assert self.chunk_size is not None
        pieces = _chunking.split(payload, self.chunk_size)
        set_id = _chunking.new_set_id()
        metadata: RecordMetadata | None = None
        futures = []
        for index, piece in enumerate(pieces):
            chunk_headers = [
                *headers,
                *_chunking.chunk_headers(set_id, index, len(pieces), len(payload)),
            ]
            future = await self.enqueue(
                topic,
                bytes(piece),
                key=key,
                headers=chunk_headers,
                partition=partition,
                timestamp_ms=None,
            )
            if partition is None:
                metadata = await self.delivered(future, topic)
                partition = metadata.partition
            else:
                futures.append(future)
        for future in futures:
            metadata = await self.delivered(future, topic)
        assert metadata is not None
        return metadata


def _retrieve(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()


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
        self._publisher = Publisher.from_settings(self.connection, self.settings)
        self._publisher.telemetry = producer_hooks(self.connection.transport, model)
        self._resource = self._publisher

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
        return await self._publisher.publish(
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
        return await self._publisher.publish_many(
            target,
            payloads,
            key=key,
            headers=describing_headers(self.model.encoding, self.model, headers),
            partition=partition,
        )
