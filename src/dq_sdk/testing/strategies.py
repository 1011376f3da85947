"""Hypothesis strategies for every message model, drawn from the schemas (``testing`` extra).

Constraints come from the generated models themselves: field types and pydantic constraints
(``max_length``, ``ge``, ``pattern``...), the ``x-dtype`` of structured rows, the ``x-xarray``
layout of Dataset models and the ``x-items-by`` rule of metric payloads. So a schema change is
picked up without touching this module. Only this module of dq-sdk imports hypothesis.

``strategy_for(Model)`` works for any generated model; the named strategies are shortcuts::

    @given(strategy_for(MetricPayload))
    def test_round_trip(message: MetricPayload) -> None: ...
"""

from __future__ import annotations

import collections.abc
import datetime as dt
import types
import typing
from typing import Any, TypeVar, cast

import annotated_types
import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from pydantic import AwareDatetime, BaseModel
from pydantic.fields import FieldInfo

from .._models._dataset import DatasetMessage
from .._models._dataset_example import assemble_dataset
from .._models._record import FloatArray, Identifier, JsonFloat, RecordMessage
from .._models._structured import StructuredArray, StructuredRow
from .._models._xarray_layout import VariableSpec
from ..schemas import (
    AmplitudeItem,
    BandAveragedXCorrItem,
    MetricPayload,
    PhaseItem,
    PointingNumpyArray,
    PointingTable,
    SpectralWindow,
    SpectrumItem,
    UVCoverageItem,
)

__all__ = [
    "amplitude_items",
    "band_averaged_xcorr_items",
    "dataset_messages",
    "metric_payloads",
    "phase_items",
    "pointing_arrays",
    "pointing_rows",
    "pointing_tables",
    "records",
    "spectral_windows",
    "spectrum_items",
    "strategy_for",
    "structured_arrays",
    "structured_rows",
    "uv_coverage_items",
]

M = TypeVar("M")
B = TypeVar("B", bound=BaseModel)
R = TypeVar("R", bound=StructuredRow)
D = TypeVar("D", bound=DatasetMessage)

# Text that survives every codec: encodable as UTF-8 (no lone surrogates) and no NUL, which
# numpy's fixed-width strings drop from the end.
_TEXT = st.characters(codec="utf-8", exclude_characters="\x00")
# Metric values are finite: dq-sdk's json codec carries NaN (as the non-standard token), but
# the browsers that display metrics parse strict JSON, which has no NaN or infinity.
_FINITE = st.floats(allow_nan=False, allow_infinity=False)
_MAX_ITEMS = 4


def strategy_for(model: type[M]) -> st.SearchStrategy[M]:
    """Valid instances of any dq-sdk message or record model."""
    if issubclass(model, StructuredRow):
        return cast(st.SearchStrategy[M], structured_rows(model))
    if issubclass(model, StructuredArray):
        return cast(st.SearchStrategy[M], structured_arrays(model))
    if issubclass(model, DatasetMessage):
        return cast(st.SearchStrategy[M], dataset_messages(model))
    if issubclass(model, BaseModel):
        return cast(st.SearchStrategy[M], records(model))
    raise TypeError(f"no strategy for {model!r}: not a dq-sdk model")


# -- structured arrays ------------------------------------------------------------------------


def structured_rows(model: type[R]) -> st.SearchStrategy[R]:
    """Rows of ``model``: one strategy per field from its ``x-dtype``; NaN fits included."""
    dtype = model.numpy_dtype()
    assert dtype.fields is not None
    fields = {
        name: _scalar_for_dtype(field_dtype, model.model_fields[name])
        for name, (field_dtype, *_) in dtype.fields.items()
    }
    return st.builds(model, **fields)


def _scalar_for_dtype(dtype: np.dtype[Any], info: FieldInfo) -> st.SearchStrategy[Any]:
    if dtype.kind == "U":
        length = min(dtype.itemsize // 4, _constraint(info, annotated_types.MaxLen, "max_length"))
        return st.text(_TEXT, max_size=length)
    if dtype.kind == "f":
        width: typing.Literal[16, 32, 64] = 64 if dtype.itemsize == 8 else 32
        return st.floats(allow_nan=True, allow_infinity=False, width=width)
    if dtype.kind in "iu":
        bounds = np.iinfo(dtype)
        return st.integers(int(bounds.min), int(bounds.max))
    if dtype.kind == "b":
        return st.booleans()
    raise TypeError(f"no strategy for dtype {dtype}")


def structured_arrays(
    model: type[StructuredArray[R]], min_rows: int = 0, max_rows: int = 16
) -> st.SearchStrategy[StructuredArray[R]]:
    """Whole arrays of ``model.row_model`` rows, as ``StructuredArray[Row]`` messages."""
    rows = st.lists(structured_rows(model.row_model), min_size=min_rows, max_size=max_rows)
    return rows.map(model.from_rows)  # type: ignore[arg-type]


def pointing_rows() -> st.SearchStrategy[PointingNumpyArray]:
    """Single ``PointingNumpyArray`` rows."""
    return structured_rows(PointingNumpyArray)


def pointing_arrays(
    min_rows: int = 1, max_rows: int = 16
) -> st.SearchStrategy[StructuredArray[PointingNumpyArray]]:
    """Whole multi-antenna pointing arrays."""
    return structured_arrays(StructuredArray[PointingNumpyArray], min_rows, max_rows)


# -- xarray Datasets --------------------------------------------------------------------------


@st.composite
def _dataset_message(draw: st.DrawFn, model: type[D], max_size: int) -> D:
    # The layout is walked by the same code as Model.example(); only the values are drawn.
    layout = model.xarray_layout()
    size = {dim: draw(st.integers(1, max_size), label=dim) for dim in layout.dims}

    def include(name: str, spec: VariableSpec) -> bool:
        return not spec.optional or draw(st.booleans(), label=f"has {name}")

    def coordinate(name: str, spec: VariableSpec, n: int) -> np.ndarray[Any, Any]:
        return draw(_coordinate(spec.dtype, n), label=name)

    def values(name: str, spec: VariableSpec, shape: tuple[int, ...]) -> np.ndarray[Any, Any]:
        elements = st.floats(width=64) if spec.dtype.kind == "f" else None
        return draw(hnp.arrays(spec.dtype, shape, elements=elements), label=name)

    def attrs() -> dict[str, Any]:
        if layout.attrs_model is None:
            return {}
        return draw(_json_fields(layout.attrs_model).map(_without_none))

    dataset = assemble_dataset(
        layout,
        size,
        purpose="drawing Dataset messages",
        include=include,
        coordinate=coordinate,
        values=values,
        attrs=attrs,
    )
    return model(dataset=dataset)


def _coordinate(dtype: np.dtype[Any], n: int) -> st.SearchStrategy[np.ndarray[Any, Any]]:
    if dtype.kind == "U":
        label = st.text(_TEXT, min_size=1, max_size=8)
        labels = st.lists(label, min_size=n, max_size=n, unique=True)
        return labels.map(lambda values: np.array(values, dtype=str))
    elements = st.floats(allow_nan=False, width=64) if dtype.kind == "f" else None
    return hnp.arrays(dtype, n, elements=elements, unique=True)


def _without_none(values: dict[str, Any]) -> dict[str, Any]:
    # xradio reads an attr set to None as missing; an optional attr is left out instead.
    return {key: value for key, value in values.items() if value is not None}


def dataset_messages(model: type[D], max_size: int = 3) -> st.SearchStrategy[D]:
    """Dataset messages of ``model``: dims of 1..max_size, optional variables on or off."""
    return _dataset_message(model, max_size)


def pointing_tables(max_size: int = 3) -> st.SearchStrategy[PointingTable]:
    """``PointingTable`` messages (NaN allowed in the data variables)."""
    return dataset_messages(PointingTable, max_size)


# -- dict records (pydantic models) -----------------------------------------------------------


def records(model: type[B]) -> st.SearchStrategy[B]:
    """Instances of a pydantic model, field by field; ``x-items-by`` rules are honoured."""
    rule = model.items_rule() if issubclass(model, RecordMessage) else None
    if rule is None:
        return _json_fields(model).filter(_any_required(model)).map(model.model_validate)
    tagged = [
        st.fixed_dictionaries(
            {rule.tag: st.just(tag), rule.field: st.lists(records(item), max_size=_MAX_ITEMS)}
        )
        for tag, item in rule.items.items()
    ]
    rest = _json_fields(model, skip=frozenset({rule.tag, rule.field}))
    both = st.tuples(st.one_of(tagged), rest)
    return both.map(lambda parts: model.model_validate({**parts[1], **parts[0]}))


def _any_required(model: type[BaseModel]) -> typing.Callable[[dict[str, Any]], bool]:
    """``x-required-any``: at least one field of each group is present (not None)."""
    groups: list[list[str]] = getattr(model, "schema_extensions", {}).get("x-required-any", [])

    def check(values: dict[str, Any]) -> bool:
        return all(any(values.get(name) is not None for name in group) for group in groups)

    return check


# The custom field types of dq_sdk._models, by the values their validators accept.
_CUSTOM_TYPES: dict[object, st.SearchStrategy[Any]] = {
    FloatArray: hnp.arrays(np.float64, st.integers(0, 16), elements=_FINITE),
    Identifier: st.one_of(
        st.integers(0, 2**63 - 1), st.from_regex(r"[0-9]+", fullmatch=True), st.just("none")
    ),
    JsonFloat: st.one_of(_FINITE, st.just("nan")),
}


def _json_fields(
    model: type[BaseModel], skip: frozenset[str] = frozenset()
) -> st.SearchStrategy[Any]:
    """A dict of valid values for the fields of ``model`` (optional ones sometimes None)."""
    fields = {
        name: _value(info.annotation, info)
        for name, info in model.model_fields.items()
        if name not in skip
    }
    return st.fixed_dictionaries(fields)


def _value(annotation: Any, info: FieldInfo) -> st.SearchStrategy[Any]:
    if annotation in _CUSTOM_TYPES:
        return _CUSTOM_TYPES[annotation]
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Literal:
        return st.sampled_from(args)
    if origin in (typing.Union, types.UnionType):
        return st.one_of([_value(arg, info) for arg in args])
    if origin in (list, collections.abc.Sequence):
        return st.lists(_value(args[0], FieldInfo()), max_size=_MAX_ITEMS)
    if annotation is type(None):
        return st.none()
    if annotation is np.ndarray or origin is np.ndarray:
        return hnp.arrays(np.float64, st.integers(0, 16), elements=_FINITE)
    if isinstance(annotation, type):
        return _value_of_class(annotation, info)
    raise TypeError(f"no strategy for field type {annotation!r}")


def _value_of_class(cls: type, info: FieldInfo) -> st.SearchStrategy[Any]:
    if issubclass(cls, BaseModel):
        return records(cls)
    if issubclass(cls, bool):
        return st.booleans()
    if issubclass(cls, dt.datetime | AwareDatetime):
        return st.datetimes(timezones=st.just(dt.UTC))
    if issubclass(cls, int):
        # int64 at most: msgpack has no bigger integers.
        low = _constraint(info, annotated_types.Ge, "ge", default=-(2**63))
        return st.integers(min_value=low, max_value=2**63 - 1)
    if issubclass(cls, float):
        low = _constraint(info, annotated_types.Ge, "ge", default=None)
        return _FINITE if low is None else st.floats(min_value=low, allow_infinity=False)
    if issubclass(cls, str):
        pattern = _pattern(info)
        if pattern is not None:
            return st.from_regex(pattern, fullmatch=True, alphabet=_TEXT)
        low = _constraint(info, annotated_types.MinLen, "min_length", default=0)
        high = _constraint(info, annotated_types.MaxLen, "max_length", default=None)
        return st.text(_TEXT, min_size=low, max_size=high)
    raise TypeError(f"no strategy for field type {cls.__name__}")


def _constraint(info: FieldInfo, kind: type, attribute: str, default: Any = 2**31) -> Any:
    for item in info.metadata:
        if isinstance(item, kind):
            return getattr(item, attribute)
    return default


def _pattern(info: FieldInfo) -> str | None:
    for item in info.metadata:
        pattern = getattr(item, "pattern", None)
        if isinstance(pattern, str):
            return pattern
    return None


def spectral_windows() -> st.SearchStrategy[SpectralWindow]:
    """Valid ``SpectralWindow`` values: spectral windows of a metric."""
    return records(SpectralWindow)


def spectrum_items() -> st.SearchStrategy[SpectrumItem]:
    """Valid ``SpectrumItem`` values: ``spectrum`` items (power per channel)."""
    return records(SpectrumItem)


def amplitude_items() -> st.SearchStrategy[AmplitudeItem]:
    """Valid ``AmplitudeItem`` values: ``amplitude`` items."""
    return records(AmplitudeItem)


def phase_items() -> st.SearchStrategy[PhaseItem]:
    """Valid ``PhaseItem`` values: ``phase`` items."""
    return records(PhaseItem)


def uv_coverage_items() -> st.SearchStrategy[UVCoverageItem]:
    """Valid ``UVCoverageItem`` values: ``uvcoverage`` items."""
    return records(UVCoverageItem)


def band_averaged_xcorr_items() -> st.SearchStrategy[BandAveragedXCorrItem]:
    """Valid ``BandAveragedXCorrItem`` values: ``bandaveragedxcorr`` items."""
    return records(BandAveragedXCorrItem)


def metric_payloads() -> st.SearchStrategy[MetricPayload]:
    """``MetricPayload`` messages whose items always match their ``data_type``."""
    return records(MetricPayload)
