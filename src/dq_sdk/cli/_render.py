"""How ``dq-sdk consume`` shows values: previews for people (arrays and Datasets summarised
by shape, dtype, min / max / mean and NaN count) and plain JSON for scripts (arrays as nested
lists, NaN and infinities as null)."""

from __future__ import annotations

import base64
import datetime as dt
import json
import math
from collections.abc import Mapping
from typing import Any, TypeGuard

import numpy as np
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

__all__ = ["array_stats", "json_value", "preview", "timestamp_text"]

_TEXT_LIMIT = 2000


def timestamp_text(timestamp_ms: int) -> str | None:
    """A record timestamp (ms since the epoch) as ISO-8601 UTC; None when the record has none."""
    if timestamp_ms < 0:
        return None
    when = dt.datetime.fromtimestamp(timestamp_ms / 1000, tz=dt.UTC)
    return when.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def array_stats(array: np.ndarray[Any, Any]) -> dict[str, Any]:
    """min / max / mean over the values that are not NaN (an infinity shows), and the NaN
    count, of a numeric array."""
    stats: dict[str, Any] = {"min": None, "max": None, "mean": None, "nan": 0}
    if array.dtype.kind in "biuf" and array.size:
        values = array.astype(np.float64, copy=False)
        nan = np.isnan(values)
        stats["nan"] = int(nan.sum())
        present = values[~nan]
        if present.size:
            with np.errstate(invalid="ignore", over="ignore"):  # inf - inf in the mean
                mean = float(present.mean())
            stats.update(min=float(present.min()), max=float(present.max()), mean=mean)
    elif array.dtype.kind == "c" and array.size:
        stats["nan"] = int(np.isnan(array).sum())
    return stats


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.6g}"


def _stats_row(name: str, array: np.ndarray[Any, Any]) -> list[str]:
    stats = array_stats(array)
    shape = "x".join(map(str, array.shape)) or "scalar"
    numeric = array.dtype.kind in "biufc"
    return [
        name,
        str(array.dtype),
        shape,
        *(
            (
                _number(stats["min"]),
                _number(stats["max"]),
                _number(stats["mean"]),
                str(stats["nan"]),
            )
            if numeric
            else ("-", "-", "-", "-")
        ),
    ]


def _stats_table(title: str) -> Table:
    table = Table(
        "field",
        "dtype",
        "shape",
        "min",
        "max",
        "mean",
        "NaN",
        box=None,
        title=title,
        title_justify="left",
        header_style="bold",
        title_style="",
    )
    return table


def preview(value: object) -> RenderableType:
    """A compact, readable rendering of a decoded value (never every element of an array)."""
    if isinstance(value, np.ndarray):
        if value.dtype.names:
            table = _stats_table(f"structured array, {value.shape[0] if value.ndim else 1} rows")
            for name in value.dtype.names:
                table.add_row(*_stats_row(name, value[name]))
            return table
        table = _stats_table("array")
        table.add_row(*_stats_row("value", value))
        return table
    if _is_dataset(value):
        sizes = ", ".join(f"{k}: {v}" for k, v in value.sizes.items())
        table = _stats_table(f"Dataset ({sizes})")
        for name, variable in [*value.coords.items(), *value.data_vars.items()]:
            table.add_row(*_stats_row(str(name), np.asarray(variable.values)))
        return table
    if isinstance(value, bytes):
        head = value[:64].hex(" ")
        more = " ..." if len(value) > 64 else ""
        return Text(f"{len(value)} bytes: {head}{more}")
    if isinstance(value, str):
        return Text(value if len(value) <= _TEXT_LIMIT else value[:_TEXT_LIMIT] + " ...")
    arrays: list[tuple[str, np.ndarray[Any, Any]]] = []
    summary = _summarise(value, "", arrays)
    text = json.dumps(summary, ensure_ascii=False, allow_nan=False, default=str)
    if len(text) > _TEXT_LIMIT:
        text = text[:_TEXT_LIMIT] + " ..."
    if not arrays:
        return Text(text)
    table = _stats_table("arrays")
    for path, array in arrays:
        table.add_row(*_stats_row(path, array))
    return Group(Text(text), table)


def _summarise(value: object, path: str, arrays: list[tuple[str, np.ndarray[Any, Any]]]) -> Any:
    """JSON-able view of a value with arrays replaced by a short note (listed in ``arrays``)."""
    if isinstance(value, np.ndarray):
        arrays.append((path or "value", value))
        return f"<array {value.dtype} {'x'.join(map(str, value.shape))}>"
    if isinstance(value, Mapping):
        return {
            str(k): _summarise(v, f"{path}.{k}" if path else str(k), arrays)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        if len(value) > 16 and all(isinstance(v, int | float) for v in value):
            arrays.append((path or "value", np.asarray(value, dtype=np.float64)))
            return f"<list of {len(value)} numbers>"
        return [_summarise(v, f"{path}[{i}]", arrays) for i, v in enumerate(value)]
    return json_value(value)


def _is_dataset(value: object) -> TypeGuard[Any]:
    return type(value).__name__ == "Dataset" and hasattr(value, "data_vars")


def json_value(value: object) -> Any:
    """A decoded value as plain JSON: arrays as nested lists (structured arrays as a list of
    objects), NaN and infinities as null, bytes as base64 text, times as ISO-8601."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, np.ndarray):
        if value.dtype.names:
            names = value.dtype.names
            return [{n: json_value(row[n]) for n in names} for row in value.reshape(-1)]
        if value.dtype.kind in "fc":
            return _clean(value.tolist())
        if value.dtype.kind in "mM":
            return _clean(
                np.datetime_as_string(value).tolist()
                if value.dtype.kind == "M"
                else value.astype(str).tolist()
            )
        return _clean(value.tolist())
    if isinstance(value, np.generic):
        return json_value(value.item())
    if isinstance(value, complex):
        return [json_value(value.real), json_value(value.imag)]
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if _is_dataset(value):  # before Mapping: a Dataset is one
        return json_value(value.to_dict(data="list"))
    if isinstance(value, Mapping):
        return {str(k): json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_value(v) for v in value]
    return str(value)


def _clean(value: Any) -> Any:
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return json_value(value)
