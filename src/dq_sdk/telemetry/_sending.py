"""A producer's telemetry: a PRODUCER span per send, its context in the headers, metrics."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from time import perf_counter

from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind

from .._message import WireMessage
from .._transport import RecordMetadata
from . import _names as n
from ._hooks import Headers
from ._metrics import Tallies
from ._shared import Cache, Owner, base_attributes, error_type, fail

__all__ = ["ProducerTelemetry"]


# What a producer's attribute set depends on: topic, partition, error type.
_SendKey = tuple[str, int | None, str | None]


class ProducerTelemetry:
    """A producer's sends: a PRODUCER span each, its context in the headers, and metrics."""

    def __init__(self, owner: Owner, transport: str, model: type[WireMessage] | None) -> None:
        self._owner = owner
        self._metrics = owner.instruments
        self._tracer = owner.tracer
        base = base_attributes(transport, model, "send")

        def make(key: _SendKey) -> dict[str, str | int]:
            topic, partition, error = key
            attributes = {**base, n.DESTINATION: topic}
            if partition is not None:
                attributes[n.PARTITION] = str(partition)
            if error is not None:
                attributes[n.ERROR_TYPE] = error
            return attributes

        self._attributes: Cache[_SendKey, dict[str, str | int]] = Cache(make)
        sent = self._metrics.sent if self._metrics is not None else Tallies()
        self._tallies: Cache[_SendKey, list[int]] = Cache(
            lambda key: sent.tally(self._attributes[key])
        )

    def _start(
        self, topic: str, headers: Headers, count: int | None
    ) -> tuple[Span | None, Headers]:
        """The send's span, and the headers with its context added (replacing any of the
        same names: one ``traceparent`` per message)."""
        if self._tracer is None:
            return None, headers
        attributes = self._attributes[(topic, None, None)]
        if count is not None:
            attributes = {**attributes, n.BATCH_MESSAGE_COUNT: count}
        span = self._tracer.start_span(
            f"send {topic}", kind=SpanKind.PRODUCER, attributes=attributes
        )
        carrier: dict[str, str] = {}
        self._owner.propagator.inject(carrier, context=trace.set_span_in_context(span))
        if not carrier:
            return span, headers
        traced = [pair for pair in headers if pair[0] not in carrier]
        traced.extend((name, value.encode()) for name, value in carrier.items())
        return span, traced

    def _failed(
        self, span: Span | None, topic: str, sizes: Sequence[int], error: BaseException
    ) -> None:
        tally = self._tallies[(topic, None, error_type(error))]
        tally[0] += len(sizes)
        tally[1] += sum(sizes)
        fail(span, error)

    async def send(
        self,
        topic: str,
        size: int,
        headers: Headers,
        call: Callable[[Headers], Awaitable[RecordMetadata]],
    ) -> RecordMetadata:
        span, traced = self._start(topic, headers, None)
        started = perf_counter()
        try:
            metadata = await call(traced)
        except BaseException as error:
            self._failed(span, topic, (size,), error)
            raise
        key = (topic, metadata.partition, None)
        tally = self._tallies[key]
        tally[0] += 1
        tally[1] += size
        if self._metrics is not None:
            self._metrics.duration.record(perf_counter() - started, self._attributes[key])
        if span is not None:
            span.set_attribute(n.PARTITION, str(metadata.partition))
            span.set_attribute(n.KAFKA_OFFSET, metadata.offset)
            span.end()
        return metadata

    async def send_many(
        self,
        topic: str,
        sizes: Sequence[int],
        headers: Headers,
        call: Callable[[Headers], Awaitable[list[RecordMetadata]]],
    ) -> list[RecordMetadata]:
        span, traced = self._start(topic, headers, len(sizes))
        started = perf_counter()
        try:
            results = await call(traced)
        except BaseException as error:
            self._failed(span, topic, sizes, error)
            raise
        elapsed = perf_counter() - started
        partitions = set()
        for size, metadata in zip(sizes, results, strict=True):
            partitions.add(metadata.partition)
            tally = self._tallies[(topic, metadata.partition, None)]
            tally[0] += 1
            tally[1] += size
        only = next(iter(partitions)) if len(partitions) == 1 else None
        if self._metrics is not None:
            self._metrics.duration.record(elapsed, self._attributes[(topic, only, None)])
        if span is not None:
            if only is not None:
                span.set_attribute(n.PARTITION, str(only))
            span.end()
        return results
