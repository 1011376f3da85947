"""The only module that imports xradio: layout -> xradio dataclass, and issue conversion.

xradio is imported inside the functions, so importing dq-sdk never needs the ``xradio`` extra.
"""

from __future__ import annotations

import dataclasses
import sys
import types
import typing
from typing import TYPE_CHECKING, Any, Literal, Optional

import numpy as np

from .._exceptions import MissingDependencyError, SchemaIssue

if TYPE_CHECKING:
    import xarray

    from ._xarray_layout import VariableSpec, XarrayLayout

__all__ = [
    "dataset_issues",
    "is_xradio_dataset_schema",
    "layout_dataset_schema",
    "to_dataset_schema",
]


def _xradio_schema_module() -> Any:
    try:
        import xradio.schema
    except ImportError:
        raise MissingDependencyError("xradio", "xradio", "checking an xarray Dataset") from None
    return xradio.schema


def is_xradio_dataset_schema(schema: object) -> bool:
    """True for an xradio ``DatasetSchema`` or an ``@xarray_dataset_schema`` dataclass.

    Never imports xradio: neither kind of object can exist before ``xradio.schema`` is loaded.
    """
    if "xradio.schema" not in sys.modules:
        return False
    from xradio.schema import bases, metamodel

    return isinstance(schema, metamodel.DatasetSchema) or bool(bases.is_dataset_schema(schema))


def to_dataset_schema(schema: object) -> object:
    """An xradio ``DatasetSchema`` for a DatasetSchema or a dataset dataclass."""
    xradio_schema = _xradio_schema_module()
    from xradio.schema import metamodel

    if isinstance(schema, metamodel.DatasetSchema):
        return schema
    return xradio_schema.xarray_dataclass_to_dataset_schema(schema)


def layout_dataset_schema(name: str, layout: XarrayLayout) -> object:
    """Build the ``@xarray_dataset_schema`` dataclass for ``layout`` and convert it once."""
    xradio_schema = _xradio_schema_module()
    from xradio.schema.typing import Attr, Coord, Data

    required: list[tuple[str, Any]] = []
    optional: list[tuple[str, Any, Any]] = []

    def add(field: str, annotation: Any, is_optional: bool) -> None:
        if is_optional:
            optional.append((field, Optional[annotation], dataclasses.field(default=None)))  # noqa: UP045
        else:
            required.append((field, annotation))

    for coord, spec in layout.coords.items():
        add(coord, Coord[_dims(spec), _value_type(spec)], spec.optional)
    for var, spec in layout.data_vars.items():
        add(var, Data[_dims(spec), _value_type(spec)], spec.optional)
    if layout.attrs_model is not None:
        for attr, info in layout.attrs_model.model_fields.items():
            add(attr, Attr[_attr_type(info.annotation)], not info.is_required())
    klass = dataclasses.make_dataclass(name, [*required, *optional])
    return xradio_schema.xarray_dataclass_to_dataset_schema(
        xradio_schema.xarray_dataset_schema(klass)
    )


def _dims(spec: VariableSpec) -> Any:
    literals = [Literal[dim] for dim in spec.dims]
    return literals[0] if len(literals) == 1 else tuple.__class_getitem__(tuple(literals))


def _value_type(spec: VariableSpec) -> Any:
    # xradio accepts any "<U" for ``str``; fixed numeric dtypes are checked exactly.
    return str if spec.dtype.kind == "U" else spec.dtype.type


def _attr_type(annotation: Any) -> Any:
    """``str | None`` -> ``str``: optional-ness is carried by the dataclass default."""
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        args = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        return args[0] if len(args) == 1 else annotation
    return annotation


def dataset_issues(dataset: xarray.Dataset, schema: object) -> list[SchemaIssue]:
    """Run ``check_dataset`` and turn every xradio issue into a :class:`SchemaIssue`."""
    xradio_schema = _xradio_schema_module()
    found = xradio_schema.check_dataset(dataset, schema)
    return [_issue(issue) for issue in found.issues]


def _issue(issue: Any) -> SchemaIssue:
    parts = [str(name) if not ix else f"{name}.{ix}" for name, ix in issue.path]
    path = ".".join(parts) or "dims"
    expected = issue.expected
    if isinstance(expected, list) and len(expected) == 1:
        expected = expected[0]
    return SchemaIssue(path, str(issue.message), _plain(issue.found), _plain(expected))


def _plain(value: object) -> object:
    """dtypes and classes as short strings, so messages read ``float64`` not ``<class ...>``."""
    if isinstance(value, np.dtype):
        return value.name
    if isinstance(value, type):
        return value.__name__
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value
