"""A consumer's telemetry: a CONSUMER span per message, metrics, lag."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.metrics import Observation
from opentelemetry.trace import Link, Span, SpanKind

from .._message import WireMessage
from .._transport import FetchedRecord
from . import _names as n
from ._hooks import Highwater
from ._metrics import Tallies
from ._shared import (
    GETTER,
    Cache,
    ContextToken,
    Owner,
    base_attributes,
    current_task,
    error_type,
    fail,
)

__all__ = ["ConsumerTelemetry"]

# Links a batch's span keeps at most (one per distinct sending context).
_MAX_LINKS = 128


# ... and a consumer's: topic, partition, error type, on_error action.
_ConsumerKey = tuple[str | None, int | None, str | None, str | None]


class ConsumerTelemetry:
    """A consumer's messages: a CONSUMER span per message, child of the producer's context and
    current while the application holds the message; metrics; lag for the gauge."""

    def __init__(
        self,
        owner: Owner,
        transport: str,
        group_id: str | None,
        model: type[WireMessage] | None,
        highwater: Highwater,
    ) -> None:
        self._owner = owner
        self._metrics = owner.instruments
        self._tracer = owner.tracer
        self._highwater = highwater
        base = base_attributes(transport, model, "process")
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

        self._attributes: Cache[_ConsumerKey, dict[str, str | int]] = Cache(make)
        metrics = self._metrics
        consumed = metrics.consumed if metrics is not None else Tallies()
        rejected = metrics.rejected if metrics is not None else Tallies()
        self._consumed: Cache[tuple[str, int], list[int]] = Cache(
            lambda key: consumed.tally(self._attributes[(*key, None, None)])
        )
        self._rejected: Cache[_ConsumerKey, list[int]] = Cache(
            lambda key: rejected.tally(self._attributes[key])
        )
        lag_base = {k: v for k, v in base.items() if k not in (n.OPERATION_NAME, n.OPERATION_TYPE)}
        self._lag_attributes: Cache[tuple[str, int], dict[str, str | int]] = Cache(
            lambda key: {**lag_base, n.DESTINATION: key[0], n.PARTITION: str(key[1])}
        )
        # The next offset to read per partition, from this consumer's own progress.
        self._positions: dict[tuple[str, int], int] = {}
        # The message in hand: its span, the context token, the task that holds it.
        self._open: tuple[Span, ContextToken, asyncio.Task[Any] | None] | None = None
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
        if current_task() is task:
            otel_context.detach(token)
        span.end()

    def handed_over(self, record: FetchedRecord) -> None:
        key = (record.topic, record.partition)
        self._positions[key] = record.offset + 1
        tally = self._consumed[key]
        tally[0] += 1
        tally[1] += len(record.value)
        if self._tracer is None:
            return
        self.next_requested()
        parent = self._owner.propagator.extract(record.headers, getter=GETTER)
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
        self._open = (span, token, current_task())

    def handed_over_batch(self, records: Sequence[FetchedRecord]) -> None:
        positions, tallies = self._positions, self._consumed
        for record in records:
            key = (record.topic, record.partition)
            positions[key] = record.offset + 1
            tally = tallies[key]
            tally[0] += 1
            tally[1] += len(record.value)
        if self._tracer is None or not records:
            return
        self.next_requested()
        # One span for the batch, linked to each distinct sending context (a send_batch()
        # puts one context in all its messages, so there are few): extracting per message
        # would cost more than the batch saves.
        links: list[Link] = []
        seen: set[bytes] = set()
        for record in records:
            for name, value in record.headers:
                if name == "traceparent" and value not in seen and len(links) < _MAX_LINKS:
                    seen.add(value)
                    parent = self._owner.propagator.extract(record.headers, getter=GETTER)
                    context = trace.get_current_span(parent).get_span_context()
                    if context.is_valid:
                        links.append(Link(context))
        topics = {record.topic for record in records}
        topic = next(iter(topics)) if len(topics) == 1 else None
        partitions = {record.partition for record in records}
        partition = next(iter(partitions)) if topic is not None and len(partitions) == 1 else None
        attributes = {
            **self._attributes[(topic, partition, None, None)],
            n.BATCH_MESSAGE_COUNT: len(records),
        }
        span = self._tracer.start_span(
            f"process {topic}" if topic is not None else "process",
            kind=SpanKind.CONSUMER,
            attributes=attributes,
            links=links,
        )
        token = otel_context.attach(trace.set_span_in_context(span))
        self._open = (span, token, current_task())

    def rejected(
        self,
        topic: str | None,
        partition: int | None,
        record: FetchedRecord | None,
        error: BaseException,
        action: str,
    ) -> None:
        key = (topic, partition, error_type(error), action)
        tally = self._rejected[key]
        tally[0] += 1
        if record is not None:
            tally[1] += len(record.value)
            self._positions[(record.topic, record.partition)] = record.offset + 1
        if self._tracer is not None and record is not None:
            # A short span, so a poison message shows in the trace of whatever sent it.
            parent = self._owner.propagator.extract(record.headers, getter=GETTER)
            span = self._tracer.start_span(
                f"process {record.topic}",
                context=parent,
                kind=SpanKind.CONSUMER,
                attributes={**self._attributes[key], n.KAFKA_OFFSET: record.offset},
            )
            span.record_exception(error)
            fail(span, error)

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
