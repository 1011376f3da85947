"""The sending core: :class:`PayloadSender` sends already-encoded payloads.

It owns the transport's producer client and everything a payload meets on its way out
whatever made it: the size check against ``max_request_size`` (``MessageTooLargeError``
before anything is sent), chunking over ``chunk_size``, batching and send telemetry.
``Producer[M]``, ``DataQueueProducer``, the dead letters of every consumer and the
``dq-sdk produce`` command all send through it, so they share one size check, one chunk
layout and one transport.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

from . import _chunking
from ._exceptions import DQError, MessageTooLargeError, ProducerStoppedError
from ._settings import Connection, ProducerSettings, client_options
from ._transport import RecordMetadata, TransportName, producer_client
from .telemetry._hooks import ProducerHooks, producer_hooks

__all__ = ["PayloadSender"]

log = logging.getLogger("dq_sdk.producer")


def _key_bytes(key: bytes | str | None) -> bytes | None:
    return key.encode("utf-8") if isinstance(key, str) else key


class PayloadSender:
    """Sends already-encoded payloads; owns the transport's producer client and its lifecycle."""

    def __init__(self, connection: Connection, settings: ProducerSettings) -> None:
        """A sender for checked settings: the only way in, so options take one path (the
        typed settings, mapped to the client's options once, here)."""
        self.server = connection.server
        self._transport: TransportName = connection.transport
        self._client = producer_client(
            connection.server, connection.transport, **client_options(connection, settings)
        )
        self._started = False
        chunk_size = settings.chunk_size
        if chunk_size is not None and not 0 < chunk_size < self._client.max_request_size:
            raise ValueError(
                f"chunk_size must be between 1 and max_request_size "
                f"({self._client.max_request_size}) minus room for headers, not {chunk_size}"
            )
        self.chunk_size = chunk_size
        # None unless dq_sdk.telemetry.instrument() was called: then every send is wrapped.
        self.telemetry: ProducerHooks | None = producer_hooks(connection.transport)

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
