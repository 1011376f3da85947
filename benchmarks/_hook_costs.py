"""What each telemetry hook costs per call, without a broker: the steady part of the
``telemetry`` area.

The hooks are timed around a send that completes at once (a coroutine that never suspends,
driven by hand), so the figure is the hooks' own work: span, context injection, histogram and
tallies for a producer; context extraction, span, attach and detach and tallies for a consumer.
Each is the best of several interleaved loops, which filters out the moments the machine was
busy elsewhere: on a shared machine this is the steadier figure, and the broker twins of
:mod:`benchmarks.telemetry` show what it adds up to in a real send.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased

from dq_sdk import telemetry
from dq_sdk._transport import FetchedRecord
from dq_sdk.schemas import PointingNumpyArray
from dq_sdk.telemetry import _hooks

from ._core import Row, Settings, best_times

__all__ = ["hook_rows"]

AREA = "telemetry"
BATCH = 2000
_TRACEPARENT = "00-e06e7be27f99c8f2b698fffcb0eeceab-89e1c98016520174-{flags}"


@dataclass(frozen=True)
class _Delivered:
    topic: str = "topic"
    partition: int = 0
    offset: int = 0
    timestamp: int = 0


_ONE = _Delivered()
_MANY = [_ONE] * BATCH


async def _sent(_headers: Any) -> Any:
    return _ONE


async def _sent_many(_headers: Any) -> Any:
    return _MANY


def _drive(coroutine: Coroutine[Any, Any, Any]) -> None:
    """Run a coroutine that never suspends to its end, without an event loop."""
    try:
        coroutine.send(None)
    except StopIteration:
        return
    raise RuntimeError("a timed hook suspended")


def _record(sampled: bool) -> FetchedRecord:
    traceparent = _TRACEPARENT.format(flags="01" if sampled else "00").encode()
    headers = (("dq-encoding", b"msgpack_numpy"), ("traceparent", traceparent))
    return FetchedRecord("topic", 0, 0, 0, None, b"x" * 600, headers)


def _cases(meters: Any, tracers: Any, sampled: TracerProvider) -> dict[str, Callable[[], object]]:
    headers = [("dq-encoding", b"msgpack_numpy")]
    sizes = [600] * BATCH
    cases: dict[str, Callable[[], object]] = {
        "no hook (the send itself)": lambda: _drive(_sent(headers)),
    }
    variants = (
        ("telemetry on", tracers, True, True),
        ("telemetry on, traces off", tracers, False, True),
        ("telemetry on, 1 % of traces sampled", sampled, True, False),
    )
    for label, tracer_provider, traces, parent_sampled in variants:
        telemetry.instrument(meter_provider=meters, tracer_provider=tracer_provider, traces=traces)
        try:
            producer = _hooks.producer_hooks("aiokafka", PointingNumpyArray)
            consumer = _hooks.consumer_hooks("aiokafka", None, PointingNumpyArray, lambda t, p: 1)
        finally:
            telemetry.uninstrument()
        assert producer is not None and consumer is not None
        record = _record(parent_sampled)

        def send(hooks: Any = producer, call: Callable[[Any], Awaitable[Any]] = _sent) -> None:
            _drive(hooks.send("topic", 600, headers, call))

        def batch(hooks: Any = producer) -> None:
            _drive(hooks.send_many("topic", sizes, headers, _sent_many))

        def receive(hooks: Any = consumer, record: FetchedRecord = record) -> None:
            hooks.next_requested()
            hooks.handed_over(record)

        cases[f"send hook, {label}"] = send
        cases[f"send_batch hook per message, {label}"] = batch
        cases[f"consumer hook, {label}"] = receive
    return cases


def hook_rows(meters: Any, tracers: Any, settings: Settings) -> list[Row]:
    sampled = TracerProvider(sampler=ParentBased(TraceIdRatioBased(0.01)))
    try:
        best = best_times(
            _cases(meters, tracers, sampled), settings.micro_seconds, settings.repeats
        )
    finally:
        sampled.shutdown()
    rows = []
    for case, seconds in best.items():
        per_call = seconds / BATCH if case.startswith("send_batch") else seconds
        rows.append(Row(AREA, case, "(no broker)", per_call * 1e6, "µs"))
    return rows
