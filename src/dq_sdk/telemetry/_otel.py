"""dq-sdk's telemetry on the OpenTelemetry API: metrics, spans, trace context in headers.

Loaded only by :func:`dq_sdk.telemetry.instrument`; everything else in dq-sdk reaches it
through the hook protocols of :mod:`dq_sdk.telemetry._hooks`. Attribute sets are built once
per (topic, partition, outcome) and kept: the SDK checks and hashes every attribute of every
measurement and span, and building them per message would cost more again.
"""

from __future__ import annotations

from opentelemetry import propagate, trace
from opentelemetry.metrics import MeterProvider
from opentelemetry.metrics import get_meter_provider as global_meter_provider
from opentelemetry.propagators.textmap import TextMapPropagator
from opentelemetry.trace import Tracer, TracerProvider

from .._message import WireMessage
from ._hooks import ConsumerHooks, Highwater, ProducerHooks
from ._metrics import instruments_for
from ._receiving import ConsumerTelemetry
from ._sending import ProducerTelemetry
from ._shared import SCOPE, version

__all__ = ["OtelInstrumentation"]


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
            instruments_for(meter_provider or global_meter_provider()) if metrics else None
        )
        self.tracer: Tracer | None = (
            trace.get_tracer(SCOPE, version(), tracer_provider) if traces else None
        )
        self._propagator = propagator

    @property
    def propagator(self) -> TextMapPropagator:
        # The global one is looked up each time: an application may set it after instrument().
        return self._propagator or propagate.get_global_textmap()

    def producer(self, transport: str, model: type[WireMessage] | None) -> ProducerHooks:
        return ProducerTelemetry(self, transport, model)

    def consumer(
        self,
        transport: str,
        group_id: str | None,
        model: type[WireMessage] | None,
        highwater: Highwater,
    ) -> ConsumerHooks:
        return ConsumerTelemetry(self, transport, group_id, model, highwater)
