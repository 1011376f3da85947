"""Model typing that must pass mypy --strict: fields, ClassVars, containers and inference."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, assert_type

import numpy as np
import numpy.typing as npt
import xarray as xr

from dq_sdk import Encoding, Producer
from dq_sdk.schemas import (
    AmplitudeItem,
    BandAveragedXCorrItem,
    MetricPayload,
    PhaseItem,
    PointingNumpyArray,
    PointingTable,
    PointingTableAttrs,
    SpectralWindow,
    SpectrumItem,
    StructuredArray,
    UVCoverageItem,
)

Item = SpectrumItem | AmplitudeItem | PhaseItem | UVCoverageItem | BandAveragedXCorrItem


def rows_and_arrays(row: PointingNumpyArray, wire: object) -> None:
    assert_type(row.antenna_name, str)
    assert_type(row.fitted_height, float)
    assert_type(row.to_numpy(), npt.NDArray[np.void])
    assert_type(PointingNumpyArray.from_wire(wire), PointingNumpyArray)
    assert_type(PointingNumpyArray.encoding, Encoding)
    assert_type(PointingNumpyArray.schema_version, str)

    array = StructuredArray[PointingNumpyArray].from_rows([row, row])
    assert_type(array, StructuredArray[PointingNumpyArray])
    assert_type(
        StructuredArray[PointingNumpyArray](row.to_numpy()), StructuredArray[PointingNumpyArray]
    )
    assert_type(
        StructuredArray[PointingNumpyArray].from_wire(wire), StructuredArray[PointingNumpyArray]
    )
    assert_type(array.array, npt.NDArray[np.void])
    assert_type(array.rows(), list[PointingNumpyArray])
    assert_type(array[0], PointingNumpyArray)
    assert_type(len(array), int)
    for each in array:
        assert_type(each, PointingNumpyArray)


def whole_arrays_bind_the_producer(server: str) -> None:
    # A subscripted container is a class value: the model argument binds M to it.
    producer = Producer(StructuredArray[PointingNumpyArray], server, topic="pointing_offset")
    assert_type(producer, Producer[StructuredArray[PointingNumpyArray]])
    rows = Producer(PointingNumpyArray, server)
    assert_type(rows, Producer[PointingNumpyArray])


def tables(table: PointingTable) -> None:
    assert_type(table.dataset, xr.Dataset)
    assert_type(table.attrs, PointingTableAttrs)
    assert_type(table.attrs.band_type, str | None)
    assert_type(table.to_wire(), xr.Dataset)
    assert_type(PointingTable.example(antenna=4, time=2), PointingTable)
    assert_type(PointingTable(dataset=table.dataset), PointingTable)


def metrics(payload: MetricPayload, wire: dict[str, Any]) -> None:
    assert_type(payload.timestamp, datetime)
    assert_type(payload.data, Sequence[Item])
    window = payload.spectral_window  # optional since 1.1.0: some producers send none
    assert_type(window, SpectralWindow | None)
    if window is not None:
        assert_type(window.count, int)
        assert_type(window.channels_id, int | str | None)
    assert_type(payload.to_wire(), dict[str, Any])
    assert_type(MetricPayload.from_wire(wire), MetricPayload)
    item = payload.data[0]
    if isinstance(item, SpectrumItem):
        assert_type(item.power, npt.NDArray[np.float64])
    SpectrumItem(polarisation="XX", power=np.zeros(4))


def items_built_apart_are_accepted(window: SpectralWindow, when: datetime) -> None:
    # ``data`` is a Sequence (covariant), so a list of one item type is accepted as it is.
    items = [AmplitudeItem(baseline="A_B", polarisation="XX", amplitudes=np.ones(3))]
    MetricPayload(
        data_type="amplitude",
        processing_block_id="pb",
        timestamp=when,
        spectral_window=window,
        data=items,
    )
