"""Dict-shaped messages (``msgpack_numpy`` maps) such as ``MetricPayload``.

Large float lists travel as numpy arrays: :data:`FloatArray` accepts a list or a 1-d numeric
array, keeps arrays as arrays (no copy for float64), and gives the array back for msgpack and a
list for JSON. A schema's ``x-items-by`` keyword says which item model a tag field selects
(``data_type: "spectrum"`` -> ``SpectrumItem`` items); the items are validated against that one
model, so an error reads ``data[2].power: Field required`` rather than one line per union member.
"""

from __future__ import annotations

import numbers
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, Self

import numpy as np
import numpy.typing as npt
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ModelWrapValidatorHandler,
    PlainSerializer,
    PlainValidator,
    SerializationInfo,
    ValidationError,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from .._exceptions import MessageValidationError, SchemaIssue
from ._base import Message, Record, issues_from_pydantic

__all__ = [
    "FloatArray",
    "Identifier",
    "JsonFloat",
    "ItemsRule",
    "RecordMessage",
    "RequiredAnyRecord",
    "UtcTimestamp",
]


def _float_array(value: object) -> npt.NDArray[np.float64]:
    if isinstance(value, np.ndarray):
        if value.ndim != 1:
            raise ValueError(f"expected a 1-d array, found shape {value.shape}")
        if value.dtype.kind not in "fiu":
            raise ValueError(f"expected a real numeric array, found dtype {value.dtype}")
        # float64 arrays (what msgpack_numpy decodes) are kept as they are, views included.
        return value if value.dtype == np.float64 else value.astype(np.float64)
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            if isinstance(item, bool) or not isinstance(item, numbers.Real):
                raise ValueError(f"item [{index}] is not a number: {item!r}")
        return np.asarray(value, dtype=np.float64)
    raise ValueError(
        f"expected a list of numbers or a 1-d float array, found {type(value).__name__}"
    )


def _wire_array(value: npt.NDArray[np.float64], info: SerializationInfo) -> object:
    return value if info.mode == "python" else value.tolist()


#: A 1-d float64 array; accepts a list of numbers or a 1-d real numeric ndarray.
FloatArray = Annotated[
    npt.NDArray[np.float64],
    PlainValidator(_float_array),
    PlainSerializer(_wire_array, return_type=Any),
    WithJsonSchema({"type": "array", "items": {"type": "number"}}),
]


def _as_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


def _iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


#: An aware datetime, normalised to UTC; an ISO-8601 string on the wire.
UtcTimestamp = Annotated[
    AwareDatetime,
    AfterValidator(_as_utc),
    PlainSerializer(_iso, return_type=str),
]


_DECIMAL = re.compile(r"[0-9]+")
_IDENTIFIER_RULE = 'expected an integer >= 0, a decimal string such as "0", or "none"'


def _identifier(value: object) -> int | str:
    # SKA's producers send ids as ints, as numeric strings and as "none" (docs/schemas.md);
    # the value is kept as sent so that a relay re-sends the same bytes.
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str) and (value == "none" or _DECIMAL.fullmatch(value)):
        return value
    raise ValueError(f"{_IDENTIFIER_RULE}, found {value!r}")


#: An identifier as SKA producers send it: ``int >= 0``, a decimal string, or ``"none"``.
#: The schema says the same as ``anyOf`` (integer >= 0 | string of digits | ``"none"``).
Identifier = Annotated[
    int | str,
    PlainValidator(_identifier),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "integer", "minimum": 0},
                {"type": "string", "pattern": "^[0-9]+$"},
                {"const": "none"},
            ]
        }
    ),
]


def _json_float(value: object) -> float | str:
    # JSON has no NaN: SKA's producers write it as "nan". A float NaN given in Python becomes
    # "nan" so the message can go out as JSON; other strings (even "NaN", "inf") are refused.
    if isinstance(value, str):
        if value == "nan":
            return value
    elif isinstance(value, numbers.Real) and not isinstance(value, bool):
        number = float(value)
        if number != number:
            return "nan"
        if number not in (float("inf"), float("-inf")):
            return number
    raise ValueError(f'expected a finite number or "nan", found {value!r}')


#: A number as a JSON producer writes it: a finite float, or ``"nan"`` for NaN.
JsonFloat = Annotated[
    float | str,
    PlainValidator(_json_float),
    WithJsonSchema({"anyOf": [{"type": "number"}, {"const": "nan"}]}),
]


class RequiredAnyRecord(Record):
    """A record whose schema's ``x-required-any`` lists groups of fields: at least one field
    of each group must be present and not null (an item that renamed a field, e.g.
    ``amplitudes`` -> ``data``, carries either name)."""

    @model_validator(mode="wrap")
    @classmethod
    def _one_of_each_group(cls, data: Any, handler: ModelWrapValidatorHandler[Self]) -> Self:
        groups: list[list[str]] = cls.schema_extensions.get("x-required-any", [])
        if not isinstance(data, Mapping):
            return handler(data)
        errors: list[InitErrorDetails] = []
        for group in groups:
            if all(data.get(name) is None for name in group):
                message = "one of {names} is required"
                context = {"names": " or ".join(group)}
                error = PydanticCustomError("missing_any", message, context)
                errors.append({"type": error, "loc": (group[0],), "input": dict(data)})
        if not errors:
            return handler(data)
        try:
            handler(data)
        except ValidationError as error:
            errors.extend(_as_init_errors(error, ()))
        raise ValidationError.from_exception_data(cls.__name__, errors)


@dataclass(frozen=True)
class ItemsRule:
    """The parsed ``x-items-by``: ``tag`` field value -> model of every item of ``field``."""

    field: str
    tag: str
    items: Mapping[str, type[BaseModel]]

    @classmethod
    def parse(cls, spec: Mapping[str, Any], module: str) -> ItemsRule:
        namespace = sys.modules[module]
        items = {tag: getattr(namespace, name) for tag, name in spec["items"].items()}
        return cls(field=str(spec["field"]), tag=str(spec["tag"]), items=items)


class RecordMessage(Message):
    """A message whose wire value is a dict (``msgpack_numpy`` map, or JSON)."""

    _items_rule: ClassVar[ItemsRule | None] = None

    @classmethod
    def items_rule(cls) -> ItemsRule | None:
        """The ``x-items-by`` rule of this model, if its schema has one."""
        spec = cls.schema_extensions.get("x-items-by")
        if spec is None:
            return None
        rule = cls.__dict__.get("_items_rule")
        if rule is None:
            rule = ItemsRule.parse(spec, cls.__module__)
            cls._items_rule = rule
        return rule

    @model_validator(mode="wrap")
    @classmethod
    def _items_follow_tag(cls, data: Any, handler: ModelWrapValidatorHandler[Self]) -> Self:
        rule = cls.items_rule()
        if rule is None or not isinstance(data, Mapping):
            return handler(data)
        errors: list[InitErrorDetails] = []
        items = data.get(rule.field)
        if isinstance(items, list | tuple):
            tag = data.get(rule.tag)
            model = rule.items.get(tag) if isinstance(tag, str) else None
            checked: list[BaseModel] = []
            # Unknown tag: only the tag is reported; the items cannot be judged without it.
            if isinstance(tag, str) and model is not None:
                checked = _validate_items(tag, rule, model, items, errors)
            data = {**data, rule.field: checked}
        try:
            result = handler(data)
        except ValidationError as error:
            errors.extend(_as_init_errors(error, ()))
        if errors:
            raise ValidationError.from_exception_data(cls.__name__, errors)
        return result

    def to_wire(self) -> dict[str, Any]:
        """The dict for the codec: float lists stay numpy arrays, the timestamp a string."""
        # Unset optional fields stay off the wire: a message re-sent is the message received.
        return self.model_dump(by_alias=True, exclude_unset=True)

    @classmethod
    def from_wire(cls, value: object) -> Self:
        if not isinstance(value, Mapping):
            found = type(value).__name__
            raise MessageValidationError(cls.__name__, [SchemaIssue("", "expected a map", found)])
        try:
            return cls.model_validate(value)
        except ValidationError as error:
            raise MessageValidationError(cls.__name__, issues_from_pydantic(error)) from None


def _validate_items(
    tag: str,
    rule: ItemsRule,
    model: type[BaseModel],
    items: list[object] | tuple[object, ...],
    errors: list[InitErrorDetails],
) -> list[BaseModel]:
    checked = []
    for index, item in enumerate(items):
        loc = (rule.field, index)
        if isinstance(item, BaseModel) and not isinstance(item, model):
            message = "a '{tag}' payload takes {want} items, not {found}"
            context = {"tag": tag, "want": model.__name__, "found": type(item).__name__}
            error = PydanticCustomError("item_type", message, context)
            errors.append({"type": error, "loc": loc, "input": item})
            continue
        try:
            checked.append(model.model_validate(item))
        except ValidationError as error:
            errors.extend(_as_init_errors(error, loc))
    return checked


def _as_init_errors(
    error: ValidationError, prefix: tuple[int | str, ...]
) -> list[InitErrorDetails]:
    details: list[InitErrorDetails] = []
    for line in error.errors(include_url=False):
        detail: InitErrorDetails = {
            # The message goes in as a value, never as a template: it may contain braces.
            "type": PydanticCustomError(
                line["type"], "{msg}", {**line.get("ctx", {}), "msg": line["msg"]}
            ),
            "loc": (*prefix, *line["loc"]),
            "input": line["input"],
        }
        details.append(detail)
    return details
