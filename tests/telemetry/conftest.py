"""Telemetry set-up: OpenTelemetry SDK providers with the in-memory metric reader and span
exporter, handed to ``dq_sdk.telemetry.instrument()`` for one test and taken back after it."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from dq_sdk import telemetry


@dataclass
class Telemetry:
    """What the clients of one test reported."""

    reader: InMemoryMetricReader
    exporter: InMemorySpanExporter
    meter_provider: MeterProvider
    tracer_provider: TracerProvider

    def points(self, name: str) -> list[tuple[dict[str, Any], Any]]:
        """Every data point of metric ``name``: (its attributes, the point)."""
        data = self.reader.get_metrics_data()
        found: list[tuple[dict[str, Any], Any]] = []
        if data is None:
            return found
        for resource in data.resource_metrics:
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    if metric.name == name:
                        found += [(dict(p.attributes or {}), p) for p in metric.data.data_points]
        return found

    def total(self, name: str, where: Mapping[str, Any] | None = None) -> int:
        """The sum of a counter over its points whose attributes include ``where``."""
        return sum(p.value for a, p in self.points(name) if _includes(a, where or {}))

    def spans(self, kind_name: str | None = None) -> list[ReadableSpan]:
        spans = list(self.exporter.get_finished_spans())
        return [s for s in spans if kind_name is None or s.kind.name == kind_name]


def _includes(attributes: Mapping[str, Any], wanted: Mapping[str, Any]) -> bool:
    return all(attributes.get(key) == value for key, value in wanted.items())


@pytest.fixture
def otel() -> Iterator[Telemetry]:
    reader = InMemoryMetricReader()
    meters = MeterProvider(metric_readers=[reader])
    exporter = InMemorySpanExporter()
    tracers = TracerProvider()
    tracers.add_span_processor(SimpleSpanProcessor(exporter))
    telemetry.instrument(meter_provider=meters, tracer_provider=tracers)
    try:
        yield Telemetry(reader, exporter, meters, tracers)
    finally:
        telemetry.uninstrument()
        meters.shutdown()
        tracers.shutdown()
