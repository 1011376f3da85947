"""xarray Dataset messages, checked with xradio against a layout read from the schema.

The schema's ``x-xarray`` keyword describes dims, coords, data variables and attrs; from it an
xradio ``@xarray_dataset_schema`` dataclass is built once per model, at the first check, so
xarray and xradio stay optional (extras ``xarray`` / ``xradio``) and load only when used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Self

from pydantic import (
    PlainSerializer,
    PlainValidator,
    ValidationError,
    ValidationInfo,
    WithJsonSchema,
    model_validator,
)

from .._exceptions import MessageValidationError, SchemaIssue
from ._base import Message, Record, raise_issues
from ._xarray_layout import XarrayLayout, require_xarray
from ._xradio import dataset_issues, layout_dataset_schema

__all__ = ["DatasetMessage", "XarrayDataset"]


def _check_dataset_type(value: object) -> object:
    xarray = require_xarray("an xarray Dataset message")
    if not isinstance(value, xarray.Dataset):
        raise ValueError(f"expected an xarray.Dataset, found {type(value).__name__}")
    return value


if TYPE_CHECKING:
    from xarray import Dataset as XarrayDataset
else:
    # xarray is imported only when a value is validated, so the generated models import
    # without the xarray extra; mypy sees the real ``xarray.Dataset``.
    XarrayDataset = Annotated[
        object,
        PlainValidator(_check_dataset_type),
        PlainSerializer(lambda value: value, return_type=object),
        WithJsonSchema({"type": "object", "description": "an xarray.Dataset"}),
    ]


#: Validation context meaning "the layout was just checked": skip the second xradio pass.
_ALREADY_CHECKED: dict[str, bool] = {"layout_checked": True}


class DatasetMessage(Message):
    """A message whose wire value is an ``xarray.Dataset`` (``Encoding.XARRAY``).

    Constructing one (``PointingTable(dataset=ds)``, ``from_wire(ds)``) checks the Dataset
    against the schema's ``x-xarray`` layout with ``xradio.schema.check_dataset`` and raises
    one :class:`dq_sdk.MessageValidationError` listing every issue. Extra variables, coords and
    attrs are accepted (xradio's rule).
    """

    dataset: XarrayDataset

    _layout: ClassVar[XarrayLayout | None] = None
    _xradio_schema: ClassVar[object | None] = None

    @classmethod
    def xarray_layout(cls) -> XarrayLayout:
        """The parsed ``x-xarray`` layout (parsed once, at first use)."""
        layout = cls.__dict__.get("_layout")
        if layout is None:
            layout = XarrayLayout.parse(cls.schema_extensions["x-xarray"], cls.__module__)
            cls._layout = layout
        return layout

    @classmethod
    def xradio_schema(cls) -> object:
        """The xradio ``DatasetSchema`` built from the layout (needs the ``xradio`` extra)."""
        schema = cls.__dict__.get("_xradio_schema")
        if schema is None:
            schema = layout_dataset_schema(cls.__name__, cls.xarray_layout())
            cls._xradio_schema = schema
        return schema

    @classmethod
    def dataset_issues(cls, dataset: object) -> list[SchemaIssue]:
        """Every way ``dataset`` does not match the layout (empty when it does)."""
        xarray = require_xarray(f"validating a {cls.__name__}")
        if not isinstance(dataset, xarray.Dataset):
            found = type(dataset).__name__
            return [SchemaIssue("", "expected an xarray.Dataset", found, "xarray.Dataset")]
        return dataset_issues(dataset, cls.xradio_schema())

    @model_validator(mode="after")
    def _check_layout(self, info: ValidationInfo) -> Self:
        if info.context is not _ALREADY_CHECKED:
            raise_issues(type(self).__name__, self.dataset_issues(self.dataset))
        return self

    if not TYPE_CHECKING:  # mypy keeps the pydantic plugin's typed __init__

        def __init__(self, /, **data: Any) -> None:
            try:
                super().__init__(**data)
            except ValidationError as error:
                # MessageValidationError is a ValueError, which pydantic wraps as one "value
                # error": hand the caller the original, listing every layout issue.
                raise _layout_error(error) or error from None

    @classmethod
    def from_wire(cls, value: object) -> Self:
        """Validate a decoded ``xarray.Dataset``; every layout issue is listed at once."""
        raise_issues(cls.__name__, cls.dataset_issues(value))
        return cls.model_validate({"dataset": value}, context=_ALREADY_CHECKED)

    def to_wire(self) -> XarrayDataset:
        """The ``xarray.Dataset`` itself, for the ``xarray`` codec."""
        return self.dataset

    @property
    def attrs(self) -> Record:
        """The Dataset's attrs as the schema's attrs model (extra attrs kept)."""
        model = self.xarray_layout().attrs_model
        if model is None:
            raise AttributeError(f"{type(self).__name__} declares no typed attrs")
        return model.model_validate(dict(self.dataset.attrs))

    def __hash__(self) -> int:
        return hash((type(self), tuple(sorted(self.dataset.sizes.items()))))

    @classmethod
    def example(cls, *, seed: int = 0, include_optional: bool = True, **sizes: int) -> Self:
        """A valid message with plausible values drawn around the schema's ``examples``.

        ``sizes`` sets dimension lengths (``PointingTable.example(antenna=4, time=3)``); a
        dimension not given has as many entries as its coordinate's examples.
        """
        from ._dataset_example import example_dataset

        return cls(dataset=example_dataset(cls.xarray_layout(), sizes, seed, include_optional))


def _layout_error(error: ValidationError) -> MessageValidationError | None:
    """The MessageValidationError a validator raised, if it is the only error in ``error``."""
    details = error.errors()
    cause = details[0].get("ctx", {}).get("error") if len(details) == 1 else None
    return cause if isinstance(cause, MessageValidationError) else None
