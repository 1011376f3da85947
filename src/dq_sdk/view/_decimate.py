"""Server-side decimation: whatever a topic carries, a browser gets few points and few updates.

Traces keep their shape (peaks survive: each bin contributes its minimum and its maximum),
grids are block-averaged, and numbers become JSON-ready lists with ``None`` for NaN/inf (JSON
has no NaN). A :class:`RateLimit` caps how often a topic's latest message is decoded.
"""

from __future__ import annotations

import base64
import math
import time
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = [
    "MAX_GRID",
    "MAX_POINTS",
    "Packed",
    "RateLimit",
    "bin_mean",
    "block_mean",
    "json_numbers",
    "min_max_trace",
    "unpack_numbers",
]

#: Points per trace sent to a browser (a spectrum of 4096 channels becomes 2000 points).
MAX_POINTS = 2000
#: Rows and columns of a heat map sent to a browser.
MAX_GRID = 256

FloatArray = npt.NDArray[np.float64]
#: A packed array of numbers as sent to the page.
Packed = dict[str, str]


def json_numbers(values: npt.ArrayLike) -> Packed:
    """Numbers for the page, packed: little-endian float32 in base64 (``{"f32": ...}``).

    Formatting thousands of floats as JSON text cost more than everything else the server
    does per update (about 6 us a number); packing is a copy. float32 keeps 7 significant
    digits, plenty for a plot; NaN (and inf) become gaps in the page's plots.
    """
    array = np.array(values, dtype="<f4").ravel()
    array[~np.isfinite(array)] = np.nan  # inf too: no plot can place it
    return {"f32": base64.b64encode(array.tobytes()).decode("ascii")}


def unpack_numbers(packed: Packed) -> list[float | None]:
    """What the page makes of :func:`json_numbers` (NaN as ``None``): for tests and tools."""
    array = np.frombuffer(base64.b64decode(packed["f32"]), dtype="<f4").astype(np.float64)
    return [None if np.isnan(v) else float(v) for v in array]


def min_max_trace(
    y: npt.ArrayLike, x: npt.ArrayLike | None = None, max_points: int = MAX_POINTS
) -> tuple[FloatArray, FloatArray]:
    """``(x, y)`` with at most ``max_points`` points that draw like the full trace.

    Short traces come back whole. Long ones are cut into ``max_points // 2`` bins; each bin
    gives its minimum and its maximum, in the order they occur, so spikes and dips stay
    visible (plain striding or averaging would hide a one-channel RFI spike). They are placed
    at the bin's first and last x: traces of one length then share one x axis, as a chart
    of several series needs, and a value is at most one bin from where it was.
    """
    values = np.asarray(y, dtype=np.float64).ravel()
    xs = np.arange(values.size, dtype=np.float64) if x is None else np.asarray(x, np.float64)
    if xs.shape != values.shape:
        raise ValueError(f"x has {xs.size} values, y has {values.size}")
    if max_points < 2:
        raise ValueError(f"max_points must be >= 2, not {max_points}")
    if values.size <= max_points:
        return xs, values
    step = math.ceil(values.size / (max_points // 2))
    bins = math.ceil(values.size / step)
    padded = np.full(bins * step, np.nan)
    padded[: values.size] = values
    blocks = padded.reshape(bins, step)
    missing = np.isnan(blocks)
    starts = np.arange(bins) * step
    ends = np.minimum(starts + step, values.size) - 1
    lo = starts + np.where(missing, np.inf, blocks).argmin(axis=1)
    hi = starts + np.where(missing, -np.inf, blocks).argmax(axis=1)
    # An all-NaN bin gives its first index for both: NaN, a gap in the line.
    first, second = np.minimum(lo, hi), np.maximum(lo, hi)
    out_x = np.stack([xs[starts], xs[ends]], axis=1).ravel()
    out_y = np.stack([values[first], values[second]], axis=1).ravel()
    return out_x, out_y


def block_mean(values: npt.ArrayLike, max_rows: int = MAX_GRID, max_cols: int = MAX_GRID) -> Any:
    """A 2-D grid averaged in blocks down to at most ``max_rows`` x ``max_cols`` (NaN-aware)."""
    grid = np.asarray(values, dtype=np.float64)
    if grid.ndim != 2:
        raise ValueError(f"a heat map needs 2 dimensions, not shape {grid.shape}")
    rows, cols = grid.shape
    row_step = max(1, math.ceil(rows / max_rows))
    col_step = max(1, math.ceil(cols / max_cols))
    if row_step == col_step == 1:
        return grid
    out_rows, out_cols = math.ceil(rows / row_step), math.ceil(cols / col_step)
    padded = np.full((out_rows * row_step, out_cols * col_step), np.nan)
    padded[:rows, :cols] = grid
    blocks = padded.reshape(out_rows, row_step, out_cols, col_step)
    finite = np.isfinite(blocks)
    counts = finite.sum(axis=(1, 3))
    sums = np.where(finite, blocks, 0.0).sum(axis=(1, 3))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)


def bin_mean(values: npt.ArrayLike, bins: int) -> FloatArray:
    """A 1-D trace averaged down to at most ``bins`` values (a waterfall row)."""
    row = np.asarray(values, dtype=np.float64).reshape(1, -1)
    return np.asarray(block_mean(row, 1, bins), dtype=np.float64).ravel()


class RateLimit:
    """A token bucket: at most ``per_second`` events on average, ``burst`` at once."""

    def __init__(self, per_second: float, burst: int, clock: Any = time.monotonic) -> None:
        if per_second <= 0 or burst < 1:
            raise ValueError(f"per_second must be > 0 and burst >= 1, not {per_second}, {burst}")
        self.per_second = per_second
        self.burst = burst
        self._clock = clock
        self._tokens = float(burst)
        self._at = clock()

    def allow(self) -> bool:
        """Take a token if one is there."""
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._at) * self.per_second)
        self._at = now
        if self._tokens >= 1:
            self._tokens -= 1
            return True
        return False
