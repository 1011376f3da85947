"""The message models the command knows, by class name (``--model``) and by schema ``$id``
(the ``dq-schema-id`` header of a message)."""

from __future__ import annotations

from typing import Any

from .. import schemas
from .._message import WireMessage
from .._models import StructuredArray
from .._models._base import Message
from .._models._structured import StructuredRow
from ._common import UsageError

__all__ = ["MODELS", "array_of", "model_for_schema", "model_named", "wire_model"]


def _generated_models() -> dict[str, type[WireMessage]]:
    found: dict[str, type[WireMessage]] = {}
    for name in schemas.__all__:
        value = getattr(schemas, name)
        if isinstance(value, type) and issubclass(value, Message) and "schema_id" in dir(value):
            found[name] = value
    return found


#: Every generated message model (``dq_sdk.schemas``), by class name.
MODELS: dict[str, type[WireMessage]] = _generated_models()


def model_named(name: str) -> type[WireMessage]:
    """The model called ``name`` (case does not matter), or a usage error listing them all."""
    for known, model in MODELS.items():
        if known.lower() == name.lower():
            return model
    raise UsageError(f"--model {name!r} is not a known model; known: {', '.join(sorted(MODELS))}")


def model_for_schema(schema_id: str) -> type[WireMessage] | None:
    """The model whose schema ``$id`` a message's header names, if dq-sdk has it."""
    for model in MODELS.values():
        if model.schema_id == schema_id:
            return model
    return None


def wire_model(model: type[WireMessage]) -> type[WireMessage]:
    """What a message of ``model`` is read as: a row model's messages are whole arrays."""
    if isinstance(model, type) and issubclass(model, StructuredRow):
        return array_of(model)
    return model


def array_of(row: type[StructuredRow]) -> type[StructuredArray[Any]]:
    """``StructuredArray[row]`` for a row model known only at run time."""
    made: type[StructuredArray[Any]] = StructuredArray.__class_getitem__(row)
    return made
