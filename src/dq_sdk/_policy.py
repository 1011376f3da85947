"""What a consumer does with a message that does not decode or validate: raise, skip, or
send it to a dead-letter topic with the raw bytes and the error in its headers.

Dead letters are sent by a :class:`~dq_sdk._sender.PayloadSender`, the path of every other
send: the same transport and connection options, the same size check, and chunks for a dead
letter larger than one request (a bad message that came in chunks is dead-lettered whole, so it
is usually over the limit); a dead-letter topic's readers reassemble it as any chunked message.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Literal

from . import _headers
from ._exceptions import DQError
from ._sender import PayloadSender
from ._settings import DEFAULT_MAX_REQUEST_SIZE, Connection, ProducerSettings
from ._transport import FetchedRecord
from .telemetry._hooks import ConsumerHooks

__all__ = ["BadMessagePolicy", "OnError", "dead_letter_sender"]

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
        connection: Connection,
    ) -> None:
        if on_error not in ("raise", "skip", "dead_letter"):
            raise ValueError(f"on_error must be 'raise', 'skip' or 'dead_letter', not {on_error!r}")
        if on_error == "dead_letter" and not dead_letter_topic:
            raise ValueError("on_error='dead_letter' needs dead_letter_topic=")
        self.on_error = on_error
        self.dead_letter_topic = dead_letter_topic
        self.skipped = 0
        self.dead_lettered = 0
        self._sender: PayloadSender | None = None
        if on_error == "dead_letter":
            self._sender = dead_letter_sender(connection)

    async def start(self) -> None:
        if self._sender is not None:
            await self._sender.start()

    async def stop(self) -> None:
        if self._sender is not None:
            await self._sender.stop()

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
        assert self._sender is not None and self.dead_letter_topic is not None
        headers = [
            *record.headers,
            (_headers.DEAD_LETTER_ERROR, str(error).encode("utf-8", errors="replace")),
            (_headers.DEAD_LETTER_ERROR_TYPE, type(error).__name__.encode()),
            (_headers.DEAD_LETTER_SOURCE_TOPIC, record.topic.encode()),
            (_headers.DEAD_LETTER_SOURCE_PARTITION, str(record.partition).encode()),
            (_headers.DEAD_LETTER_SOURCE_OFFSET, str(record.offset).encode()),
        ]
        try:
            await self._sender.publish(
                self.dead_letter_topic, record.value, key=record.key, headers=headers
            )
        except DQError as failure:
            # Not dead-lettered (the broker refused it or is gone...):
            # neither lose the message quietly nor stop the stream. Raise as on_error="raise"
            # would, saying which message and why; the stream goes on after it when asked.
            failure.add_note(
                f"dead-lettering the bad message at {record.topic}[{record.partition}]"
                f"@{record.offset} to {self.dead_letter_topic!r} failed; it was bad because: "
                f"{error}"
            )
            if self.telemetry is not None:
                self.telemetry.rejected(record.topic, record.partition, record, failure, "raise")
            log.error(
                "could not dead-letter the bad message at %s[%d]@%d to %r: %s",
                record.topic,
                record.partition,
                record.offset,
                self.dead_letter_topic,
                failure,
            )
            raise
        self.dead_lettered += 1
        if self.telemetry is not None:
            self.telemetry.rejected(record.topic, record.partition, record, error, "dead_letter")
        log.warning("dead-lettered a bad message to %r: %s", self.dead_letter_topic, error)


#: Chunks of a dead letter over one request: half the default request limit leaves room for the
#: bad message's own headers and the dq-dead-letter-* ones.
DEAD_LETTER_CHUNK_SIZE = DEFAULT_MAX_REQUEST_SIZE // 2

#: Raw client options that describe the connection rather than the consumer, so the dead-letter
#: sender needs them too: librdkafka's TLS/SASL properties (``transport="confluent"`` has no
#: typed TLS of its own) and aiokafka's OAuth token provider.
_CONNECTION_OPTION_PREFIXES = ("ssl.", "sasl.", "security.protocol", "client.id")
_CONNECTION_OPTION_NAMES = ("sasl_oauth_token_provider",)


def dead_letter_sender(connection: Connection) -> PayloadSender:
    """The sender of a consumer's dead letters: the consumer's connection (address, transport,
    security, timeouts, client id, and the raw client options that belong to the connection)
    with a producer's default settings, chunking what is over one request.

    Not the consumer's other raw ``client_options``: they are consumer properties. No telemetry
    of its own: the consumer's telemetry already records each dead letter as a rejected
    message, and a send span would count it as a message produced."""
    carried = {
        name: value
        for name, value in connection.client_options.items()
        if name.startswith(_CONNECTION_OPTION_PREFIXES) or name in _CONNECTION_OPTION_NAMES
    }
    sender = PayloadSender(
        dataclasses.replace(connection, client_options=carried),
        ProducerSettings(chunk_size=DEAD_LETTER_CHUNK_SIZE),
    )
    sender.telemetry = None
    return sender
