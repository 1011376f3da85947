"""What the OpenTelemetry side of dq-sdk's telemetry shares: attribute sets built once and
kept, header access for propagators, error names, span endings."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from contextvars import Token
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from opentelemetry.context import Context
from opentelemetry.propagators.textmap import Getter, TextMapPropagator
from opentelemetry.trace import Span, Status, StatusCode, Tracer

from .._message import WireMessage
from . import _names as n
from ._hooks import Headers

if TYPE_CHECKING:
    from ._metrics import Instruments

__all__ = [
    "GETTER",
    "KAFKA",
    "SCOPE",
    "Attributes",
    "Cache",
    "ContextToken",
    "HeaderGetter",
    "Owner",
    "base_attributes",
    "current_task",
    "error_type",
    "fail",
    "version",
]

SCOPE = "dq_sdk"
KAFKA = "kafka"
# Values kept per client; past this many distinct keys (a client writing to ever new topics)
# they are built per use instead of kept.
CACHE_LIMIT = 4096

Attributes = Mapping[str, str | int]
ContextToken = Token[Context]
_K = TypeVar("_K")


class Owner(Protocol):
    """What a client's telemetry reads from the instrumentation that made it."""

    instruments: Instruments | None
    tracer: Tracer | None

    @property
    def propagator(self) -> TextMapPropagator: ...


def version() -> str:
    from .. import __version__

    return __version__


class HeaderGetter(Getter[Headers]):
    """Reads text-map fields (``traceparent``...) from Kafka's (name, bytes) header pairs."""

    def get(self, carrier: Headers, key: str) -> list[str] | None:
        values = [value.decode("utf-8", "replace") for name, value in carrier if name == key]
        return values or None

    def keys(self, carrier: Headers) -> list[str]:
        return [name for name, _ in carrier]


GETTER = HeaderGetter()


def error_type(error: BaseException) -> str:
    return type(error).__qualname__


_V = TypeVar("_V")


class Cache(dict[_K, _V]):
    """Values by key, built by ``make`` on first use; past ``CACHE_LIMIT`` keys (a client
    writing to ever new topics) built per use instead of kept."""

    def __init__(self, make: Callable[[_K], _V]) -> None:
        super().__init__()
        self._make = make

    def __missing__(self, key: _K) -> _V:
        value = self._make(key)
        if len(self) < CACHE_LIMIT:
            self[key] = value
        return value


def base_attributes(
    transport: str, model: type[WireMessage] | None, operation: str
) -> dict[str, str | int]:
    base: dict[str, str | int] = {
        n.SYSTEM: KAFKA,
        n.OPERATION_NAME: operation,
        n.OPERATION_TYPE: operation,
        n.TRANSPORT: transport,
    }
    if model is not None:
        base[n.MODEL] = model.__name__
    return base


def fail(span: Span | None, error: BaseException) -> None:
    if span is not None:
        span.set_attribute(n.ERROR_TYPE, error_type(error))
        span.set_status(Status(StatusCode.ERROR, str(error) or error_type(error)))
        span.end()


def current_task() -> asyncio.Task[Any] | None:
    try:
        return asyncio.current_task()
    except RuntimeError:  # no running loop
        return None
