"""What a compatibility check finds: differences, breaking changes and per-schema reports.

The comparison engine works in one direction at a time, as Schema Registry's does: a *writer*
schema (the version the data was written with) against a *reader* schema (the version a consumer
reads it with). BACKWARD checks the new schema reading old data, FORWARD the old schema reading
new data, FULL both.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

__all__ = [
    "BreakingChange",
    "CompatMode",
    "CompatPolicy",
    "Difference",
    "Direction",
    "SchemaReport",
]

Direction = Literal["backward", "forward"]


class CompatMode(StrEnum):
    """Which readers must keep working (Schema Registry's compatibility types)."""

    #: Consumers of the new schema read data written with the old one (the default).
    BACKWARD = "backward"
    #: Consumers of the old schema read data written with the new one.
    FORWARD = "forward"
    #: Both.
    FULL = "full"

    @property
    def directions(self) -> tuple[Direction, ...]:
        if self is CompatMode.BACKWARD:
            return ("backward",)
        if self is CompatMode.FORWARD:
            return ("forward",)
        return ("backward", "forward")


class CompatPolicy(StrEnum):
    """How plain JSON Schema property additions are judged.

    ``strict`` is Schema Registry's rule: adding a property to an *open* content model is
    incompatible, because an old writer may have sent that name with any value.
    ``lenient`` (dq-sdk's default) assumes writers send only the properties their schema
    declares - true of every dq-sdk model, which drops undeclared keys - so adding a property
    to an open model is compatible. Everything else is judged the same way by both.
    """

    STRICT = "strict"
    LENIENT = "lenient"


@dataclass(frozen=True)
class Difference:
    """One difference between a writer and a reader schema, in one direction.

    ``kind`` is Schema Registry's name for it (``REQUIRED_ATTRIBUTE_ADDED``...) or dq-sdk's for
    its extension keywords (``ENCODING_CHANGED``, ``DTYPE_FIELD_CHANGED``...); ``path`` is a JSON
    Pointer into the schema document (``#/properties/data/items``).
    """

    kind: str
    path: str
    reason: str


@dataclass(frozen=True)
class BreakingChange:
    """A difference that breaks readers in ``direction``: ``backward`` means consumers of the
    new version fail on data of the old one (``reader`` / ``writer`` are the two versions)."""

    schema: str
    path: str
    kind: str
    reason: str
    direction: Direction
    reader: str
    writer: str

    def __str__(self) -> str:
        return (
            f"{self.schema} {self.path}: {self.reason} "
            f"[{self.kind}; {self.direction}: version {self.reader} reading "
            f"version {self.writer} data]"
        )


@dataclass(frozen=True)
class SchemaReport:
    """The result for one schema: which versions it was compared with and what breaks."""

    schema: str
    version: str | None
    compared_with: tuple[str, ...]
    breaking: tuple[BreakingChange, ...]
    note: str = ""

    @property
    def compatible(self) -> bool:
        return not self.breaking
