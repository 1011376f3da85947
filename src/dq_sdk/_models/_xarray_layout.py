"""The ``x-xarray`` keyword of a Dataset schema, parsed: dims, coordinates, data variables and
the attrs model; and the lazy xarray import every Dataset path shares.

Its own module so that what reads a layout (validation, the example builder, xradio checks)
depends on it, not on the message class that uses it.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._exceptions import MissingDependencyError
from ._base import Record

__all__ = ["VariableSpec", "XarrayLayout", "require_xarray"]


def require_xarray(purpose: str) -> Any:
    """Import xarray, or say which extra brings it."""
    try:
        import xarray
    except ImportError:
        raise MissingDependencyError("xarray", "xarray", purpose) from None
    return xarray


@dataclass(frozen=True)
class VariableSpec:
    """One coordinate or data variable of ``x-xarray``."""

    dims: tuple[str, ...]
    dtype: np.dtype[Any]
    optional: bool = False
    description: str = ""
    examples: tuple[Any, ...] = ()


@dataclass(frozen=True)
class XarrayLayout:
    """The parsed ``x-xarray`` keyword; ``attrs_model`` types the Dataset's attrs."""

    dims: tuple[str, ...]
    coords: Mapping[str, VariableSpec]
    data_vars: Mapping[str, VariableSpec]
    attrs_model: type[Record] | None

    @classmethod
    def parse(cls, spec: Mapping[str, Any], module: str) -> XarrayLayout:
        attrs_model = None
        if "attrs" in spec:
            name = str(spec["attrs"]["$ref"]).rsplit("/", 1)[-1]
            attrs_model = getattr(sys.modules[module], name)
        return cls(
            dims=tuple(spec["dims"]),
            coords={k: _variable(v) for k, v in spec.get("coords", {}).items()},
            data_vars={k: _variable(v) for k, v in spec.get("data_vars", {}).items()},
            attrs_model=attrs_model,
        )


def _variable(spec: Mapping[str, Any]) -> VariableSpec:
    return VariableSpec(
        dims=tuple(spec["dims"]),
        dtype=np.dtype(spec["dtype"]),
        optional=bool(spec.get("optional", False)),
        description=str(spec.get("description", "")),
        examples=tuple(spec.get("examples", ())),
    )
