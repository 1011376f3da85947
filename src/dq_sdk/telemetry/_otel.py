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
_Token = Token[Context]
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


_V = TypeVar("_V")


class _Cache(dict[_K, _V]):
    """Values by key, built by ``make`` on first use; past ``_CACHE_LIMIT`` keys (a client
    writing to ever new topics) built per use instead of kept."""

    def __init__(self, make: Callable[[_K], _V]) -> None:
        super().__init__()
        self._make = make

    def __missing__(self, key: _K) -> _V:
        value = self._make(key)
        if len(self) < _CACHE_LIMIT:
            self[key] = value
        return value


class _Tallies:
    """Cumulative [messages, bytes] per attribute set, shared by every client of one meter
    provider, so totals survive the clients that counted them.

    The hot path adds two integers to a list it holds; observable counters read the totals
    only when a reader collects. A synchronous counter would do the same work per message
    inside the SDK (hashing and checking every attribute), which costs more than dq-sdk's
    whole per-message path on a consumer.
    """

    def __init__(self) -> None:
        self._by_attributes: dict[frozenset[tuple[str, str | int]], tuple[Attributes, list[int]]]
        self._by_attributes = {}

    def tally(self, attributes: Attributes) -> list[int]:
        """The [messages, bytes] list to add to for this attribute set."""
        entry = self._by_attributes.setdefault(frozenset(attributes.items()), (attributes, [0, 0]))
        return entry[1]

    def observe(self, index: int) -> list[Observation]:
        # Called from the reader's thread: a copy of the entries, read once.
        return [Observation(t[index], a) for a, t in list(self._by_attributes.values())]


def _counter_callback(
    tallies: _Tallies, index: int
) -> Callable[[CallbackOptions], Iterable[Observation]]:
    return lambda _options: tallies.observe(index)


class _Instruments:
    """One meter's instruments, shared by every client instrumented with that meter provider
    (an SDK refuses a second instrument of the same name, so they are made once)."""

    def __init__(self, meter: Meter) -> None:
        message, byte = "{message}", "By"
        self.sent, self.consumed, self.rejected = _Tallies(), _Tallies(), _Tallies()
        for tallies, messages, nbytes, what in (
            (
                self.sent,
                n.SENT_MESSAGES,
                n.SENT_BYTES,
                "a producer tried to send (error.type on those that failed)",
            ),
            (
                self.consumed,
                n.CONSUMED_MESSAGES,
                n.CONSUMED_BYTES,
                "a consumer handed to the application",
            ),
            (
                self.rejected,
                n.REJECTED_MESSAGES,
                n.REJECTED_BYTES,
                "a consumer could not decode "
                "or validate, by dq_sdk.on_error (raise, skip, dead_letter) and error.type",
            ),
        ):
            meter.create_observable_counter(
                messages, [_counter_callback(tallies, 0)], message, f"Messages {what}."
            )
            meter.create_observable_counter(
                nbytes,
                [_counter_callback(tallies, 1)],
                byte,
                f"Value bytes of the messages {what}.",
            )
        self.duration = meter.create_histogram(
            n.OPERATION_DURATION,
            "s",
            "Duration of a send (send() or send_batch()), from the call to the broker's answer.",
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


# What a producer's attribute set depends on: topic, partition, error type.
_SendKey = tuple[str, int | None, str | None]
# ... and a consumer's: topic, partition, error type, on_error action.
_ConsumerKey = tuple[str | None, int | None, str | None, str | None]


class _ProducerTelemetry:
    """A producer's sends: a PRODUCER span each, its context in the headers, and metrics."""

    def __init__(
        self, owner: OtelInstrumentation, transport: str, model: type[WireMessage] | None
    ) -> None:
        self._owner = owner
        self._metrics = owner.instruments
        self._tracer = owner.tracer
        base = _base(transport, model, "send")

        def make(key: _SendKey) -> dict[str, str | int]:
            topic, partition, error = key
            attributes = {**base, n.DESTINATION: topic}
            if partition is not None:
                attributes[n.PARTITION] = str(partition)
            if error is not None:
                attributes[n.ERROR_TYPE] = error
            return attributes

        self._attributes: _Cache[_SendKey, dict[str, str | int]] = _Cache(make)
        sent = self._metrics.sent if self._metrics is not None else _Tallies()
        self._tallies: _Cache[_SendKey, list[int]] = _Cache(
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
        tally = self._tallies[(topic, None, _error_type(error))]
        tally[0] += len(sizes)
        tally[1] += sum(sizes)
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

        def make(key: _ConsumerKey) -> dict[str, str | int]:
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

        self._attributes: _Cache[_ConsumerKey, dict[str, str | int]] = _Cache(make)
        metrics = self._metrics
        consumed = metrics.consumed if metrics is not None else _Tallies()
        rejected = metrics.rejected if metrics is not None else _Tallies()
        self._consumed: _Cache[tuple[str, int], list[int]] = _Cache(
            lambda key: consumed.tally(self._attributes[(*key, None, None)])
        )
        self._rejected: _Cache[_ConsumerKey, list[int]] = _Cache(
            lambda key: rejected.tally(self._attributes[key])
        )
        lag_base = {k: v for k, v in base.items() if k not in (n.OPERATION_NAME, n.OPERATION_TYPE)}
        self._lag_attributes: _Cache[tuple[str, int], dict[str, str | int]] = _Cache(
            lambda key: {**lag_base, n.DESTINATION: key[0], n.PARTITION: str(key[1])}
        )
        # The next offset to read per partition, from this consumer's own progress.
        self._positions: dict[tuple[str, int], int] = {}
        # The message in hand: its span, the context token, the task that holds it.
        self._open: tuple[Span, _Token, asyncio.Task[Any] | None] | None = None
        if metrics is not None:
            metrics.consumers.add(self)

    def next_requested(self) -> None:
        held = self._open
        if held is None:
            return
        self._open = None
        span, token, task = held
        # A context attached in one task cannot be detached from another (e.g. receive()
        # wrapped in wait_for on Python 3.11): there the task's own copy simply ends with it.
        if _current_task() is task:
            otel_context.detach(token)
        span.end()

    def handed_over(self, record: Record) -> None:
        key = (record.topic, record.partition)
        self._positions[key] = record.offset + 1
        tally = self._consumed[key]
        tally[0] += 1
        tally[1] += len(record.value)
        if self._tracer is None:
            return
        self.next_requested()
        parent = self._owner.propagator.extract(record.headers, getter=_GETTER)
        attributes = self._attributes[(record.topic, record.partition, None, None)]
        span = self._tracer.start_span(
            f"process {record.topic}",
            context=parent,
            kind=SpanKind.CONSUMER,
            attributes={**attributes, n.KAFKA_OFFSET: record.offset},
        )
        # Current while the application works on the message: its own spans, and the
        # sends of a pipeline stage, become children of this one.
        token = otel_context.attach(trace.set_span_in_context(span, parent))
        self._open = (span, token, _current_task())

    def rejected(
        self,
        topic: str | None,
        partition: int | None,
        record: Record | None,
        error: BaseException,
        action: str,
    ) -> None:
        key = (topic, partition, _error_type(error), action)
        tally = self._rejected[key]
        tally[0] += 1
        if record is not None:
            tally[1] += len(record.value)
            self._positions[(record.topic, record.partition)] = record.offset + 1
        if self._tracer is not None and record is not None:
            # A short span, so a poison message shows in the trace of whatever sent it.
            parent = self._owner.propagator.extract(record.headers, getter=_GETTER)
            span = self._tracer.start_span(
                f"process {record.topic}",
                context=parent,
                kind=SpanKind.CONSUMER,
                attributes={**self._attributes[key], n.KAFKA_OFFSET: record.offset},
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
