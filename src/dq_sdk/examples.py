"""Example messages with plausible values: the one home of dq-sdk's example data.

What the demo sends, what the docs, tests and benchmarks move, built in one place:

- :func:`pointing_offsets`: one pointing-offset solution, a row per antenna, some fits failed;
- :func:`spectrum_metric` and :func:`amplitude_metric`: signal-display metrics;
- Dataset messages come from the model itself, ``PointingTable.example(antenna=4, time=3)``,
  which fills the schema's ``x-xarray`` layout around its ``examples`` (the same layout walk
  :mod:`dq_sdk.testing.strategies` draws from).

Every value comes from the ``numpy.random.Generator`` given, so a seed gives the same messages.
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np

from .schemas import (
    AmplitudeItem,
    MetricPayload,
    PointingNumpyArray,
    SpectralWindow,
    SpectrumItem,
    StructuredArray,
)

__all__ = [
    "POLARISATIONS",
    "PointingArray",
    "amplitude_metric",
    "pointing_offsets",
    "spectrum_metric",
]

#: The four polarisation products of a spectrum.
POLARISATIONS = ("XX", "XY", "YX", "YY")
#: A whole pointing-offset solution: one message, a row per antenna.
PointingArray = StructuredArray[PointingNumpyArray]


def pointing_offsets(antennas: int, scan: int, rng: np.random.Generator) -> PointingArray:
    """One pointing-offset solution: a row per antenna, radians, ~5 % failed fits as NaN."""
    array = np.zeros(antennas, dtype=PointingNumpyArray.numpy_dtype())
    array["antenna_name"] = [f"SKA{i:03d}" for i in range(1, antennas + 1)]
    array["last_scan_index"] = float(scan)
    arcsec = np.pi / (180 * 3600)
    for name, scale in (("xel_offset", 20.0), ("el_offset", 20.0)):
        array[name] = rng.normal(0.0, scale * arcsec, antennas)
        array[f"{name}_std"] = np.abs(rng.normal(0.0, 1.0 * arcsec, antennas))
    beam = 1.2 * np.pi / 180  # about 1.2 degrees at L band
    array["expected_width_h"] = array["expected_width_v"] = beam
    for name in ("fitted_width_h", "fitted_width_v"):
        array[name] = beam * rng.normal(1.0, 0.02, antennas)
        array[f"{name}_std"] = np.abs(rng.normal(0.0, 0.01 * beam, antennas))
    array["fitted_height"] = rng.normal(100.0, 5.0, antennas)
    array["fitted_height_std"] = np.abs(rng.normal(0.0, 1.0, antennas))
    failed = rng.random(antennas) < 0.05
    for name in PointingNumpyArray.numpy_dtype().names or ():
        if name not in ("antenna_name", "last_scan_index"):
            array[name][failed] = np.nan
    return PointingArray(array)


def _window(channels: int) -> SpectralWindow:
    return SpectralWindow(
        freq_min=350e6,
        freq_max=1050e6,
        count=channels,
        channels_id=1,
        spectral_window_id=1,
        start=0,
        stride=1,
    )


def spectrum_metric(channels: int, rng: np.random.Generator) -> MetricPayload:
    """Power spectra of four polarisations, carried as float arrays."""
    return MetricPayload(
        data_type="spectrum",
        processing_block_id="pb-demo-20261125-00001",
        timestamp=datetime.now(UTC),
        spectral_window=_window(channels),
        data=[
            SpectrumItem(polarisation=pol, power=rng.gamma(2.0, 10.0, channels))
            for pol in POLARISATIONS
        ],
    )


def amplitude_metric(channels: int, baselines: int, rng: np.random.Generator) -> MetricPayload:
    """Amplitudes per baseline and polarisation."""
    items = [
        AmplitudeItem(
            baseline=f"SKA{a:03d}_SKA{a + 1:03d}",
            polarisation=pol,
            amplitudes=np.abs(rng.normal(1.0, 0.1, channels)),
        )
        for a in range(1, baselines + 1)
        for pol in ("XX", "YY")
    ]
    return MetricPayload(
        data_type="amplitude",
        processing_block_id="pb-demo-20261125-00001",
        timestamp=datetime.now(UTC),
        spectral_window=_window(channels),
        data=items,
    )
