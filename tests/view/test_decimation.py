"""Server-side decimation and the per-topic decode limit (no broker needed)."""

from __future__ import annotations

import numpy as np
import pytest

from dq_sdk.view import MAX_POINTS, RateLimit, block_mean, min_max_trace

# The view's decimation (internal), tested below the page that uses it.
from dq_sdk.view._decimate import bin_mean, json_numbers, unpack_numbers


def test_long_traces_are_cut_to_max_points_and_keep_their_spikes() -> None:
    rng = np.random.default_rng(1)
    y = rng.normal(size=100_003)
    y[4321] = 50.0  # a one-channel spike (RFI) must survive
    y[77_777] = -40.0
    x, out = min_max_trace(y, np.arange(y.size) * 0.5)
    assert out.size <= MAX_POINTS
    assert x.shape == out.shape
    assert out.max() == 50.0
    assert out.min() == -40.0
    step = y.size / (MAX_POINTS // 2)
    assert abs(x[np.argmax(out)] - 4321 * 0.5) <= step * 0.5  # within its bin
    assert np.all(np.diff(x) >= 0)


def test_traces_of_one_length_share_the_decimated_x() -> None:
    rng = np.random.default_rng(2)
    x = np.linspace(350.0, 1050.0, 4096)
    xa, _ = min_max_trace(rng.normal(size=4096), x)
    xb, _ = min_max_trace(rng.normal(size=4096), x)
    assert np.array_equal(xa, xb)


def test_short_traces_come_back_whole_and_nan_stays_a_gap() -> None:
    y = np.array([1.0, np.nan, 3.0])
    x, out = min_max_trace(y)
    assert np.array_equal(x, [0.0, 1.0, 2.0])
    assert unpack_numbers(json_numbers(out)) == [1.0, None, 3.0]


def test_an_all_nan_bin_stays_nan() -> None:
    y = np.full(10_000, np.nan)
    y[:5000] = 1.0
    _, out = min_max_trace(y, max_points=100)
    assert np.isnan(out[-1])
    assert out[0] == 1.0


def test_bad_arguments_are_refused_with_the_values() -> None:
    with pytest.raises(ValueError, match="x has 2 values, y has 3"):
        min_max_trace([1, 2, 3], [1, 2])
    with pytest.raises(ValueError, match="max_points must be >= 2, not 1"):
        min_max_trace([1, 2, 3], max_points=1)
    with pytest.raises(ValueError, match=r"2 dimensions, not shape \(3,\)"):
        block_mean([1, 2, 3])


def test_grids_are_block_averaged_nan_aware() -> None:
    grid = np.arange(1000 * 600, dtype=np.float64).reshape(1000, 600)
    grid[0, 0] = np.nan
    out = block_mean(grid, 256, 256)
    assert out.shape[0] <= 256 and out.shape[1] <= 256
    assert np.isfinite(out).all()
    assert out[0, 0] == pytest.approx(np.nanmean(grid[:4, :3]))
    assert block_mean(np.ones((3, 4))).shape == (3, 4)


def test_waterfall_rows_are_bin_means() -> None:
    assert bin_mean(np.arange(8.0), 4).tolist() == [0.5, 2.5, 4.5, 6.5]


def test_numbers_are_packed_as_float32_with_non_finite_as_gaps() -> None:
    packed = json_numbers([1.5, 1e-3, np.inf, -np.inf, np.nan])
    assert set(packed) == {"f32"}
    values = unpack_numbers(packed)
    assert values[0] == 1.5 and values[1] == pytest.approx(1e-3, rel=1e-7)
    assert values[2:] == [None, None, None]


def test_rate_limit_allows_a_burst_then_the_rate() -> None:
    now = [0.0]
    limit = RateLimit(10, 10, clock=lambda: now[0])
    assert sum(limit.allow() for _ in range(50)) == 10
    now[0] = 0.5
    assert sum(limit.allow() for _ in range(50)) == 5
    with pytest.raises(ValueError, match="per_second must be > 0"):
        RateLimit(0, 1)
