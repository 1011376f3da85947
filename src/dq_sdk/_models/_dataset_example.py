"""Datasets built from an ``x-xarray`` layout: the one place that walks a layout into a Dataset.

:func:`assemble_dataset` is that walk (dimension sizes, coordinates, data variables, attrs, which
optional ones to include); what fills each part is the caller's. :func:`example_dataset` fills it
with plausible values for ``DatasetMessage.example()`` (the demo, docs, tests): coordinates
continue the examples given for them, data values scatter a few percent around the first example
of each variable. :mod:`dq_sdk.testing.strategies` fills the same walk with hypothesis draws.
"""

from __future__ import annotations

import typing
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from ._xarray_layout import VariableSpec, XarrayLayout, require_xarray

__all__ = ["assemble_dataset", "example_attrs", "example_dataset"]


def example_dataset(
    layout: XarrayLayout, sizes: Mapping[str, int], seed: int, include_optional: bool
) -> Any:
    """An ``xarray.Dataset`` that matches ``layout``, with plausible values around its examples."""
    unknown = set(sizes) - set(layout.dims)
    if unknown:
        raise TypeError(f"unknown dimension(s) {sorted(unknown)}; the layout has {layout.dims}")
    size = {dim: sizes.get(dim, _default_size(layout, dim)) for dim in layout.dims}
    rng = np.random.default_rng(seed)
    return assemble_dataset(
        layout,
        size,
        purpose="building an example Dataset",
        include=lambda name, spec: include_optional or not spec.optional,
        coordinate=lambda name, spec, n: _coordinate(spec, n),
        values=lambda name, spec, shape: _values(spec, shape, rng),
        attrs=lambda: example_attrs(layout, include_optional),
    )


def assemble_dataset(
    layout: XarrayLayout,
    size: Mapping[str, int],
    *,
    purpose: str,
    include: Callable[[str, VariableSpec], bool],
    coordinate: Callable[[str, VariableSpec, int], Any],
    values: Callable[[str, VariableSpec, tuple[int, ...]], Any],
    attrs: Callable[[], Mapping[str, object]],
) -> Any:
    """An ``xarray.Dataset`` of ``layout`` with ``size[dim]`` entries along each dimension.

    In this order: each coordinate ``include``-d gets ``coordinate(name, spec, length)``, each
    data variable ``include``-d gets ``values(name, spec, shape)``, then ``attrs()``. Optional
    parts are offered to ``include`` too (required ones as well, so a caller may draw for them).
    ``purpose`` names what needs xarray when it is missing.
    """
    xarray = require_xarray(purpose)
    coords = {
        name: (spec.dims, coordinate(name, spec, size[spec.dims[0]]))
        for name, spec in layout.coords.items()
        if include(name, spec)
    }
    data_vars = {
        name: (spec.dims, values(name, spec, tuple(size[d] for d in spec.dims)))
        for name, spec in layout.data_vars.items()
        if include(name, spec)
    }
    return xarray.Dataset(data_vars, coords, dict(attrs()))


def example_attrs(layout: XarrayLayout, include_optional: bool = True) -> dict[str, object]:
    """Attr values from the attrs model: its Literal value, else its first example."""
    attrs: dict[str, object] = {}
    if layout.attrs_model is None:
        return attrs
    for name, info in layout.attrs_model.model_fields.items():
        if not (include_optional or info.is_required()):
            continue
        literal = [a for a in typing.get_args(info.annotation) if isinstance(a, str)]
        if typing.get_origin(info.annotation) is typing.Literal and literal:
            attrs[name] = literal[0]
        elif info.examples:
            attrs[name] = info.examples[0]
        elif info.is_required():
            attrs[name] = name
    return attrs


def _default_size(layout: XarrayLayout, dim: str) -> int:
    coord = layout.coords.get(dim)
    return max(1, len(coord.examples)) if coord is not None else 1


def _coordinate(spec: VariableSpec, n: int) -> np.ndarray[Any, Any]:
    examples = list(spec.examples) or [0]
    if spec.dtype.kind == "U":
        names = [str(examples[i]) if i < len(examples) else f"{examples[-1]}{i}" for i in range(n)]
        return np.array(names, dtype=str)
    if n <= len(examples):
        return np.array(examples[:n], dtype=spec.dtype)
    # Continue the examples' own spacing (time steps, channel widths, antenna numbers).
    step = examples[1] - examples[0] if len(examples) > 1 else 1
    return np.asarray(examples[0] + step * np.arange(n), dtype=spec.dtype)


def _values(spec: VariableSpec, shape: tuple[int, ...], rng: np.random.Generator) -> Any:
    centre = float(spec.examples[0]) if spec.examples else 0.0
    scatter = 1.0 + 0.05 * rng.standard_normal(shape)
    return (centre * scatter).astype(spec.dtype)
