"""The contract between message models and the typed endpoints.

``Producer[M]`` and ``Consumer[M]`` need only this from a model class ``M``; the generated
models in :mod:`dq_sdk.schemas` get it from the hand-written bases in :mod:`dq_sdk._models`,
and users may write their own classes that satisfy it.
"""

from __future__ import annotations

from typing import ClassVar, Protocol, Self, runtime_checkable

from ._exceptions import InvalidArgumentError
from .codecs import Encoding

__all__ = ["WireMessage", "check_model"]


@runtime_checkable
class WireMessage(Protocol):
    """A typed message: knows its encoding, its schema identity, and its wire value."""

    #: Encoding used on the wire for this model.
    encoding: ClassVar[Encoding]
    #: The ``$id`` of the JSON Schema the model was generated from.
    schema_id: ClassVar[str]
    #: The schema's version (``x-version``), e.g. ``"1.0.0"``.
    schema_version: ClassVar[str]

    def to_wire(self) -> object:
        """The value handed to the codec (a structured array, a Dataset, a dict...)."""
        ...

    @classmethod
    def from_wire(cls, value: object) -> Self:
        """Build a validated instance from a decoded wire value.

        Raises :class:`dq_sdk.MessageValidationError` listing every issue.
        """
        ...


def check_model(model: object, owner: str) -> None:
    """Refuse, at construction, a ``model`` argument that is not a message model class.

    Without this, ``Producer(dict, ...)`` would fail only at the first send, inside encoding.
    """
    is_model = (
        isinstance(model, type)
        and isinstance(getattr(model, "encoding", None), Encoding)
        and isinstance(getattr(model, "schema_id", None), str)
        and isinstance(getattr(model, "schema_version", None), str)
        and callable(getattr(model, "to_wire", None))
        and callable(getattr(model, "from_wire", None))
    )
    if not is_model:
        name = getattr(model, "__name__", None) or repr(model)
        kind = "class" if isinstance(model, type) else type(model).__name__
        raise InvalidArgumentError(
            f"{owner}({name}, ...): the {kind} {name} is not a message model; pass a model class "
            "from dq_sdk.schemas, or any class with encoding, schema_id, schema_version, "
            "to_wire() and from_wire()"
        )
