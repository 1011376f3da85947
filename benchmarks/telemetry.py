"""What telemetry costs: ``dq_sdk.telemetry`` absent, and on with an OpenTelemetry SDK.

Per payload (the single row and the 200-antenna array; bigger messages only dilute it), twins
interleaved in one run, for awaited sends, for batches and for consumers:

- *before telemetry*: a ``Producer`` whose ``send`` / ``send_batch`` call the sender's inner
  path directly, as the code did before telemetry had a hook in it;
- *off*: the ordinary client, not instrumented: its hooks are ``None`` and skipped;
- *on*: the ordinary client built after ``dq_sdk.telemetry.instrument()`` with the SDK's
  ``MeterProvider`` (an in-memory reader, so nothing is exported during the run) and
  ``TracerProvider`` (every span sampled) with a ``BatchSpanProcessor`` whose exporter drops
  the spans: every metric and span is made as in production, the export costs nothing here;
- *on, traces off* (consumers): metrics only.

``off / before`` is what an application that never calls ``instrument()`` pays; ``on / off``
what it pays with everything on. The consumers read a topic filled by an instrumented
producer, so every message carries a ``traceparent`` that the "on" consumer extracts. The
per-call cost of each hook, without a broker, comes first (:mod:`benchmarks._hook_costs`); the
"estimated" row adds the send hook's cost to the measured time of a send without it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

from dq_sdk import Admin, Consumer, Producer, WireMessage, telemetry
from dq_sdk._headers import describing_headers

from . import _clients
from ._core import CASE_LIMIT_S, Row, Settings, rate, ratio_row
from ._hook_costs import hook_rows
from ._payloads import Payload
from .consumers import _fetch_options as fetch_options

__all__ = ["run"]

AREA = "telemetry"
MEASURED = ("row", "pointing")
TARGETED = "pointing (200 antennas)"  # the bound: at most 5 % at 200-antenna arrays
BEFORE, OFF, ON = "before telemetry", "telemetry off", "telemetry on"
METRICS_ONLY = "telemetry on, traces off"


class _Dropped(SpanExporter):
    """An exporter that accepts every span and keeps none."""

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return SpanExportResult.SUCCESS


class _Providers:
    def __init__(self) -> None:
        self.meters = MeterProvider(metric_readers=[InMemoryMetricReader()])
        self.tracers = TracerProvider()
        self.tracers.add_span_processor(BatchSpanProcessor(_Dropped()))

    def shutdown(self) -> None:
        self.meters.shutdown()
        self.tracers.shutdown()


@contextmanager
def _instrumented(providers: _Providers | None, traces: bool = True) -> Iterator[None]:
    """Clients built inside report to ``providers`` (none when ``None``)."""
    if providers is None:
        yield
        return
    telemetry.instrument(
        meter_provider=providers.meters, tracer_provider=providers.tracers, traces=traces
    )
    try:
        yield
    finally:
        telemetry.uninstrument()


class _Clock:
    def __init__(self) -> None:
        self._start = time.perf_counter()

    def rate(self, count: int) -> float:
        return rate(count, time.perf_counter() - self._start)


async def _interleaved(
    cases: dict[str, Callable[[], Awaitable[float]]], repeats: int
) -> dict[str, float]:
    """Best rate of each case over ``repeats`` rounds, the cases in alternating order round
    by round (no case always runs first after a pause)."""
    best = dict.fromkeys(cases, 0.0)
    names = list(cases)
    for round_ in range(repeats):
        for name in names if round_ % 2 == 0 else names[::-1]:
            async with asyncio.timeout(CASE_LIMIT_S):
                best[name] = max(best[name], await cases[name]())
    return best


class _BeforeTelemetry(Producer[Any]):
    """``Producer`` as it sent before telemetry: straight to the sender's inner path."""

    async def send(self, message: Any, **_: Any) -> Any:
        target = self._topic(None)
        return await self._sender._publish(
            target,
            self.encode(message, topic=target),
            key=None,
            headers=self._headers(),
            partition=None,
            timestamp_ms=None,
        )

    async def send_batch(self, messages: Iterable[Any], **_: Any) -> list[Any]:
        target = self._topic(None)
        return await self._sender._publish_many(
            target,
            self._encode_all(list(messages), target),
            key=None,
            headers=self._headers(),
            partition=None,
        )

    def _headers(self) -> list[tuple[str, bytes]]:
        return describing_headers(self.model.encoding, self.model, None)


def _producer(
    kind: str, payload: Payload, bootstrap: str, topic: str, providers: _Providers
) -> Producer[WireMessage]:
    cls = _BeforeTelemetry if kind == BEFORE else Producer
    with _instrumented(providers if kind == ON else None):
        return cls(payload.model, bootstrap, topic=topic, **payload.options)


async def _sends(producer: Producer[WireMessage], payload: Payload, count: int) -> float:
    messages = payload.cycle(count)
    async with producer:
        clock = _Clock()
        for message in messages:
            await producer.send(message)
        return clock.rate(count)


async def _batch(producer: Producer[WireMessage], payload: Payload, count: int) -> float:
    messages = payload.cycle(count)
    async with producer:
        clock = _Clock()
        await producer.send_batch(messages)
        return clock.rate(count)


async def _consume(consumer: Consumer[WireMessage], count: int) -> float:
    async with consumer:
        clock = _Clock()
        for _ in range(count):
            await consumer.receive(timeout_s=CASE_LIMIT_S)
        return clock.rate(count)


def _producer_cases(
    bootstrap: str,
    admin: Admin,
    payload: Payload,
    providers: _Providers,
    measure: Callable[[Producer[WireMessage], Payload, int], Awaitable[float]],
    count: int,
) -> dict[str, Callable[[], Awaitable[float]]]:
    def case(kind: str) -> Callable[[], Awaitable[float]]:
        async def run_case() -> float:
            async with _clients.fresh_topic(admin, "telemetry") as topic:
                producer = _producer(kind, payload, bootstrap, topic, providers)
                return await measure(producer, payload, count)

        return run_case

    return {kind: case(kind) for kind in (BEFORE, OFF, ON)}


async def _payload_rows(
    bootstrap: str,
    admin: Admin,
    payload: Payload,
    settings: Settings,
    providers: _Providers,
    hook_us: float,
) -> list[Row]:
    sends = await _interleaved(
        _producer_cases(bootstrap, admin, payload, providers, _sends, payload.send_count),
        settings.repeats,
    )
    batches = await _interleaved(
        _producer_cases(bootstrap, admin, payload, providers, _batch, payload.batch_count),
        settings.repeats,
    )
    count, fetch = payload.batch_count, fetch_options(payload)
    async with _clients.fresh_topic(admin, "telemetry-consume") as topic:
        async with _producer(ON, payload, bootstrap, topic, providers) as filler:
            await filler.send_batch(payload.cycle(count))

        def consumer(kind: str) -> Callable[[], Awaitable[float]]:
            def build() -> Consumer[WireMessage]:
                chosen = None if kind == OFF else providers
                with _instrumented(chosen, traces=kind == ON):
                    return Consumer(payload.model, bootstrap, topics=[topic], **fetch)

            return lambda: _consume(build(), count)

        consumers = await _interleaved(
            {kind: consumer(kind) for kind in (OFF, METRICS_ONLY, ON)}, settings.repeats
        )

    target = ">= 0.95" if payload.name == TARGETED else None
    mib = len(payload.wire) / 2**20

    def row(what: str, kind: str, best: dict[str, float]) -> Row:
        figure = best[kind]
        return Row(
            AREA, f"{what}, {kind}", payload.name, figure, "msg/s", extra={"MiB/s": figure * mib}
        )

    rows: list[Row] = []
    for what, best in (("Producer.send", sends), ("Producer.send_batch", batches)):
        before, off, on = (row(what, kind, best) for kind in (BEFORE, OFF, ON))
        rows += [
            before,
            ratio_row(off, before, note="instrument() not called"),
            ratio_row(on, off, target=target),
        ]
        if what == "Producer.send":
            # The same send with the hook's steady cost (no broker, best of many) added.
            seconds = 1 / off.value + hook_us / 1e6
            estimate = Row(AREA, f"{what}, {ON}, estimated", payload.name, 1 / seconds, "msg/s")
            rows.append(ratio_row(estimate, off, note="off's time per send + the send hook's"))
    off, metrics, on = (row("Consumer", kind, consumers) for kind in (OFF, METRICS_ONLY, ON))
    return [*rows, off, ratio_row(metrics, off), ratio_row(on, off)]


async def run(bootstrap: str, payloads: list[Payload], settings: Settings) -> list[Row]:
    providers = _Providers()
    try:
        rows = hook_rows(providers.meters, providers.tracers, settings)
        on, off = (f"send hook, {ON}", "no hook (the send itself)")
        by_case = {row.case: row.value for row in rows}
        hook_us = by_case[on] - by_case[off]
        async with Admin(bootstrap) as admin:
            for payload in payloads:
                if payload.name.startswith(MEASURED):
                    rows += await _payload_rows(
                        bootstrap, admin, payload, settings, providers, hook_us
                    )
    finally:
        providers.shutdown()
    return rows
