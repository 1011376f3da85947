"""What a consumer does with a message that does not decode or validate: raise, skip, or
send it to a dead-letter topic with the raw bytes and the error in its headers."""

from __future__ import annotations

import logging
from typing import Any, Literal

from . import _headers
from ._exceptions import DQError
from ._transport import FetchedRecord, ProducerClient, TransportName, producer_client
from .telemetry._hooks import ConsumerHooks

__all__ = ["BadMessagePolicy", "OnError"]

log = logging.getLogger("dq_sdk.consumer")

#: What to do with a message that does not decode or validate.
OnError = Literal["raise", "skip", "dead_letter"]


class BadMessagePolicy:
    """Decides what happens to a message that fails to decode or validate."""

    #: The owning consumer's telemetry (set by it), told of every bad message's fate.
    telemetry: ConsumerHooks | None = None

    def __init__(
        self,
        on_error: OnError,
        dead_letter_topic: str | None,
        server: str,
        transport: TransportName = "aiokafka",
        **kafka_options: Any,
    ) -> None:
        if on_error not in ("raise", "skip", "dead_letter"):
            raise ValueError(f"on_error must be 'raise', 'skip' or 'dead_letter', not {on_error!r}")
        if on_error == "dead_letter" and not dead_letter_topic:
            raise ValueError("on_error='dead_letter' needs dead_letter_topic=")
        self.on_error = on_error
        self.dead_letter_topic = dead_letter_topic
        self.skipped = 0
        self.dead_lettered = 0
        self._dlq: ProducerClient | None = None
        if on_error == "dead_letter":
            self._dlq = producer_client(server, transport, **_producer_safe(kafka_options))

    async def start(self) -> None:
        if self._dlq is not None:
            await self._dlq.start()

    async def stop(self) -> None:
        if self._dlq is not None:
            await self._dlq.stop()

    async def handle_lost(self, error: DQError) -> None:
        """A message that cannot be handed over at all (an incomplete chunk set)."""
        if self.telemetry is not None:
            self.telemetry.rejected(error.topic, error.partition, None, error, self.on_error)
        if self.on_error == "raise":
            raise error
        self.skipped += 1
        log.warning("lost a chunked message: %s", error)

    async def handle(self, record: FetchedRecord, error: DQError) -> None:
        """Raise, log, or dead-letter the record; returning means: go on with the stream."""
        error.located(topic=record.topic, partition=record.partition, offset=record.offset)
        if self.on_error == "raise":
            if self.telemetry is not None:
                self.telemetry.rejected(record.topic, record.partition, record, error, "raise")
            raise error
        if self.on_error == "skip":
            self.skipped += 1
            if self.telemetry is not None:
                self.telemetry.rejected(record.topic, record.partition, record, error, "skip")
            log.warning("skipped a bad message: %s", error)
            return
        assert self._dlq is not None and self.dead_letter_topic is not None
        headers = [
            *record.headers,
            (_headers.DEAD_LETTER_ERROR, str(error).encode("utf-8", errors="replace")),
            (_headers.DEAD_LETTER_ERROR_TYPE, type(error).__name__.encode()),
            (_headers.DEAD_LETTER_SOURCE_TOPIC, record.topic.encode()),
            (_headers.DEAD_LETTER_SOURCE_PARTITION, str(record.partition).encode()),
            (_headers.DEAD_LETTER_SOURCE_OFFSET, str(record.offset).encode()),
        ]
        future = await self._dlq.enqueue(
            self.dead_letter_topic, record.value, key=record.key, headers=headers
        )
        await self._dlq.delivered(future, self.dead_letter_topic)
        self.dead_lettered += 1
        if self.telemetry is not None:
            self.telemetry.rejected(record.topic, record.partition, record, error, "dead_letter")
        log.warning("dead-lettered a bad message to %r: %s", self.dead_letter_topic, error)


def _producer_safe(kafka_options: dict[str, Any]) -> dict[str, Any]:
    """Options that also make sense for the dead-letter producer (security, timeouts)."""
    shared = (
        "security_protocol",
        "ssl_context",
        "sasl_mechanism",
        "sasl_plain_username",
        "sasl_plain_password",
        "sasl_kerberos_service_name",
        "sasl_kerberos_domain_name",
        "sasl_oauth_token_provider",
        "client_id",
        "request_timeout_ms",
        "connect_timeout_s",
    )
    return {k: v for k, v in kafka_options.items() if k in shared}
