"""The bases every generated model subclasses: ``Record`` (a frozen value) and ``Message``.

Generated classes in :mod:`dq_sdk.schemas` only declare fields and ClassVars; what a model
*does* (wire value, validation, equality) lives here and in the family bases beside this module.
"""

from __future__ import annotations

import math
from abc import abstractmethod
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar, Self

import numpy as np
from pydantic import BaseModel, ConfigDict, ValidationError

from .._exceptions import MessageValidationError, SchemaIssue
from ..codecs import Encoding

__all__ = ["Message", "Record", "issue_path", "issues_from_pydantic", "raise_issues"]


class Record(BaseModel):
    """A frozen value model: nested parts of a message (``SpectralWindow``, metric items...).

    Equality is by value and treats NaN as equal to NaN and arrays by content, so that
    ``decode(encode(m)) == m`` holds for failed fits (NaN) and for array-valued fields.
    """

    model_config = ConfigDict(frozen=True)

    #: Every ``x-*`` keyword of the schema object the class was generated from.
    schema_extensions: ClassVar[dict[str, Any]] = {}

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, BaseModel):
            return NotImplemented
        return (
            type(self) is type(other)
            and _same(self.__dict__, other.__dict__)
            and _same(self.__pydantic_extra__, other.__pydantic_extra__)
        )

    def __hash__(self) -> int:
        return hash((type(self), _frozen(self.__dict__)))


class Message(Record):
    """A typed Kafka message: satisfies :class:`dq_sdk.WireMessage`.

    The generated class sets the three ClassVars from its schema (``x-encoding``, ``$id``,
    ``x-version``); the family base implements ``to_wire`` / ``from_wire``.
    """

    encoding: ClassVar[Encoding]
    schema_id: ClassVar[str]
    schema_version: ClassVar[str]

    @abstractmethod
    def to_wire(self) -> object:
        """The value handed to the codec of ``encoding``."""

    @classmethod
    @abstractmethod
    def from_wire(cls, value: object) -> Self:
        """Validate a decoded wire value; raise MessageValidationError listing every issue."""


def issue_path(loc: Iterable[int | str]) -> str:
    """``("data", 2, "power")`` -> ``"data[2].power"``."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else part
    return path


def issues_from_pydantic(error: ValidationError) -> list[SchemaIssue]:
    """One :class:`SchemaIssue` per pydantic line error, with a dotted/indexed field path."""
    issues = []
    for detail in error.errors(include_url=False):
        path = issue_path(detail["loc"])
        expected = detail.get("ctx", {}).get("expected")
        found = detail["input"] if _is_scalar(detail["input"]) else type(detail["input"]).__name__
        if detail["type"] == "missing":
            found = None
        issues.append(SchemaIssue(path, detail["msg"], found=found, expected=expected))
    return issues


def raise_issues(schema_name: str, issues: Iterable[SchemaIssue]) -> None:
    """Raise one MessageValidationError holding every issue, if there is any."""
    collected = list(issues)
    if collected:
        raise MessageValidationError(schema_name, collected)


def _is_scalar(value: object) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def _same(a: object, b: object) -> bool:
    identical = getattr(a, "identical", None)
    if identical is not None and type(a) is type(b):
        # xarray objects: same values (NaN equal to NaN), dims, coords and attrs.
        return bool(identical(b))
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return _same_array(a, b)
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return type(a) is type(b) and len(a) == len(b) and all(map(_same, a, b))
    return bool(a == b)


def _same_array(a: object, b: object) -> bool:
    if not (isinstance(a, np.ndarray) and isinstance(b, np.ndarray)):
        return False
    if a.dtype != b.dtype or a.shape != b.shape:
        return False
    if a.dtype.kind in "fc":
        return bool(np.array_equal(a, b, equal_nan=True))
    return bool(np.array_equal(a, b))


def _frozen(value: object) -> object:
    """A hashable stand-in consistent with ``_same`` (NaN hashes alike; arrays by bytes)."""
    if isinstance(value, float) and math.isnan(value):
        return "nan"
    if isinstance(value, np.ndarray):
        # One NaN and one zero: equal arrays must hash alike whatever their bits.
        canonical = (
            np.where(np.isnan(value), np.nan, value + 0.0) if value.dtype.kind == "f" else value
        )
        return (value.dtype.str, value.shape, np.ascontiguousarray(canonical).tobytes())
    if isinstance(value, Mapping):
        return tuple((k, _frozen(v)) for k, v in value.items())
    if isinstance(value, list | tuple):
        return tuple(_frozen(v) for v in value)
    return value
