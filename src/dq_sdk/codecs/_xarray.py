"""``xarray``: an ``xarray.Dataset`` as one msgpack map (our format, ``docs/encodings.md``).

::

    {"format": "dq-sdk/xarray", "version": 1, "attrs": {...},
     "coords":    {name: {"dims": [dim, ...], "data": <array map>, "attrs": {...}}, ...},
     "data_vars": {name: {"dims": [...], "data": <array map>, "attrs": {...}}, ...}}

Every array is the msgpack-numpy array map of :mod:`._msgpack_numpy`, so datetime64/timedelta64
travel as int64 bytes with the unit in the dtype string (``'<M8[ns]'``) and nothing is pickled.
xarray is an optional extra: it is imported on first use.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from .._exceptions import DecodeError, EncodeError, MissingDependencyError
from ._arrays import NDArray
from ._base import DEFAULT_LIMITS, Buffer, as_view, describe
from ._encoding import Encoding
from ._limits import DecodeLimits
from ._msgpack_numpy import pack, scalar_map, unpack

if TYPE_CHECKING:
    import xarray

__all__ = ["FORMAT", "VERSION", "XarrayCodec"]

FORMAT = "dq-sdk/xarray"
VERSION = 1
_VARIABLE_KEYS = {"dims", "data", "attrs"}


def _xarray() -> Any:
    try:
        import xarray
    except ImportError as exc:
        raise MissingDependencyError("xarray", "xarray", "the xarray encoding") from exc
    return xarray


def _attrs(attrs: Mapping[Any, Any], where: str) -> dict[str, object]:
    """Attributes ready for the writer, every key a str."""
    out: dict[str, object] = {}
    for key, value in attrs.items():
        if not isinstance(key, str):
            raise EncodeError(f"xarray encoding: attribute key {key!r} of {where} is not a str")
        out[key] = _attr_value(value)
    return out


def _attr_value(value: object) -> object:
    # msgpack writes np.float64 as a plain float (it subclasses float); the scalar map keeps
    # the numpy type, as for every other numpy scalar.
    if isinstance(value, np.float64):
        return scalar_map(value)
    if isinstance(value, list | tuple):
        return [_attr_value(item) for item in value]
    if isinstance(value, dict):
        return {key: _attr_value(item) for key, item in value.items()}
    return value


def _values(variable: Any, where: str) -> NDArray:
    values: NDArray = np.asarray(variable.values)
    if values.dtype.hasobject:
        # Python str in an object array (as pandas makes them): carry as fixed-width 'U'.
        items = values.ravel().tolist()
        if not all(isinstance(item, str) for item in items):
            kinds = sorted({type(item).__name__ for item in items if not isinstance(item, str)})
            raise EncodeError(
                f"xarray encoding: {where} has object dtype holding {', '.join(kinds)}; only "
                "object arrays of str can be sent (as a 'U' dtype)"
            )
        values = np.array(items, dtype=str).reshape(values.shape)
    return values


def _variables(items: Mapping[Any, Any], kind: str) -> dict[str, dict[str, object]]:
    out: dict[str, dict[str, object]] = {}
    for name, array in items.items():
        where = f"{kind} {name!r}"
        if not isinstance(name, str) or not all(isinstance(dim, str) for dim in array.dims):
            raise EncodeError(f"xarray encoding: {where}: names and dims must be str")
        variable = array.variable
        out[name] = {
            "dims": list(variable.dims),
            "data": _values(variable, where),
            "attrs": _attrs(variable.attrs, where),
        }
    return out


class XarrayCodec:
    """The ``xarray`` encoding (see ``docs/encodings.md``)."""

    @property
    def encoding(self) -> Encoding:
        return Encoding.XARRAY

    def encode(self, value: object) -> bytes:
        xr = _xarray()
        if not isinstance(value, xr.Dataset):
            hint = " (use DataArray.to_dataset())" if isinstance(value, xr.DataArray) else ""
            raise EncodeError(
                f"xarray encoding takes an xarray.Dataset, got {describe(value)}{hint}"
            )
        message = {
            "format": FORMAT,
            "version": VERSION,
            "attrs": _attrs(value.attrs, "the dataset"),
            "coords": _variables(value.coords, "coordinate"),
            "data_vars": _variables(value.data_vars, "data variable"),
        }
        return pack(message, Encoding.XARRAY)

    def decode(self, data: Buffer, limits: DecodeLimits = DEFAULT_LIMITS) -> xarray.Dataset:
        xr = _xarray()
        message = unpack(as_view(data, Encoding.XARRAY), limits, Encoding.XARRAY)
        # isinstance first: a decoded array in either place would compare elementwise.
        if (
            not isinstance(message, dict)
            or not isinstance(message.get("format"), str)
            or message["format"] != FORMAT
        ):
            raise DecodeError(f"xarray decoding: not a {FORMAT} message")
        if not isinstance(message.get("version"), int) or message["version"] != VERSION:
            raise DecodeError(
                f"xarray decoding: {FORMAT} version {message.get('version')!r} is not "
                f"supported (this dq-sdk reads version {VERSION})"
            )
        try:
            coords = _read_variables(xr, message.get("coords"), "coords")
            data_vars = _read_variables(xr, message.get("data_vars"), "data_vars")
            attrs = _read_attrs(message.get("attrs"), "attrs")
            dataset: xarray.Dataset = xr.Dataset(data_vars, coords=coords, attrs=attrs)
        except DecodeError:
            raise
        except (ValueError, TypeError, KeyError) as exc:  # xarray refuses the combination
            raise DecodeError(
                f"xarray decoding: the variables do not form a Dataset: {exc}"
            ) from exc
        return dataset


def _read_attrs(attrs: object, where: str) -> dict[str, object]:
    if not isinstance(attrs, dict) or not all(isinstance(key, str) for key in attrs):
        raise DecodeError(f"xarray decoding: {where} must be a map with str keys")
    return attrs


def _read_variables(xr: Any, section: object, where: str) -> dict[str, Any]:
    if not isinstance(section, dict):
        raise DecodeError(f"xarray decoding: {where} must be a map")
    out: dict[str, Any] = {}
    for name, entry in section.items():
        place = f"{where}.{name}"
        if (
            not isinstance(name, str)
            or not isinstance(entry, dict)
            or entry.keys() != _VARIABLE_KEYS
        ):
            raise DecodeError(f"xarray decoding: {place} must be a map of dims, data, attrs")
        dims, data = entry["dims"], entry["data"]
        if not isinstance(data, np.ndarray):
            raise DecodeError(f"xarray decoding: {place}.data is not an array")
        if not isinstance(dims, list) or not all(isinstance(d, str) for d in dims):
            raise DecodeError(f"xarray decoding: {place}.dims must be a list of str")
        if len(dims) != data.ndim:
            raise DecodeError(
                f"xarray decoding: {place} has {len(dims)} dims for a {data.ndim}-d array"
            )
        out[name] = xr.Variable(dims, data, attrs=_read_attrs(entry["attrs"], f"{place}.attrs"))
    return out
