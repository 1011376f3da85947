"""dq-sdk's telemetry on the OpenTelemetry API: metrics, spans, trace context in headers.

Loaded only by :func:`dq_sdk.telemetry.instrument`; everything else in dq-sdk reaches it
through the hook protocols of :mod:`dq_sdk.telemetry._hooks`. Attribute dictionaries are built
once per (topic, partition, outcome) and reused: the SDK hashes them on every measurement, and
building them per message would cost more than the measurement.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from contextvars import Token
from time import perf_counter
from typing import Any, TypeVar

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.metrics import CallbackOptions, Meter, MeterProvider, Observation
from opentelemetry.metrics import get_meter_provider as global_meter_provider
from opentelemetry.propagators.textmap import Getter, TextMapPropagator
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, Tracer, TracerProvider

from .._message import WireMessage
from .._transport import Record, RecordMetadata
from . import _names as n
from ._hooks import ConsumerHooks, Headers, Highwater, ProducerHooks

__all__ = ["OtelInstrumentation"]

_SCOPE = "dq_sdk"
_KAFKA = "kafka"
# Attribute sets kept per client; past this many distinct ones (a client writing to ever new
# topics) they are built per use instead of cached.
_CACHE_LIMIT = 4096

Attributes = Mapping[str, str | int]
# topic, partition, error type, on_error action: what a consumer's attribute set depends on.
_Token = Token[Context] | None
_ConsumerKey = tuple[str | None, int | None, str | None, str | None]
_K = TypeVar("_K")


def _version() -> str:
    from .. import __version__

    return __version__


class _HeaderGetter(Getter[Headers]):
    """Reads text-map fields (``traceparent``...) from Kafka's (name, bytes) header pairs."""

    def get(self, carrier: Headers, key: str) -> list[str] | None:
        values = [value.decode("utf-8", "replace") for name, value in carrier if name == key]
        return values or None

    def keys(self, carrier: Headers) -> list[str]:
        return [name for name, _ in carrier]


_GETTER = _HeaderGetter()


def _error_type(error: BaseException) -> str:
    return type(error).__qualname__


class _Cache(dict[_K, dict[str, str | int]]):
    """Attribute dictionaries by key, built by ``make`` on first use, bounded in number."""

    def __init__(self, make: Callable[[_K], dict[str, str | int]]) -> None:
        super().__init__()
        self._make = make

    def __missing__(self, key: _K) -> dict[str, str | int]:
        value = self._make(key)
        if len(self) < _CACHE_LIMIT:
            self[key] = value
        return value


class _Instruments:
    """One meter's instruments, shared by every client instrumented with that meter provider
    (an SDK refuses a second instrument of the same name, so they are made once)."""

    def __init__(self, meter: Meter) -> None:
        message, byte = "{message}", "By"
        self.sent = meter.create_counter(
            n.SENT_MESSAGES,
            message,
            "Messages a producer tried to send; failed ones carry error.type.",
        )
        self.sent_bytes = meter.create_counter(
            n.SENT_BYTES, byte, "Value bytes of the messages counted in " + n.SENT_MESSAGES + "."
        )
        self.consumed = meter.create_counter(
            n.CONSUMED_MESSAGES, message, "Messages a consumer handed to the application."
        )
        self.consumed_bytes = meter.create_counter(
            n.CONSUMED_BYTES, byte, "Value bytes of the messages counted in " + n.CONSUMED_MESSAGES
        )
        self.rejected = meter.create_counter(
            n.REJECTED_MESSAGES,
            message,
            "Messages a consumer could not decode or validate, by dq_sdk.on_error "
            "(raise, skip, dead_letter) and error.type.",
        )
        self.rejected_bytes = meter.create_counter(
            n.REJECTED_BYTES, byte, "Value bytes of the messages counted in " + n.REJECTED_MESSAGES
        )
        self.duration = meter.create_histogram(
            n.OPERATION_DURATION,
            "s",
            "Duration of a send (send() or send_batch()), from the call to the broker's answer.",
            explicit_bucket_boundaries_advisory=n.DURATION_BUCKETS_S,
        )
        self.process_duration = meter.create_histogram(
            n.PROCESS_DURATION,
            "s",
            "Time the application spent on a message: from its hand-over to the next request.",
            explicit_bucket_boundaries_advisory=n.DURATION_BUCKETS_S,
        )
        # Consumers whose lag is reported; a consumer leaves when it stops (or is collected).
        self.consumers: weakref.WeakSet[_ConsumerTelemetry] = weakref.WeakSet()
        meter.create_observable_gauge(
            n.CONSUMER_LAG,
            [self._observe_lag],
            message,
            "Messages in a partition after the consumer's position (high-water mark minus the "
            "offset after the last message handed over or refused).",
        )

    def _observe_lag(self, _options: CallbackOptions) -> Iterable[Observation]:
        observations: list[Observation] = []
        for consumer in list(self.consumers):
            observations.extend(consumer.lag_observations())
        return observations


# One set of instruments per meter provider, for the provider's lifetime.
_INSTRUMENTS: weakref.WeakKeyDictionary[MeterProvider, _Instruments] = weakref.WeakKeyDictionary()


def _instruments_for(provider: MeterProvider) -> _Instruments:
    found = _INSTRUMENTS.get(provider)
    if found is None:
        found = _Instruments(provider.get_meter(_SCOPE, _version()))
        _INSTRUMENTS[provider] = found
    return found


class OtelInstrumentation:
    """The active telemetry: which providers and propagator the clients built now report to."""

    def __init__(
        self,
        *,
        meter_provider: MeterProvider | None,
        tracer_provider: TracerProvider | None,
        propagator: TextMapPropagator | None,
        metrics: bool,
        traces: bool,
    ) -> None:
        self.instruments = (
            _instruments_for(meter_provider or global_meter_provider()) if metrics else None
        )
        self.tracer: Tracer | None = (
            trace.get_tracer(_SCOPE, _version(), tracer_provider) if traces else None
        )
        self._propagator = propagator

    @property
    def propagator(self) -> TextMapPropagator:
        # The global one is looked up each time: an application may set it after instrument().
        return self._propagator or propagate.get_global_textmap()

    def producer(self, transport: str, model: type[WireMessage] | None) -> ProducerHooks:
        return _ProducerTelemetry(self, transport, model)

    def consumer(
        self,
        transport: str,
        group_id: str | None,
        model: type[WireMessage] | None,
        highwater: Highwater,
    ) -> ConsumerHooks:
        return _ConsumerTelemetry(self, transport, group_id, model, highwater)


def _base(transport: str, model: type[WireMessage] | None, operation: str) -> dict[str, str | int]:
    base: dict[str, str | int] = {
        n.SYSTEM: _KAFKA,
        n.OPERATION_NAME: operation,
        n.OPERATION_TYPE: operation,
        n.TRANSPORT: transport,
    }
    if model is not None:
        base[n.MODEL] = model.__name__
    return base


def _fail(span: Span | None, error: BaseException) -> None:
    if span is not None:
        span.set_attribute(n.ERROR_TYPE, _error_type(error))
        span.set_status(Status(StatusCode.ERROR, str(error) or _error_type(error)))
        span.end()


class _ProducerTelemetry:
    """A producer's sends: a PRODUCER span each, its context in the headers, and metrics."""

    def __init__(
        self, owner: OtelInstrumentation, transport: str, model: type[WireMessage] | None
    ) -> None:
        self._owner = owner
        self._metrics = owner.instruments
        self._tracer = owner.tracer
        base = _base(transport, model, "send")

        def make(key: tuple[str, int | None, str | None]) -> dict[str, str | int]:
            topic, partition, error = key
            attributes = {**base, n.DESTINATION: topic}
            if partition is not None:
                attributes[n.PARTITION] = str(partition)
            if error is not None:
                attributes[n.ERROR_TYPE] = error
            return attributes

        self._attributes = _Cache(make)

    def _start(
        self, topic: str, headers: Headers, count: int | None
    ) -> tuple[Span | None, Headers]:
        """The send's span, and the headers with its context added (replacing any of the
        same names: one ``traceparent`` per message)."""
        if self._tracer is None:
            return None, headers
        attributes = dict(self._attributes[(topic, None, None)])
        if count is not None:
            attributes[n.BATCH_MESSAGE_COUNT] = count
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
        if self._metrics is not None:
            attributes = self._attributes[(topic, None, _error_type(error))]
            self._metrics.sent.add(len(sizes), attributes)
            self._metrics.sent_bytes.add(sum(sizes), attributes)
        _fail(span, error)

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
        if self._metrics is not None:
            attributes = self._attributes[(topic, metadata.partition, None)]
            self._metrics.duration.record(perf_counter() - started, attributes)
            self._metrics.sent.add(1, attributes)
            self._metrics.sent_bytes.add(size, attributes)
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
        per_partition: dict[int, list[int]] = {}
        for size, metadata in zip(sizes, results, strict=True):
            tally = per_partition.get(metadata.partition)
            if tally is None:
                per_partition[metadata.partition] = [1, size]
            else:
                tally[0] += 1
                tally[1] += size
        only = next(iter(per_partition)) if len(per_partition) == 1 else None
        if self._metrics is not None:
            for partition, (count, nbytes) in per_partition.items():
                attributes = self._attributes[(topic, partition, None)]
                self._metrics.sent.add(count, attributes)
                self._metrics.sent_bytes.add(nbytes, attributes)
            self._metrics.duration.record(elapsed, self._attributes[(topic, only, None)])
        if span is not None:
            if only is not None:
                span.set_attribute(n.PARTITION, str(only))
            span.end()
        return results


class _ConsumerTelemetry:
    """A consumer's messages: a CONSUMER span per message, child of the producer's context and
    current while the application holds the message; metrics; lag for the gauge."""

    def __init__(
        self,
        owner: OtelInstrumentation,
        transport: str,
        group_id: str | None,
        model: type[WireMessage] | None,
        highwater: Highwater,
    ) -> None:
        self._owner = owner
        self._metrics = owner.instruments
        self._tracer = owner.tracer
        self._highwater = highwater
        base = _base(transport, model, "process")
        if group_id is not None:
            base[n.CONSUMER_GROUP] = group_id

        def make(
            key: tuple[str | None, int | None, str | None, str | None],
        ) -> dict[str, str | int]:
            topic, partition, error, action = key
            attributes = dict(base)
            if topic is not None:
                attributes[n.DESTINATION] = topic
            if partition is not None:
                attributes[n.PARTITION] = str(partition)
            if error is not None:
                attributes[n.ERROR_TYPE] = error
            if action is not None:
                attributes[n.ON_ERROR] = action
            return attributes

        self._attributes = _Cache(make)
        lag_base = {k: v for k, v in base.items() if k not in (n.OPERATION_NAME, n.OPERATION_TYPE)}

        def make_lag(key: tuple[str, int]) -> dict[str, str | int]:
            return {**lag_base, n.DESTINATION: key[0], n.PARTITION: str(key[1])}

        self._lag_attributes = _Cache(make_lag)
        # The next offset to read per partition, from this consumer's own progress.
        self._positions: dict[tuple[str, int], int] = {}
        # The message in hand: its span, the context token, the task that holds it, since when.
        self._open: tuple[Span | None, _Token, asyncio.Task[Any] | None, float, Attributes] | None
        self._open = None
        if self._metrics is not None:
            self._metrics.consumers.add(self)

    def next_requested(self) -> None:
        held = self._open
        if held is None:
            return
        self._open = None
        span, token, task, started, attributes = held
        if self._metrics is not None:
            self._metrics.process_duration.record(perf_counter() - started, attributes)
        # A context attached in one task cannot be detached from another (e.g. receive()
        # wrapped in wait_for on Python 3.11): there the task's own copy simply ends with it.
        if token is not None and _current_task() is task:
            otel_context.detach(token)
        if span is not None:
            span.end()

    def handed_over(self, record: Record) -> None:
        self.next_requested()
        topic, partition = record.topic, record.partition
        self._positions[(topic, partition)] = record.offset + 1
        attributes = self._attributes[(topic, partition, None, None)]
        size = len(record.value)
        if self._metrics is not None:
            self._metrics.consumed.add(1, attributes)
            self._metrics.consumed_bytes.add(size, attributes)
        span: Span | None = None
        token: _Token = None
        if self._tracer is not None:
            parent = self._owner.propagator.extract(record.headers, getter=_GETTER)
            span = self._tracer.start_span(
                f"process {topic}",
                context=parent,
                kind=SpanKind.CONSUMER,
                attributes={**attributes, n.KAFKA_OFFSET: record.offset, n.MESSAGE_BODY_SIZE: size},
            )
            # Current while the application works on the message: its own spans, and the
            # sends of a pipeline stage, become children of this one.
            token = otel_context.attach(trace.set_span_in_context(span, parent))
        self._open = (span, token, _current_task(), perf_counter(), attributes)

    def rejected(
        self,
        topic: str | None,
        partition: int | None,
        record: Record | None,
        error: BaseException,
        action: str,
    ) -> None:
        attributes = self._attributes[(topic, partition, _error_type(error), action)]
        if record is not None:
            self._positions[(record.topic, record.partition)] = record.offset + 1
        if self._metrics is not None:
            self._metrics.rejected.add(1, attributes)
            if record is not None:
                self._metrics.rejected_bytes.add(len(record.value), attributes)
        if self._tracer is not None and record is not None:
            # A short span, so a poison message shows in the trace of whatever sent it.
            parent = self._owner.propagator.extract(record.headers, getter=_GETTER)
            span = self._tracer.start_span(
                f"process {record.topic}",
                context=parent,
                kind=SpanKind.CONSUMER,
                attributes={**attributes, n.KAFKA_OFFSET: record.offset},
            )
            span.record_exception(error)
            _fail(span, error)

    def close(self) -> None:
        self.next_requested()
        self._positions.clear()
        if self._metrics is not None:
            self._metrics.consumers.discard(self)

    def lag_observations(self) -> list[Observation]:
        """Called from the metric reader's thread: reads a copy, never blocks."""
        observations = []
        for key, position in dict(self._positions).items():
            try:
                high = self._highwater(*key)
            except Exception:  # a partition revoked meanwhile, a client closing: no figure
                continue
            if high is not None and high >= 0:
                observations.append(Observation(max(0, high - position), self._lag_attributes[key]))
        return observations


def _current_task() -> asyncio.Task[Any] | None:
    try:
        return asyncio.current_task()
    except RuntimeError:  # no running loop
        return None
