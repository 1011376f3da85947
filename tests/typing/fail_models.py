"""Wrong uses of the generated models: each marked line must be a mypy error of that code."""

from __future__ import annotations

import numpy as np

from dq_sdk.schemas import (
    AmplitudeItem,
    MetricPayload,
    PointingNumpyArray,
    PointingTable,
    SpectrumItem,
    StructuredArray,
)


def a_row_from_a_dict_of_floats(row: dict[str, float]) -> None:
    PointingNumpyArray(**row)  # E: arg-type


def a_row_with_a_wrong_field(row: PointingNumpyArray, fits: dict[str, float]) -> None:
    PointingNumpyArray(antenna_name=1, **fits)  # E: arg-type
    PointingNumpyArray(antenna_name="SKA001")  # E: call-arg
    row.fitted_height = 1.0  # E: misc
    _ = row.fitted_hieght  # E: attr-defined


def containers_only_hold_rows(metric: MetricPayload, row: PointingNumpyArray) -> None:
    _ = StructuredArray[MetricPayload]  # E: type-var
    StructuredArray[PointingNumpyArray].from_rows([metric])  # E: list-item
    for each in StructuredArray[PointingNumpyArray].from_rows([row]):
        _ = each.power  # E: attr-defined


def metric_fields(payload: MetricPayload) -> None:
    payload.data_type = "phase"  # E: misc
    SpectrumItem(polarisation="XX", power="loud")  # E: arg-type
    AmplitudeItem(baseline="A_B", polarisation="XX", data="loud")  # E: arg-type
    _ = payload.spectral_window.count  # E: union-attr
    _ = payload.data[0].power  # E: union-attr


def tables_wrap_datasets(table: PointingTable) -> None:
    PointingTable(dataset=np.zeros(3))  # E: arg-type
    _ = table.attrs.pointing_frme  # E: attr-defined
