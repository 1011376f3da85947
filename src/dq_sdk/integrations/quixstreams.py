"""Quix Streams serializers for dq-sdk models: typed messages in an ``Application``.

``ModelDeserializer(PointingNumpyArray)`` turns each Kafka value into a validated
``PointingNumpyArray``, after checking the message's ``dq-*`` headers exactly as
``Consumer[PointingNumpyArray]`` does; ``ModelSerializer(M)`` validates and encodes ``M``
values and adds the same self-describing headers a ``Producer[M]`` sends, so messages written
by a Quix app are read by dq-sdk consumers (and the SKA library) and the other way round::

    from quixstreams import Application
    from dq_sdk.integrations.quixstreams import ModelDeserializer, ModelSerializer

    app = Application(broker_address="localhost:9092", consumer_group="pointing-means")
    rows = app.topic("pointing_offset", value_deserializer=ModelDeserializer(PointingNumpyArray))

Errors become Quix's own ``SerializationError`` with the dq-sdk error (naming topic, field and
what is allowed) as ``__cause__``; ``ModelDeserializer(M, on_error="skip")`` logs a bad message
and skips it (Quix's ``IgnoreMessage``) instead of stopping the application.

Needs the ``quix`` extra (``quixstreams``, which brings ``confluent-kafka < 2.13``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any, Generic, Literal, TypeVar

from .._consumer import check_announced_model
from .._exceptions import DQError, MissingDependencyError
from .._headers import model_headers
from .._message import WireMessage, check_model
from .._validation import validate
from ..codecs import decode, encode

try:
    from quixstreams.models.serializers import (
        Deserializer,
        IgnoreMessage,
        SerializationContext,
        SerializationError,
        Serializer,
    )
except ImportError:  # pragma: no cover - exercised only without the extra
    raise MissingDependencyError("quixstreams", "quix", "dq_sdk.integrations.quixstreams") from None

__all__ = ["ModelDeserializer", "ModelSerializer"]

M = TypeVar("M", bound=WireMessage)

logger = logging.getLogger("dq_sdk.integrations.quixstreams")


class ModelSerializer(Serializer, Generic[M]):
    """Validate (unless ``validate=False``) and encode values of ``model`` for a Quix topic."""

    def __init__(self, model: type[M], *, validate: bool = True) -> None:
        check_model(model, "ModelSerializer")
        self.model = model
        self.validate = validate
        self._headers: dict[str, str | bytes] = dict(model_headers(model.encoding, model))

    @property
    def extra_headers(self) -> dict[str, str | bytes]:
        """The ``dq-*`` headers a ``Producer[M]`` sends: encoding, schema id and version."""
        return self._headers

    def __call__(self, value: object, ctx: SerializationContext) -> bytes:
        if not isinstance(value, self.model):
            raise SerializationError(
                f"topic {ctx.topic!r}: ModelSerializer({self.model.__name__}) cannot serialize "
                f"a {type(value).__name__}; build a {self.model.__name__} first"
            )
        try:
            wire = value.to_wire()
            if self.validate:
                validate(wire, self.model)
            return encode(wire, self.model.encoding)
        except DQError as exc:
            exc.located(topic=ctx.topic)
            raise SerializationError(str(exc)) from exc


class ModelDeserializer(Deserializer, Generic[M]):
    """Decode and validate each Kafka value of a Quix topic into a ``model`` instance.

    ``on_error="raise"`` (default) stops the application on a bad message, as Quix does for
    its own deserializers; ``"skip"`` logs it with its topic and reason and goes on.
    """

    def __init__(self, model: type[M], *, on_error: Literal["raise", "skip"] = "raise") -> None:
        check_model(model, "ModelDeserializer")
        if on_error not in ("raise", "skip"):
            raise ValueError(f"on_error must be 'raise' or 'skip', not {on_error!r}")
        self.model = model
        self.on_error = on_error

    def __call__(self, value: bytes, ctx: SerializationContext) -> M:
        try:
            check_announced_model(_as_header_pairs(ctx.headers), self.model)
            return self.model.from_wire(decode(value, self.model.encoding))
        except DQError as exc:
            exc.located(topic=ctx.topic)
            if self.on_error == "skip":
                logger.warning("skipping a bad message: %s", exc)
                raise IgnoreMessage(str(exc)) from exc
            raise SerializationError(str(exc)) from exc


def _as_header_pairs(headers: Any) -> tuple[tuple[str, bytes], ...]:
    """Quix hands headers as confluent's list of pairs, a mapping, or ``None``."""
    if not headers:
        return ()
    pairs: Sequence[tuple[str, Any]] = (
        list(headers.items()) if isinstance(headers, Mapping) else headers
    )
    return tuple(
        (name, value.encode() if isinstance(value, str) else bytes(value or b""))
        for name, value in pairs
    )
