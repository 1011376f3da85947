"""The one validation path: ``validate(value, schema)`` for the seed API and the typed models.

``DataQueueProducer.send(data, schema=..., validate=True)`` and ``Producer[M]`` both call
:func:`validate`; the model classes' own ``from_wire`` use the same checkers (``structured_issues``,
``DatasetMessage.dataset_issues``, pydantic), so a value is judged the same way everywhere.
Every issue is collected into one :class:`MessageValidationError` (also a ``TypeError``).

How a model class is validated is decided here alone, once per class, by
:func:`validation_plan`: ``validate`` follows the plan, and so do the fast paths that skip work
where the plan proves a value valid (``Producer.encode`` and ``send_batch`` of structured rows,
batch receive's columnar rows), so none of them repeats the choice.

What ``schema`` may be, and what the value must then be:

==========================================  ==============================================
schema                                      value
==========================================  ==============================================
a structured row model (PointingNumpyArray)  a structured ndarray of any number of rows
                                            (checked by dtype and shape), a row, or a dict
``StructuredArray[Row]``                    a structured ndarray, or such a message
a Dataset model (PointingTable)             an ``xarray.Dataset``, or such a message
any pydantic model (MetricPayload...)       a dict, or an instance
any dataclass                               a dict checked against its fields and types
an xradio ``DatasetSchema`` or              an ``xarray.Dataset`` (needs the ``xradio``
``@xarray_dataset_schema`` dataclass        extra)
any other class with ``from_wire``          what its ``from_wire`` accepts
==========================================  ==============================================
"""

from __future__ import annotations

import dataclasses
import functools
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import BaseModel, PydanticSchemaGenerationError, TypeAdapter, ValidationError

from ._exceptions import MessageValidationError, SchemaIssue
from ._models._base import issues_from_pydantic, raise_issues
from ._models._dataset import DatasetMessage
from ._models._structured import StructuredArray, StructuredRow, structured_issues
from ._models._xarray_layout import require_xarray
from ._models._xradio import dataset_issues, is_xradio_dataset_schema, to_dataset_schema

__all__ = ["ValidationPlan", "schema_issues", "validate", "validation_plan"]


def validate(value: object, schema: object) -> None:
    """Check ``value`` against ``schema``; raise one MessageValidationError with every issue.

    Raises ``TypeError`` (not a validation error) when ``schema`` is not a kind of schema this
    function knows, and :class:`dq_sdk.MissingDependencyError` when checking needs an extra.
    """
    raise_issues(_schema_name(schema), schema_issues(value, schema))


def schema_issues(value: object, schema: object) -> list[SchemaIssue]:
    """Every issue of ``value`` against ``schema`` (empty when valid); see :func:`validate`."""
    if isinstance(schema, type):
        if isinstance(value, schema):
            return []
        return validation_plan(schema).issues(value)
    if is_xradio_dataset_schema(schema):
        return _xradio_issues(value, schema)
    raise TypeError(
        f"unsupported schema {schema!r}: give a model class, dataclass or xradio schema"
    )


@dataclass(frozen=True, slots=True, eq=False)
class ValidationPlan:
    """How values are checked against one schema class (see :func:`validation_plan`)."""

    #: Every issue of a value that is not an instance of the class (empty when valid).
    issues: Callable[[object], list[SchemaIssue]]
    #: For structured models (rows and ``StructuredArray[Row]``): the row dtype, whose check
    #: (a 1-d ndarray of it) is all that validating an ndarray does. ``None`` for other models.
    row_dtype: np.dtype[np.void] | None = None

    def passes_at_once(self, wire: object) -> bool:
        """True only where :attr:`issues` certainly finds nothing, decided in O(1): a 1-d
        ndarray whose dtype is :attr:`row_dtype` itself, as a row's ``to_wire()`` builds it.
        False means "check in full" (another dtype object, however equal, or any other
        model), never "invalid", so no invalid message is let through."""
        dtype = self.row_dtype
        return (
            dtype is not None
            and type(wire) is np.ndarray
            and wire.ndim == 1
            and wire.dtype is dtype
        )


@functools.lru_cache(maxsize=256)
def validation_plan(schema: type) -> ValidationPlan:
    """How values are checked against the class ``schema``: the one place that decides it.

    Raises ``TypeError`` for a class that is no kind of schema :func:`validate` knows.
    """
    # Closures rather than partials: a partial with keywords builds a dict on every call, and
    # a 10,000-row array is validated in about 2 us.
    if issubclass(schema, StructuredRow):
        # The seed validates the whole multi-antenna array against the row schema.
        return _structured_plan(schema, rows_as_maps=True)
    if issubclass(schema, StructuredArray):
        return _structured_plan(schema.row_model, rows_as_maps=False)
    if issubclass(schema, DatasetMessage):
        return ValidationPlan(schema.dataset_issues)
    if issubclass(schema, BaseModel):
        model = schema
        return ValidationPlan(lambda value: _pydantic_issues(value, model))
    if is_xradio_dataset_schema(schema):
        return ValidationPlan(lambda value: _xradio_issues(value, schema))
    if dataclasses.is_dataclass(schema):
        return ValidationPlan(lambda value: _dataclass_issues(value, schema))
    from_wire = getattr(schema, "from_wire", None)
    if callable(from_wire):
        return ValidationPlan(lambda value: _from_wire_issues(value, from_wire))
    raise TypeError(f"unsupported schema class {schema.__name__}")


def _structured_plan(row_model: type[StructuredRow], rows_as_maps: bool) -> ValidationPlan:
    """Arrays of ``row_model`` rows, checked by dtype and shape; with ``rows_as_maps`` a map is
    one row's fields, checked by pydantic."""
    try:
        dtype: np.dtype[np.void] | None = row_model.numpy_dtype()
    except AttributeError:  # an abstract row base (no fields): maps only, arrays fail as before
        dtype = None

    def issues(value: object) -> list[SchemaIssue]:
        if rows_as_maps and isinstance(value, Mapping):
            return _pydantic_issues(value, row_model)
        return structured_issues(value, row_model.numpy_dtype() if dtype is None else dtype)

    return ValidationPlan(issues, dtype)


def _from_wire_issues(value: object, from_wire: Callable[[object], object]) -> list[SchemaIssue]:
    try:
        from_wire(value)
    except MessageValidationError as error:
        return list(error.issues)
    return []


def _pydantic_issues(value: object, schema: type[BaseModel]) -> list[SchemaIssue]:
    if not isinstance(value, Mapping):
        return [SchemaIssue("", "expected a map", type(value).__name__, "dict")]
    try:
        schema.model_validate(value)
    except ValidationError as error:
        return issues_from_pydantic(error)
    return []


def _xradio_issues(value: object, schema: object) -> list[SchemaIssue]:
    xarray = require_xarray("checking an xarray Dataset")
    if not isinstance(value, xarray.Dataset):
        return [SchemaIssue("", "expected an xarray.Dataset", type(value).__name__)]
    return dataset_issues(value, _dataset_schema(schema))


def _dataset_schema(schema: object) -> object:
    # Converting a dataclass walks its annotations; do it once per class.
    if isinstance(schema, type):
        return _cached_dataset_schema(schema)
    return to_dataset_schema(schema)


@functools.cache
def _cached_dataset_schema(schema: type) -> object:
    return to_dataset_schema(schema)


def _dataclass_issues(value: object, schema: type) -> list[SchemaIssue]:
    if not isinstance(value, Mapping):
        return [SchemaIssue("", "expected a map", type(value).__name__, "dict")]
    adapter = _adapter(schema)
    if adapter is None:
        return _field_presence_issues(value, schema)
    try:
        adapter.validate_python(dict(value))
    except ValidationError as error:
        return issues_from_pydantic(error)
    return []


@functools.cache
def _adapter(schema: type) -> TypeAdapter[Any] | None:
    try:
        return TypeAdapter(schema)
    except PydanticSchemaGenerationError:
        # Field types pydantic cannot check (e.g. numpy arrays): fall back to presence checks.
        return None


def _field_presence_issues(value: Mapping[Any, Any], schema: type) -> list[SchemaIssue]:
    try:
        hints = typing.get_type_hints(schema)
    except (NameError, TypeError):  # unresolvable annotations: check presence only
        hints = {}
    issues = []
    for field in dataclasses.fields(schema):
        has_default = field.default is not dataclasses.MISSING or (
            field.default_factory is not dataclasses.MISSING
        )
        expected = typing.get_origin(hints.get(field.name)) or hints.get(field.name)
        if field.name not in value:
            if not has_default:
                issues.append(SchemaIssue(field.name, "Field required"))
        elif isinstance(expected, type) and not isinstance(value[field.name], expected):
            found = type(value[field.name]).__name__
            issues.append(SchemaIssue(field.name, "wrong type", found, expected.__name__))
    return issues


def _schema_name(schema: object) -> str:
    name = getattr(schema, "__name__", None) or getattr(schema, "schema_name", None)
    return str(name) if name else type(schema).__name__
