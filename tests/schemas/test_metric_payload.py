"""MetricPayload: signal-display metrics, items chosen by data_type, float lists as arrays."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import numpy as np
import pytest
from pydantic import ValidationError

from dq_sdk import Encoding, MessageValidationError, validate
from dq_sdk.codecs import decode, encode
from dq_sdk.schemas import (
    AmplitudeItem,
    BandAveragedXCorrItem,
    MetricPayload,
    PhaseItem,
    SpectralWindow,
    SpectrumItem,
    UVCoverageItem,
)

WINDOW: dict[str, Any] = {
    "freq_min": 350e6,
    "freq_max": 1050e6,
    "count": 4,
    "channels_id": 1,
    "spectral_window_id": 0,
    "start": 0,
    "stride": 1,
}

ITEMS: dict[str, tuple[type[Any], dict[str, Any]]] = {
    "spectrum": (SpectrumItem, {"polarisation": "XX", "power": [1.0, 2.0, 3.0, 4.0]}),
    "amplitude": (
        AmplitudeItem,
        {"baseline": "SKA001_SKA002", "polarisation": "XX", "amplitudes": [1.0]},
    ),
    "lagplot": (
        AmplitudeItem,
        {"baseline": "SKA001_SKA002", "polarisation": "YY", "amplitudes": [0.5]},
    ),
    "phase": (
        PhaseItem,
        {"baseline": "SKA001_SKA002", "polarisation": "XY", "phases": [10.0, -10.0]},
    ),
    "uvcoverage": (
        UVCoverageItem,
        {
            "baseline": "SKA001_SKA002",
            "polarisation": "XX",
            "weight": 1.0,
            "u": 1.0,
            "v": 2.0,
            "w": 3.0,
        },
    ),
    "bandaveragedxcorr": (
        BandAveragedXCorrItem,
        {"baseline": "SKA001_SKA002", "polarisation": "XX", "data": 0.25},
    ),
}


def payload(data_type: str = "spectrum", **changes: Any) -> dict[str, Any]:
    return {
        "data_type": data_type,
        "processing_block_id": "pb-test-123-123",
        "timestamp": "2024-01-01T12:00:00Z",
        "spectral_window": WINDOW,
        "data": [ITEMS[data_type][1]],
        **changes,
    }


def _issues(value: object) -> dict[str, str]:
    with pytest.raises(MessageValidationError) as caught:
        MetricPayload.from_wire(value)
    return {issue.path: issue.message for issue in caught.value.issues}


@pytest.mark.parametrize("data_type", sorted(ITEMS))
def test_each_data_type_gets_its_item_model(data_type: str) -> None:
    message = MetricPayload.from_wire(payload(data_type))
    assert type(message.data[0]) is ITEMS[data_type][0]
    assert message.encoding is Encoding.MSGPACK_NUMPY
    assert message.schema_id.endswith("/signal_display_metrics.json")
    back = MetricPayload.from_wire(
        decode(encode(message.to_wire(), Encoding.MSGPACK_NUMPY), Encoding.MSGPACK_NUMPY)
    )
    assert back == message


def test_float_lists_become_arrays_and_arrays_stay_uncopied() -> None:
    power = np.linspace(0.0, 1.0, 4096)
    message = MetricPayload.from_wire(payload(data=[{"polarisation": "XX", "power": power}]))
    item = message.data[0]
    assert isinstance(item, SpectrumItem)
    assert item.power is power
    listed = SpectrumItem(polarisation="YY", power=[1, 2.5])  # type: ignore[arg-type]
    assert listed.power.dtype == np.float64
    assert (
        SpectrumItem(polarisation="XX", power=np.arange(3, dtype=np.float32)).power.dtype
        == np.float64
    )


def test_wire_value_is_a_msgpack_friendly_dict() -> None:
    wire = MetricPayload.from_wire(payload()).to_wire()
    assert wire["timestamp"] == "2024-01-01T12:00:00Z"
    assert isinstance(wire["data"][0]["power"], np.ndarray)
    assert wire["spectral_window"] == WINDOW
    as_json = MetricPayload.from_wire(payload()).model_dump(mode="json")
    assert as_json["data"][0]["power"] == [1.0, 2.0, 3.0, 4.0]


def test_json_round_trip() -> None:
    message = MetricPayload.from_wire(payload("phase"))
    assert (
        MetricPayload.from_wire(decode(encode(message.to_wire(), Encoding.JSON), Encoding.JSON))
        == message
    )


def test_timestamps_are_normalised_to_utc() -> None:
    plus_two = datetime(2024, 1, 1, 14, 0, tzinfo=timezone(timedelta(hours=2)))
    message = MetricPayload.from_wire(payload(timestamp=plus_two))
    assert message.timestamp == datetime(2024, 1, 1, 12, 0, tzinfo=UTC)
    assert message.timestamp.tzinfo is UTC
    assert message.to_wire()["timestamp"] == "2024-01-01T12:00:00Z"


def test_every_issue_is_listed_with_its_path() -> None:
    bad = payload(
        timestamp="2024-01-01T12:00:00",  # no offset
        spectral_window={**WINDOW, "stride": 0},
        data=[
            {"polarisation": "", "power": "loud"},
            {"polarisation": "XX", "power": [1.0, "x"]},
            {"polarisation": "XX"},
            {"polarisation": "XX", "power": np.zeros((2, 2))},
        ],
    )
    del bad["processing_block_id"]
    issues = _issues(bad)
    assert issues.keys() == {
        "processing_block_id",
        "timestamp",
        "spectral_window.stride",
        "data[0].polarisation",
        "data[0].power",
        "data[1].power",
        "data[2].power",
        "data[3].power",
    }
    assert "item [1] is not a number" in issues["data[1].power"]
    assert issues["data[2].power"] == "Field required"
    assert "1-d" in issues["data[3].power"]


def test_items_must_match_the_data_type() -> None:
    # An amplitude item in a spectrum payload: reported against the spectrum item model.
    issues = _issues(payload("spectrum", data=[ITEMS["amplitude"][1]]))
    assert issues == {"data[0].power": "Field required"}
    with pytest.raises(ValidationError, match="a 'spectrum' payload takes SpectrumItem items"):
        MetricPayload(
            data_type="spectrum",
            processing_block_id="pb",
            timestamp=datetime.now(UTC),
            spectral_window=SpectralWindow(**WINDOW),
            data=[AmplitudeItem(baseline="A_B", polarisation="XX", amplitudes=[1.0])],  # type: ignore[arg-type]
        )


def test_unknown_data_type_is_reported_once_without_item_noise() -> None:
    assert _issues({**payload("spectrum"), "data_type": "waterfall"}).keys() == {"data_type"}


def test_baseline_must_join_two_antennas() -> None:
    item = {**ITEMS["phase"][1], "baseline": "SKA001"}
    assert _issues(payload("phase", data=[item])).keys() == {"data[0].baseline"}


def test_extra_keys_are_ignored_for_forward_compatibility() -> None:
    assert MetricPayload.from_wire(payload(new_field=1)) == MetricPayload.from_wire(payload())


def test_not_a_map() -> None:
    assert _issues([1, 2]) == {"": "expected a map"}
    with pytest.raises(MessageValidationError):
        validate("text", MetricPayload)
