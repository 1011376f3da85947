"""The few calls producers and consumers make into telemetry, and the switch that turns it on.

Clients ask :func:`producer_hooks` / :func:`consumer_hooks` once, when they are built. Without
:func:`dq_sdk.telemetry.instrument` both return ``None``, the clients skip every hook with one
``is None`` test, and nothing of OpenTelemetry is imported. This module imports none of it
either: the implementation, :mod:`dq_sdk.telemetry._otel`, is loaded by ``instrument()``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from .._message import WireMessage
    from .._transport import FetchedRecord, RecordMetadata

__all__ = [
    "ConsumerHooks",
    "Highwater",
    "Instrumentation",
    "ProducerHooks",
    "activate",
    "active",
    "consumer_hooks",
    "producer_hooks",
]

Headers = Sequence[tuple[str, bytes]]
#: The last known high-water mark of a (topic, partition), or ``None``; must not block.
Highwater = Callable[[str, int], "int | None"]


class ProducerHooks(Protocol):
    """Wraps one send: ``call`` gets the headers to send (the caller's plus trace context)."""

    async def send(
        self,
        topic: str,
        size: int,
        headers: Headers,
        call: Callable[[Headers], Awaitable[RecordMetadata]],
    ) -> RecordMetadata: ...

    async def send_many(
        self,
        topic: str,
        sizes: Sequence[int],
        headers: Headers,
        call: Callable[[Headers], Awaitable[list[RecordMetadata]]],
    ) -> list[RecordMetadata]: ...


class ConsumerHooks(Protocol):
    """What a consumer reports: messages handed over, messages refused, and when it is done."""

    def next_requested(self) -> None:
        """The application asks for the next message: it is done with the one in hand."""

    def handed_over(self, record: FetchedRecord) -> None:
        """A good message goes to the application now."""

    def handed_over_batch(self, records: Sequence[FetchedRecord]) -> None:
        """Good messages go to the application now, as one batch."""

    def rejected(
        self,
        topic: str | None,
        partition: int | None,
        record: FetchedRecord | None,
        error: BaseException,
        action: str,
    ) -> None:
        """A bad message is raised, skipped or dead-lettered (``action``: the ``on_error``)."""

    def close(self) -> None:
        """The consumer stops: end what is open, stop reporting its lag."""


class Instrumentation(Protocol):
    """What :func:`dq_sdk.telemetry.instrument` makes: hooks for each new client."""

    def producer(self, transport: str, model: type[WireMessage] | None) -> ProducerHooks: ...

    def consumer(
        self,
        transport: str,
        group_id: str | None,
        model: type[WireMessage] | None,
        highwater: Highwater,
    ) -> ConsumerHooks: ...


_active: Instrumentation | None = None


def activate(instrumentation: Instrumentation | None) -> None:
    global _active
    _active = instrumentation


def active() -> Instrumentation | None:
    return _active


def producer_hooks(transport: str, model: type[WireMessage] | None = None) -> ProducerHooks | None:
    """Hooks for a new producer, or ``None`` when telemetry is off."""
    return None if _active is None else _active.producer(transport, model)


def consumer_hooks(
    transport: str,
    group_id: str | None,
    model: type[WireMessage] | None,
    highwater: Highwater,
) -> ConsumerHooks | None:
    """Hooks for a new consumer, or ``None`` when telemetry is off."""
    return None if _active is None else _active.consumer(transport, group_id, model, highwater)
