"""Metrics and trace context through OpenTelemetry (the ``otel`` extra).

``dq_sdk.telemetry.instrument()`` once at start-up, after the application has set up its
OpenTelemetry SDK and exporters; every producer and consumer built afterwards then reports
message and byte counts, send and processing durations and consumer lag, and carries the
W3C trace context (``traceparent``) in its messages' headers, so one trace follows a message
through a pipeline's Kafka hops. See ``docs/observability.md`` for names and attributes.

Without ``instrument()`` dq-sdk imports nothing of OpenTelemetry, and clients skip every hook.
"""

from __future__ import annotations

import typing

from .. import _exceptions
from . import _hooks
from ._names import (
    CONSUMED_BYTES,
    CONSUMED_MESSAGES,
    CONSUMER_LAG,
    OPERATION_DURATION,
    REJECTED_BYTES,
    REJECTED_MESSAGES,
    SENT_BYTES,
    SENT_MESSAGES,
)

if typing.TYPE_CHECKING:
    from opentelemetry.metrics import MeterProvider
    from opentelemetry.propagators.textmap import TextMapPropagator
    from opentelemetry.trace import TracerProvider

__all__ = [
    "CONSUMED_BYTES",
    "CONSUMED_MESSAGES",
    "CONSUMER_LAG",
    "OPERATION_DURATION",
    "REJECTED_BYTES",
    "REJECTED_MESSAGES",
    "SENT_BYTES",
    "SENT_MESSAGES",
    "instrument",
    "is_instrumented",
    "uninstrument",
]


def instrument(
    *,
    meter_provider: MeterProvider | None = None,
    tracer_provider: TracerProvider | None = None,
    propagator: TextMapPropagator | None = None,
    metrics: bool = True,
    traces: bool = True,
) -> None:
    """Report telemetry from every producer and consumer built from now on.

    ``meter_provider`` / ``tracer_provider``: where metrics and spans go (default: the global
    providers, as set with ``opentelemetry.metrics.set_meter_provider`` and
    ``opentelemetry.trace.set_tracer_provider``). ``propagator``: how trace context is
    written to and read from headers (default: the global one, W3C ``traceparent`` and
    ``baggage`` unless the application changed it). ``metrics=False`` or ``traces=False``
    turns that half off; with ``traces=False`` no span is made and no context is carried.
    Calling it again replaces the settings for clients built afterwards.
    """
    for name, flag in (("metrics", metrics), ("traces", traces)):
        if not isinstance(flag, bool):
            raise TypeError(f"instrument({name}=...) must be True or False, not {flag!r}")
    try:
        from opentelemetry import metrics as otel_metrics
        from opentelemetry import trace as otel_trace
        from opentelemetry.propagators.textmap import TextMapPropagator
    except ImportError:
        raise _exceptions.MissingDependencyError(
            "opentelemetry-api", "otel", "dq_sdk.telemetry.instrument()"
        ) from None
    for name, value, kind in (
        ("meter_provider", meter_provider, otel_metrics.MeterProvider),
        ("tracer_provider", tracer_provider, otel_trace.TracerProvider),
        ("propagator", propagator, TextMapPropagator),
    ):
        if value is not None and not isinstance(value, kind):
            raise TypeError(
                f"instrument({name}=...) must be an OpenTelemetry {kind.__name__} or None, "
                f"not {type(value).__name__}"
            )
    from ._otel import OtelInstrumentation

    _hooks.activate(
        OtelInstrumentation(
            meter_provider=meter_provider,
            tracer_provider=tracer_provider,
            propagator=propagator,
            metrics=metrics,
            traces=traces,
        )
    )


def uninstrument() -> None:
    """Clients built from now on report nothing; those built before keep reporting."""
    _hooks.activate(None)


def is_instrumented() -> bool:
    """Whether clients built now report telemetry."""
    return _hooks.active() is not None
