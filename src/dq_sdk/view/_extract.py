"""What the page shows of one message: a one-line summary, the latest plot, and history rows.

A message is decoded by what its headers announce (``dq-schema-id`` picks a dq-sdk model and
validates it exactly as a typed ``Consumer`` would; ``dq-encoding`` picks a codec), and
otherwise by sniffing. The plot follows the model, or else the value's shape: pointing
offsets, signal-display metrics, pointing tables, numeric arrays (line or heat map), text.
Nothing here raises for a bad message: it becomes a view of kind ``"error"``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from .. import _headers
from .._consumer import check_announced_model
from .._exceptions import DQError
from .._message import WireMessage
from .._transport import FetchedRecord
from ..codecs import Encoding, decode
from ..schemas import (
    AmplitudeItem,
    BandAveragedXCorrItem,
    GainCalibrationDisplay,
    MetricPayload,
    PhaseItem,
    PointingNumpyArray,
    PointingOffsetDisplay,
    PointingTable,
    SpectrumItem,
    StructuredArray,
    UVCoverageItem,
)
from ._decimate import (
    MAX_GRID,
    MAX_POINTS,
    Packed,
    bin_mean,
    block_mean,
    json_numbers,
    min_max_trace,
)

__all__ = ["KNOWN_MODELS", "MessageView", "view_of"]

PointingArray = StructuredArray[PointingNumpyArray]

#: Models chosen by the ``dq-schema-id`` header.
KNOWN_MODELS: Mapping[str, type[WireMessage]] = {
    PointingArray.schema_id: PointingArray,
    PointingTable.schema_id: PointingTable,
    MetricPayload.schema_id: MetricPayload,
    PointingOffsetDisplay.schema_id: PointingOffsetDisplay,
    GainCalibrationDisplay.schema_id: GainCalibrationDisplay,
}

ARCSEC_PER_RAD = 180 * 3600 / math.pi
ARCMIN_PER_RAD = 180 * 60 / math.pi
#: MJD seconds (PointingTable times) minus this are Unix seconds: MJD 40587 is 1970-01-01.
MJD_UNIX_OFFSET_S = 40587 * 86400.0
#: Columns of a waterfall row: enough to see structure, small enough at 10 rows per second.
WATERFALL_BINS = 256
#: Lines drawn per baseline plot; every baseline still appears in its heat map.
MAX_LINES = 8
TEXT_LIMIT = 20_000
PREVIEW_BYTES = 256


@dataclass
class MessageView:
    """The page's view of one message (all JSON-ready)."""

    kind: str
    summary: str
    plot: dict[str, Any] = field(default_factory=dict)
    rows: list[dict[str, Any]] = field(default_factory=list)
    model: str = ""


def view_of(record: FetchedRecord) -> MessageView:
    """Decode ``record`` and describe it; a message that fails becomes an ``"error"`` view."""
    try:
        value, model = _decode(record)
        view = _describe(value, record.timestamp / 1000)
        view.model = model
        return view
    except DQError as exc:
        text = f"{type(exc).__name__}: {exc}"
        return MessageView("error", text, {"kind": "error", "text": text})
    except (ValueError, TypeError, KeyError, IndexError, UnicodeDecodeError) as exc:
        # A value no plot knows how to read (e.g. ragged JSON): say so, keep the stream going.
        text = f"cannot show this value: {type(exc).__name__}: {exc}"
        return MessageView("error", text, {"kind": "error", "text": text})


def _decode(record: FetchedRecord) -> tuple[object, str]:
    headers = record.headers
    schema_id = _headers.header_value(headers, _headers.SCHEMA_ID)
    model = KNOWN_MODELS.get(schema_id) if schema_id else None
    if model is not None:
        check_announced_model(headers, model)
        return model.from_wire(decode(record.value, model.encoding)), model.__name__
    named = _headers.header_value(headers, _headers.ENCODING)
    if named is not None:
        try:
            encoding = Encoding(named)
        except ValueError:
            allowed = ", ".join(e.value for e in Encoding)
            raise DQError(f"header {_headers.ENCODING}={named!r} is not one of {allowed}") from None
        return decode(record.value, encoding), encoding.value
    return _sniff(record.value)


def _sniff(data: bytes) -> tuple[object, str]:
    """No encoding header (a foreign producer): npy by its magic, JSON or text if they parse."""
    if data.startswith(b"\x93NUMPY"):
        return decode(data, Encoding.NPY), "npy (sniffed)"
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return data, "bytes"
    if text[:1] in "{[" or text.strip()[:1].isdigit():
        try:
            return json.loads(text), "json (sniffed)"
        except ValueError:
            pass
    return text, "text (sniffed)"


def _describe(value: object, t: float) -> MessageView:
    if isinstance(value, StructuredArray) and value.row_model is PointingNumpyArray:
        return pointing_view(value.array, t)
    if isinstance(value, MetricPayload):
        return metric_view(value, t)
    if isinstance(value, PointingTable):
        return pointing_table_view(value.dataset)
    if isinstance(value, PointingOffsetDisplay):
        return pointing_display_view(value, t)
    if isinstance(value, GainCalibrationDisplay):
        return gain_view(value)
    if isinstance(value, np.ndarray):
        return _array_view(value, t)
    if isinstance(value, bytes | bytearray | memoryview):
        return _bytes_view(bytes(value))
    if isinstance(value, str):
        return _text_view(value, t)
    sizes = getattr(value, "sizes", None)
    if type(value).__name__ == "Dataset" and sizes is not None:
        return _text_view(str(value), t, f"xarray Dataset {dict(sizes)}")
    if isinstance(value, list) and value and all(_is_number(v) for v in value):
        return _array_view(np.asarray(value, dtype=np.float64), t)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _scalar_view(float(value), t)
    return _text_view(json.dumps(_jsonable(value), indent=2, default=str), t)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _jsonable(value: object) -> object:
    """Containers as JSON, with arrays summarised (a text view of a dict of arrays)."""
    if isinstance(value, np.ndarray):
        if value.size <= 16 and value.dtype.kind in "biuf":
            return value.tolist()
        return f"array(shape={value.shape}, dtype={value.dtype})"
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value[:100]] + (["..."] if len(value) > 100 else [])
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


# --- pointing offsets ------------------------------------------------------------------


def _offsets(
    names: Sequence[str],
    xel: npt.NDArray[np.float64],
    el: npt.NDArray[np.float64],
    xel_std: npt.NDArray[np.float64] | None,
    el_std: npt.NDArray[np.float64] | None,
    widths: dict[str, Any],
    t: float,
    what: str,
    scale: float = ARCSEC_PER_RAD,
    unit: str = "arcsec",
) -> MessageView:
    """The shared view of per-antenna offsets (radians in, arcsec out, unless told)."""
    names = list(names)[:MAX_POINTS]
    count = len(names)
    xel_s, el_s = xel[:count] * scale, el[:count] * scale
    failed = ~(np.isfinite(xel_s) & np.isfinite(el_s))
    plot: dict[str, Any] = {
        "kind": "pointing",
        "unit": unit,
        "antennas": names,
        "xel": json_numbers(xel_s),
        "el": json_numbers(el_s),
        "failed": [int(i) for i in np.flatnonzero(failed)],
        "widths": widths,
    }
    if xel_std is not None and el_std is not None:
        plot["xel_std"] = json_numbers(xel_std[:count] * scale)
        plot["el_std"] = json_numbers(el_std[:count] * scale)
    good = ~failed
    mark = "\u2033" if unit == "arcsec" else f" {unit}"
    rms = (
        f"rms xel {np.sqrt(np.mean(xel_s[good] ** 2)):.3g}{mark} "
        f"el {np.sqrt(np.mean(el_s[good] ** 2)):.3g}{mark}"
        if good.any()
        else "no good fit"
    )
    summary = f"{what}: {count} antennas, {int(failed.sum())} failed fits (NaN), {rms}"
    row = {"t": t, "antennas": names, "xel": plot["xel"], "el": plot["el"]}
    return MessageView("pointing", summary, plot, [row])


def pointing_view(array: npt.NDArray[np.void], t: float) -> MessageView:
    """Pointing-offset rows (``PointingNumpyArray``): offsets, error bars, beam widths."""

    def column(name: str) -> npt.NDArray[np.float64]:
        return np.asarray(array[name], dtype=np.float64)

    widths = {
        "unit": "arcmin",
        "labels": ["fitted H", "fitted V", "expected H", "expected V"],
        "series": [
            json_numbers(column(n)[:MAX_POINTS] * ARCMIN_PER_RAD)
            for n in ("fitted_width_h", "fitted_width_v", "expected_width_h", "expected_width_v")
        ],
    }
    scans = column("last_scan_index")
    scan = f"scan {scans[0]:g}" if scans.size else "no rows"
    return _offsets(
        [str(n) for n in array["antenna_name"].tolist()],
        column("xel_offset"),
        column("el_offset"),
        column("xel_offset_std"),
        column("el_offset_std"),
        widths,
        t,
        f"pointing offsets, {scan}",
    )


def pointing_table_view(dataset: Any) -> MessageView:
    """A PointingTable: offsets per antenna at each of its times (cross-el, el)."""
    pointing = np.asarray(dataset["pointing"].values, dtype=np.float64)
    if pointing.ndim != 5 or pointing.shape[-1] < 2:
        raise ValueError(f"pointing has shape {pointing.shape}; expected 2 angles on the last")
    # First frequency and receptor: a pointing solution is usually one per antenna.
    offsets = pointing[:, :, 0, 0, :]
    times = np.asarray(dataset["time"].values, dtype=np.float64) - MJD_UNIX_OFFSET_S
    names = [str(a) for a in dataset["antenna"].values.tolist()]
    widths: dict[str, Any] = {"unit": "arcmin", "labels": [], "series": []}
    for var, label in (("fitted_width", "fitted"), ("expected_width", "expected")):
        if var in dataset.data_vars:
            values = np.asarray(dataset[var].values, dtype=np.float64)[-1, :, 0, 0, :]
            for angle, tag in ((0, "xel"), (1, "el")):
                widths["labels"].append(f"{label} {tag}")
                widths["series"].append(json_numbers(values[:MAX_POINTS, angle] * ARCMIN_PER_RAD))
    view = _offsets(
        names,
        offsets[-1, :, 0],
        offsets[-1, :, 1],
        None,
        None,
        widths,
        float(times[-1]),
        f"pointing table, {len(times)} times",
    )
    view.rows = [
        {
            "t": float(t),
            "antennas": names[:MAX_POINTS],
            "xel": json_numbers(offsets[i, :MAX_POINTS, 0] * ARCSEC_PER_RAD),
            "el": json_numbers(offsets[i, :MAX_POINTS, 1] * ARCSEC_PER_RAD),
        }
        for i, t in enumerate(times.tolist())
    ]
    return view


def _floats(values: Sequence[float | str]) -> npt.NDArray[np.float64]:
    return np.array([float(v) for v in values], dtype=np.float64)


def pointing_display_view(message: PointingOffsetDisplay, t: float) -> MessageView:
    """The signal display's pointing offsets: plotted in the units they were sent in."""
    widths = {
        "unit": "as sent",
        "labels": ["fitted xel", "fitted el", "expected xel", "expected el"],
        "series": [
            json_numbers(_floats(column)[:MAX_POINTS])
            for column in (
                message.crossElevationFittedWidth,
                message.elevationFittedWidth,
                message.crossElevationExpectedWidth,
                message.elevationExpectedWidth,
            )
        ],
    }
    return _offsets(
        [str(a) for a in message.antennas],
        _floats(message.crossElevationOffset),
        _floats(message.elevationOffset),
        _floats(message.crossElevationOffsetStandardDeviation),
        _floats(message.elevationOffsetStandardDeviation),
        widths,
        t,
        "pointing offsets (display)",
        scale=1.0,
        unit="as sent",
    )


def gain_view(message: GainCalibrationDisplay) -> MessageView:
    """Gain amplitude and phase per antenna and receptor pair."""
    gains = np.array([_floats(row) for row in message.gains], dtype=np.float64)
    phases = np.array([_floats(row) for row in message.phases], dtype=np.float64)
    if gains.ndim != 2 or phases.shape != gains.shape:
        raise ValueError(f"gains {gains.shape} and phases {phases.shape} must be equal 2-d")
    pairs = ["XX", "XY", "YX", "YY"][: gains.shape[1]] or ["value"]
    x = np.arange(gains.shape[0], dtype=np.float64)
    named = [(f"gain {p}", gains[:MAX_POINTS, i]) for i, p in enumerate(pairs)]
    named += [(f"phase {p} (rad)", phases[:MAX_POINTS, i]) for i, p in enumerate(pairs)]
    xs, series = _lines(x[:MAX_POINTS], named)
    plot = {
        "kind": "baselines",
        "quantity": "gain amplitude and phase",
        "x_label": "antenna",
        "x": xs,
        "series": series,
        "total": len(named),
        "grid": {
            "z": [json_numbers(r) for r in block_mean(gains, MAX_GRID, MAX_GRID)],
            "rows": [],
            "x0": 0.0,
            "x1": float(gains.shape[1] - 1),
        },
    }
    summary = f"gains: {gains.shape[0]} antennas x {gains.shape[1]} receptor pairs"
    return MessageView("baselines", summary, plot)


# --- signal-display metrics ------------------------------------------------------------


def _has_frequencies(metric: MetricPayload, count: int) -> bool:
    window = metric.spectral_window
    return window is not None and window.count == count and count > 1


def _channels_mhz(metric: MetricPayload, count: int) -> npt.NDArray[np.float64]:
    window = metric.spectral_window
    if window is not None and _has_frequencies(metric, count):
        return np.linspace(window.freq_min, window.freq_max, count) / 1e6
    return np.arange(count, dtype=np.float64)


def _lines(
    x: npt.NDArray[np.float64], named: Sequence[tuple[str, npt.NDArray[np.float64]]]
) -> tuple[Packed, list[dict[str, Any]]]:
    """Traces sharing one decimated x axis (every trace binned the same way)."""
    series = []
    out_x: npt.NDArray[np.float64] = x
    for name, y in named:
        out_x, out_y = min_max_trace(y, x)
        series.append({"name": name, "y": json_numbers(out_y)})
    return json_numbers(out_x), series


def metric_view(metric: MetricPayload, t: float) -> MessageView:
    """A ``MetricPayload``: spectra (with waterfall rows), amplitudes, phases, uv, xcorr."""
    kind = metric.data_type
    head = f"{kind} metric, {metric.processing_block_id}, {len(metric.data)} items"
    items = metric.data
    if kind == "spectrum":
        spectra = [i for i in items if isinstance(i, SpectrumItem)]
        named = [(i.polarisation, np.asarray(i.power, np.float64)) for i in spectra]
        return _spectrum(metric, named, head, t)
    if kind in ("amplitude", "lagplot", "phase"):
        # Values under "amplitudes"/"phases", or under "data" (what SKA's producers send).
        named = [
            (f"{i.baseline} {i.polarisation}", np.asarray(i.amplitudes, np.float64))
            if i.amplitudes is not None
            else (f"{i.baseline} {i.polarisation}", np.asarray(i.data, np.float64))
            for i in items
            if isinstance(i, AmplitudeItem)
        ] + [
            (f"{i.baseline} {i.polarisation}", np.asarray(i.phases, np.float64))
            if i.phases is not None
            else (f"{i.baseline} {i.polarisation}", np.asarray(i.data, np.float64))
            for i in items
            if isinstance(i, PhaseItem)
        ]
        return _baselines(metric, named, kind, head)
    if kind == "uvcoverage":
        uv = [i for i in items if isinstance(i, UVCoverageItem)]
        plot: dict[str, Any] = {
            "kind": "uv",
            "u": json_numbers([i.u for i in uv]),
            "v": json_numbers([i.v for i in uv]),
        }
        return MessageView("uv", head, plot)
    xcorr = [i for i in items if isinstance(i, BandAveragedXCorrItem)][:MAX_POINTS]
    plot = {
        "kind": "line",
        "x_label": "item",
        "x": list(range(len(xcorr))),
        "labels": [f"{i.baseline} {i.polarisation}" for i in xcorr],
        "series": [{"name": "cross-correlation", "y": json_numbers([i.data for i in xcorr])}],
    }
    return MessageView("line", head, plot)


def _spectrum(
    metric: MetricPayload,
    named: Sequence[tuple[str, npt.NDArray[np.float64]]],
    head: str,
    t: float,
) -> MessageView:
    count = len(named[0][1]) if named else 0
    if any(len(y) != count for _, y in named):
        raise ValueError("the spectra of one metric have different lengths")
    x = _channels_mhz(metric, count)
    xs, series = _lines(x, named)
    centres = bin_mean(x, WATERFALL_BINS) if count else np.empty(0)
    plot = {
        "kind": "spectrum",
        "x_label": "frequency (MHz)" if _has_frequencies(metric, count) else "channel",
        "x": xs,
        "series": series,
        "waterfall_x": json_numbers(centres),
    }
    row = {
        "t": t,
        "pols": {name: json_numbers(bin_mean(y, WATERFALL_BINS)) for name, y in named},
    }
    return MessageView("spectrum", f"{head}, {count} channels", plot, [row])


def _baselines(
    metric: MetricPayload,
    named: Sequence[tuple[str, npt.NDArray[np.float64]]],
    kind: str,
    head: str,
) -> MessageView:
    count = max((len(y) for _, y in named), default=0)
    x = _channels_mhz(metric, count)
    same = [(n, y) for n, y in named if len(y) == count]
    xs, series = _lines(x, same[:MAX_LINES])
    grid = np.full((len(same), count), np.nan)
    for i, (_, y) in enumerate(same):
        grid[i] = y
    z = block_mean(grid, MAX_GRID, MAX_GRID) if same else np.empty((0, 0))
    quantity = "phase (deg)" if kind == "phase" else "amplitude"
    plot = {
        "kind": "baselines",
        "quantity": quantity,
        "x_label": "frequency (MHz)" if _has_frequencies(metric, count) else "channel",
        "x": xs,
        "series": series,
        "total": len(named),
        "grid": {
            "z": [json_numbers(r) for r in z],
            "rows": [n for n, _ in same][:: max(1, math.ceil(len(same) / MAX_GRID))],
            "x0": float(x[0]) if count else 0.0,
            "x1": float(x[-1]) if count else 0.0,
        },
    }
    return MessageView("baselines", f"{head}, {count} channels", plot)


# --- anything else ---------------------------------------------------------------------


def _array_view(array: npt.NDArray[Any], t: float) -> MessageView:
    head = f"array shape {array.shape} dtype {array.dtype}"
    if array.dtype.names is not None:
        rows = [dict(zip(array.dtype.names, map(_jsonable, r), strict=True)) for r in array[:20]]
        return _text_view(json.dumps(rows, indent=1, default=str), t, head)
    if array.dtype.kind == "c":
        array = np.abs(array)
        head += " (magnitude shown)"
    if array.dtype.kind not in "biuf":
        return _text_view(json.dumps(_jsonable(array.tolist()), default=str)[:TEXT_LIMIT], t, head)
    if array.ndim == 0:
        return _scalar_view(float(array), t)
    if array.ndim == 1:
        xs, ys = min_max_trace(array.astype(np.float64))
        plot: dict[str, Any] = {
            "kind": "line",
            "x_label": "index",
            "x": json_numbers(xs),
            "series": [{"name": "value", "y": json_numbers(ys)}],
        }
        return MessageView("line", head, plot)
    grid = array.reshape(-1, array.shape[-1]) if array.ndim > 2 else array
    z = block_mean(grid, MAX_GRID, MAX_GRID)
    plot = {
        "kind": "heatmap",
        "z": [json_numbers(r) for r in z],
        "rows": [],
        "x0": 0.0,
        "x1": float(grid.shape[1] - 1),
        "note": f"{head}" + (", leading axes flattened" if array.ndim > 2 else ""),
    }
    return MessageView("heatmap", head, plot)


def _scalar_view(value: float, t: float) -> MessageView:
    text = f"{value:g}"
    return MessageView(
        "scalar",
        text,
        {"kind": "scalar", "text": text},
        [{"t": t, "value": value if math.isfinite(value) else None}],
    )


def _text_view(text: str, t: float, head: str | None = None) -> MessageView:
    shown = text if len(text) <= TEXT_LIMIT else text[:TEXT_LIMIT] + "\n... (cut)"
    first = text.strip().splitlines()[0] if text.strip() else "(empty)"
    summary = head or (first[:120] + ("..." if len(first) > 120 or "\n" in text.strip() else ""))
    return MessageView("text", summary, {"kind": "text", "text": shown}, [{"t": t, "text": shown}])


def _bytes_view(data: bytes) -> MessageView:
    preview = data[:PREVIEW_BYTES].hex(" ")
    summary = f"{len(data)} bytes (no encoding header and not text)"
    return MessageView("bytes", summary, {"kind": "text", "text": preview})
