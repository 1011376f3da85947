"""Trace context through Kafka, against the real broker, on both transports: a PRODUCER span
per send whose context rides in the ``traceparent`` header, a CONSUMER span per message whose
parent is that context, and one trace across a pipeline's hops."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.trace import SpanContext, SpanKind, StatusCode

from dq_sdk import Consumer, DataQueueProducer, Producer, TransportName, telemetry
from dq_sdk.schemas import PointingNumpyArray

from .conftest import Telemetry

LIMIT_S = 20


def row(name: str, offset: float) -> PointingNumpyArray:
    values: dict[str, object] = dict.fromkeys(PointingNumpyArray.model_fields, 0.5)
    values.update(antenna_name=name, xel_offset=offset)
    return PointingNumpyArray.model_validate(values)


def ctx(span: ReadableSpan) -> SpanContext:
    context = span.get_span_context()
    assert context is not None
    return context


def traceparent(span: ReadableSpan) -> bytes:
    context = ctx(span)
    return f"00-{context.trace_id:032x}-{context.span_id:016x}-{context.trace_flags:02x}".encode()


def one(spans: list[ReadableSpan], name: str) -> ReadableSpan:
    [found] = [s for s in spans if s.name == name]
    return found


async def test_a_send_is_a_producer_span_whose_context_rides_in_the_headers(
    dq_bootstrap: str, dq_topic: str, transport: TransportName, otel: Telemetry
) -> None:
    async with Producer(
        PointingNumpyArray, dq_bootstrap, topic=dq_topic, transport=transport
    ) as producer:
        metadata = await producer.send(row("SKA001", 1e-4), headers={"traceparent": "stale"})
    async with Consumer(
        PointingNumpyArray, dq_bootstrap, topics=[dq_topic], transport=transport
    ) as consumer:
        received = await consumer.receive(timeout_s=LIMIT_S)

    [span] = otel.spans("PRODUCER")
    assert span.name == f"send {dq_topic}"
    attributes = dict(span.attributes or {})
    assert attributes["messaging.system"] == "kafka"
    assert attributes["messaging.operation.type"] == "send"
    assert attributes["messaging.destination.name"] == dq_topic
    assert attributes["messaging.destination.partition.id"] == str(metadata.partition)
    assert attributes["messaging.kafka.offset"] == metadata.offset
    assert attributes["dq_sdk.model"] == "PointingNumpyArray"
    assert span.status.status_code is StatusCode.UNSET

    # The caller's stale traceparent is replaced: one per message, the send's.
    assert [v for k, v in received.headers if k == "traceparent"] == [traceparent(span)]
    [consumed] = otel.spans("CONSUMER")
    assert consumed.parent is not None
    assert consumed.parent.span_id == ctx(span).span_id
    assert ctx(consumed).trace_id == ctx(span).trace_id


async def test_the_header_carries_the_send_span_and_the_consumer_span_is_its_child(
    dq_bootstrap: str, dq_topic: str, transport: TransportName, otel: Telemetry
) -> None:
    async with Producer(
        PointingNumpyArray, dq_bootstrap, topic=dq_topic, transport=transport
    ) as producer:
        await producer.send_batch([row("SKA001", 1e-4), row("SKA002", 2e-4)])
    async with Consumer(
        PointingNumpyArray, dq_bootstrap, topics=[dq_topic], transport=transport
    ) as consumer:
        received = [await consumer.receive(timeout_s=LIMIT_S) for _ in range(2)]
        # While the application holds a message, its span is the current one.
        current = trace.get_current_span().get_span_context()

    send = one(otel.spans("PRODUCER"), f"send {dq_topic}")
    assert dict(send.attributes or {})["messaging.batch.message_count"] == 2
    for message in received:
        assert [v for k, v in message.headers if k == "traceparent"] == [traceparent(send)]
    processes = otel.spans("CONSUMER")
    assert [s.name for s in processes] == [f"process {dq_topic}"] * 2
    assert all(s.parent is not None and s.parent.span_id == ctx(send).span_id for s in processes)
    assert [dict(s.attributes or {})["messaging.kafka.offset"] for s in processes] == [0, 1]
    assert current.span_id == ctx(processes[1]).span_id
    # Leaving the consumer ended the last span and restored the caller's context.
    assert not trace.get_current_span().get_span_context().is_valid


async def test_one_trace_spans_a_pipeline_of_two_kafka_hops(
    dq_bootstrap: str,
    dq_topic_factory: Callable[..., str],
    transport: TransportName,
    otel: Telemetry,
) -> None:
    raw, calibrated = dq_topic_factory(), dq_topic_factory()
    tracer = trace.get_tracer("pipeline-test", tracer_provider=otel.tracer_provider)
    with tracer.start_as_current_span("observation") as root:
        async with Producer(
            PointingNumpyArray, dq_bootstrap, topic=raw, transport=transport
        ) as source:
            await source.send(row("SKA001", 1e-4))
    assert not trace.get_current_span().get_span_context().is_valid

    # The middle stage: consume, work on it (a span of its own), send the result on.
    async with (
        Consumer(PointingNumpyArray, dq_bootstrap, topics=[raw], transport=transport) as stage_in,
        Producer(PointingNumpyArray, dq_bootstrap, topic=calibrated, transport=transport) as out,
    ):
        message = await stage_in.receive(timeout_s=LIMIT_S)
        with tracer.start_as_current_span("calibrate"):
            fixed = message.value.model_copy(update={"xel_offset": 0.0})
        await out.send(fixed)

    async with Consumer(
        PointingNumpyArray, dq_bootstrap, topics=[calibrated], transport=transport
    ) as sink:
        assert (await sink.receive(timeout_s=LIMIT_S)).value.xel_offset == 0.0

    spans = {s.name: s for s in otel.spans()}
    chain = [
        ("observation", None),
        (f"send {raw}", "observation"),
        (f"process {raw}", f"send {raw}"),
        ("calibrate", f"process {raw}"),
        (f"send {calibrated}", f"process {raw}"),
        (f"process {calibrated}", f"send {calibrated}"),
    ]
    assert len(otel.spans()) == len(chain)
    for name, parent in chain:
        span = spans[name]
        assert ctx(span).trace_id == root.get_span_context().trace_id, name
        if parent is None:
            assert span.parent is None
        else:
            assert span.parent is not None and span.parent.span_id == ctx(spans[parent]).span_id
    assert spans[f"send {raw}"].kind is SpanKind.PRODUCER
    assert spans[f"process {calibrated}"].kind is SpanKind.CONSUMER


async def test_a_bad_message_gets_an_error_span_in_its_senders_trace(
    dq_bootstrap: str, dq_topic: str, transport: TransportName, otel: Telemetry
) -> None:
    async with DataQueueProducer(dq_bootstrap, topic=dq_topic, transport=transport) as raw:
        await raw.send(b"\xc1 not msgpack")
    async with Consumer(
        PointingNumpyArray, dq_bootstrap, topics=[dq_topic], transport=transport, on_error="skip"
    ) as consumer:
        with pytest.raises(TimeoutError):
            await consumer.receive(timeout_s=1.0)
    send = one(otel.spans("PRODUCER"), f"send {dq_topic}")
    [process] = otel.spans("CONSUMER")
    assert process.parent is not None and process.parent.span_id == ctx(send).span_id
    assert process.status.status_code is StatusCode.ERROR
    attributes = dict(process.attributes or {})
    assert attributes["error.type"] == "DecodeError"
    assert attributes["dq_sdk.on_error"] == "skip"


async def test_traces_off_sends_no_trace_context(
    dq_bootstrap: str, dq_topic: str, transport: TransportName, otel: Telemetry
) -> None:
    telemetry.instrument(
        meter_provider=otel.meter_provider, tracer_provider=otel.tracer_provider, traces=False
    )
    async with Producer(
        PointingNumpyArray, dq_bootstrap, topic=dq_topic, transport=transport
    ) as producer:
        await producer.send(row("SKA001", 1e-4))
    async with Consumer(
        PointingNumpyArray, dq_bootstrap, topics=[dq_topic], transport=transport
    ) as consumer:
        received = await consumer.receive(timeout_s=LIMIT_S)
    assert "traceparent" not in dict(received.headers)
    assert otel.spans() == []
    assert otel.total("messaging.client.sent.messages") == 1  # metrics still on


def test_instrument_checks_its_arguments() -> None:
    with pytest.raises(TypeError, match=r"meter_provider.*MeterProvider.*str"):
        telemetry.instrument(meter_provider="http://collector:4317")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"tracer_provider.*TracerProvider"):
        telemetry.instrument(tracer_provider=object())  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"traces=\.\.\.\) must be True or False, not 'no'"):
        telemetry.instrument(traces="no")  # type: ignore[arg-type]
    assert not telemetry.is_instrumented()
    telemetry.instrument(tracer_provider=TracerProvider())
    try:
        assert telemetry.is_instrumented()
    finally:
        telemetry.uninstrument()
    assert not telemetry.is_instrumented()
