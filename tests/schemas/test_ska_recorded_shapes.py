"""Messages in the shapes SKA's producers are recorded sending (docs/schemas.md, "What SKA
sends") validate, round-trip through Producer[M]/Consumer[M] and the seed API on the real broker,
and broken variants are refused with the field named.

The fixtures are written here in the recorded shapes (types, optional blocks, id spellings, NaN
as "nan"), small and with made-up values; the recordings themselves are not copied.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest

from dq_sdk import (
    Consumer,
    DataQueueConsumer,
    DataQueueProducer,
    MessageValidationError,
    Producer,
    TransportName,
    validate,
)
from dq_sdk.schemas import (
    AmplitudeItem,
    GainCalibrationDisplay,
    MetricPayload,
    PointingOffsetDisplay,
)

LIMIT_S = 30
RecordModel = type[MetricPayload] | type[PointingOffsetDisplay] | type[GainCalibrationDisplay]


def _window(**overrides: object) -> dict[str, object]:
    window: dict[str, object] = {
        "freq_min": 715459000.0,
        "freq_max": 1456123000.0,
        "count": 8,
        "channels_id": 0,
        "spectral_window_id": 1,
        "start": 0,
        "stride": 1,
    }
    window.update(overrides)
    return window


def _metric(data_type: str, data: list[dict[str, object]], **extra: object) -> dict[str, Any]:
    message: dict[str, Any] = {
        "data_type": data_type,
        "processing_block_id": "pb-test-20260101-00001",
        "spectral_window": _window(),
        "timestamp": "2026-01-01T12:00:00.123456+00:00",
        "data": data,
    }
    message.update(extra)
    return message


def _channels(scale: float) -> list[float]:
    return [scale * (i + 1) for i in range(8)]


def spectrum() -> dict[str, Any]:
    # Recorded: power a float list; power_std and angle_std ints, angle an empty list (extras).
    items: list[dict[str, object]] = [
        {"polarisation": p, "power": _channels(10.5), "power_std": 1, "angle": [], "angle_std": 1}
        for p in ("XX", "XY", "YX", "YY")
    ]
    return _metric("spectrum", items)


def uv_coverage() -> dict[str, Any]:
    # Recorded: channels_id "0" and spectral_window_id "none" as strings; u, v, w ints (0 on
    # autocorrelations) or floats; weight a float in [0, 1]; processing block "pb-unknown".
    items: list[dict[str, object]] = [
        {"baseline": "m001_m001", "polarisation": "XX", "weight": 0.9, "u": 0, "v": 0, "w": 0},
        {
            "baseline": "m001_m002",
            "polarisation": "YY",
            "weight": 0.25,
            "u": -512.75,
            "v": 1804.5,
            "w": -230.125,
        },
    ]
    return _metric(
        "uvcoverage",
        items,
        processing_block_id="pb-unknown",
        spectral_window=_window(channels_id="0", spectral_window_id="none"),
    )


def amplitude() -> dict[str, Any]:
    # Recorded (2024-07 on): values under "data", plus a "component" float list.
    items: list[dict[str, object]] = [
        {
            "baseline": "m001_m002",
            "polarisation": p,
            "data": _channels(2.0),
            "component": _channels(0.5),
        }
        for p in ("XX", "YY")
    ]
    return _metric("amplitude", items)


def phase() -> dict[str, Any]:
    items: list[dict[str, object]] = [
        {"baseline": "m001_m002", "polarisation": "XX", "data": _channels(0.1)},
    ]
    return _metric("phase", items)


def lag_plot() -> dict[str, Any]:
    items: list[dict[str, object]] = [
        {"baseline": "m003_m004", "polarisation": "XY", "data": _channels(3.0)},
    ]
    return _metric("lagplot", items)


def amplitude_legacy() -> dict[str, Any]:
    # Recorded (2024-02): values under "amplitudes"; spectral_window only freq_min/max, count.
    items: list[dict[str, object]] = [
        {"baseline": "m001_m001", "polarisation": "XX", "amplitudes": _channels(7.0)},
    ]
    window = {"freq_min": 715.459, "freq_max": 1456.123, "count": 8}
    return _metric("amplitude", items, spectral_window=window, processing_block_id="0")


def band_averaged_xcorr() -> dict[str, Any]:
    # Recorded without a spectral_window block; "data" a float per baseline and polarisation.
    items: list[dict[str, object]] = [
        {"baseline": "C10_C10", "polarisation": p, "data": 0.01} for p in ("XX", "XY", "YX", "YY")
    ]
    message = _metric("bandaveragedxcorr", items, timestamp="2026-01-01T12:00:06.2+00:00")
    del message["spectral_window"]
    return message


POINTING_COLUMNS = [name for name in PointingOffsetDisplay.model_fields if name != "antennas"]


def pointing_offsets() -> dict[str, Any]:
    # Recorded: every column a list per antenna mixing ints, floats and "nan" (JSON has no NaN).
    message: dict[str, Any] = {"antennas": ["SKA001", "SKA002", "SKA003"]}
    for index, name in enumerate(POINTING_COLUMNS):
        message[name] = [1, "nan", -0.953 + index / 100]
    return message


def gain_calibration() -> dict[str, Any]:
    # Recorded: one time; gains and phases one row per antenna, 4 values, "nan" for a failure.
    return {
        "time": [1767268800.25],
        "gains": [["nan", 0.895, 0.925, 0.68], [1.11, 0.93, 0.58, 0.95]],
        "phases": [[0.94, -0.58, -1.4, 1.3], [-1.07, -0.58, 0.39, -0.47]],
    }


SHAPES: dict[str, tuple[Callable[[], dict[str, Any]], RecordModel]] = {
    "spectrum": (spectrum, MetricPayload),
    "uvcoverage": (uv_coverage, MetricPayload),
    "amplitude": (amplitude, MetricPayload),
    "phase": (phase, MetricPayload),
    "lagplot": (lag_plot, MetricPayload),
    "amplitude-legacy": (amplitude_legacy, MetricPayload),
    "bandaveragedxcorr": (band_averaged_xcorr, MetricPayload),
    "pointing-offsets": (pointing_offsets, PointingOffsetDisplay),
    "gain-calibration": (gain_calibration, GainCalibrationDisplay),
}


@pytest.mark.parametrize("shape", SHAPES)
def test_recorded_shape_validates_and_keeps_what_was_sent(shape: str) -> None:
    build, model = SHAPES[shape]
    sent = build()
    validate(sent, model)
    message = model.from_wire(sent)
    assert model.from_wire(message.to_wire()) == message
    # Known fields go back on the wire as they came: ids keep their spelling, absent optional
    # blocks stay absent, "nan" stays "nan" (JSON cannot carry a float NaN).
    wire = json.loads(json.dumps(message.to_wire(), default=lambda a: a.tolist()))
    known = {key: value for key, value in sent.items() if key in model.model_fields}
    if shape in {"spectrum", "amplitude"}:  # their extra item keys are ignored, not kept
        for item in known["data"]:
            for key in ("power_std", "angle", "angle_std", "component"):
                item.pop(key, None)
    if "timestamp" in known:  # the same instant, written in UTC with "Z" (documented)
        written = datetime.fromisoformat(wire.pop("timestamp"))
        assert written == datetime.fromisoformat(known.pop("timestamp"))
    assert wire == json.loads(json.dumps(known))


def test_identifiers_keep_their_spelling() -> None:
    message = MetricPayload.from_wire(uv_coverage())
    assert message.spectral_window is not None
    assert message.spectral_window.channels_id == "0"
    assert message.spectral_window.spectral_window_id == "none"
    assert MetricPayload.from_wire(spectrum()).spectral_window.channels_id == 0  # type: ignore[union-attr]


def test_current_and_legacy_amplitude_items_are_the_same_model() -> None:
    current = MetricPayload.from_wire(amplitude()).data[0]
    legacy = MetricPayload.from_wire(amplitude_legacy()).data[0]
    assert isinstance(current, AmplitudeItem) and isinstance(legacy, AmplitudeItem)
    assert current.amplitudes is None and current.data is not None
    assert legacy.data is None and legacy.amplitudes is not None


def _break(build: Callable[[], dict[str, Any]], change: Callable[[dict[str, Any]], None]) -> Any:
    message = copy.deepcopy(build())
    change(message)
    return message


def _set(path: str, value: object) -> Callable[[dict[str, Any]], None]:
    def change(message: dict[str, Any]) -> None:
        node: Any = message
        *parents, last = [int(p) if p.isdigit() else p for p in path.split("/")]
        for part in parents:
            node = node[part]
        if value is _DELETE:
            del node[last]
        else:
            node[last] = value

    return change


_DELETE = object()

BROKEN = [
    ("uvcoverage", "spectral_window/channels_id", "-1", "spectral_window.channels_id"),
    ("uvcoverage", "spectral_window/channels_id", -1, "spectral_window.channels_id"),
    (
        "uvcoverage",
        "spectral_window/spectral_window_id",
        "None",
        "spectral_window.spectral_window_id",
    ),
    (
        "uvcoverage",
        "spectral_window/spectral_window_id",
        True,
        "spectral_window.spectral_window_id",
    ),
    ("uvcoverage", "spectral_window/channels_id", 1.5, "spectral_window.channels_id"),
    ("uvcoverage", "data/1/u", "far", "data[1].u"),
    ("uvcoverage", "data/0/baseline", "m001", "data[0].baseline"),
    ("spectrum", "data/2/power", ["nan"], "data[2].power"),
    ("spectrum", "data_type", _DELETE, "data_type"),
    ("spectrum", "spectral_window/count", _DELETE, "spectral_window.count"),
    ("amplitude", "data/1/data", _DELETE, "data[1].amplitudes"),
    ("amplitude", "data/0/data", [1.0, "x"], "data[0].data"),
    ("phase", "data/0/data", None, "data[0].phases"),
    ("lagplot", "data/0/polarisation", "", "data[0].polarisation"),
    ("amplitude-legacy", "data/0/amplitudes", "12", "data[0].amplitudes"),
    ("bandaveragedxcorr", "data/3/data", "high", "data[3].data"),
    ("bandaveragedxcorr", "timestamp", "2026-01-01T12:00:06", "timestamp"),
    ("pointing-offsets", "crossElevationOffset/1", "NaN", "crossElevationOffset[1]"),
    ("pointing-offsets", "fittedHeight", _DELETE, "fittedHeight"),
    ("pointing-offsets", "antennas/0", 1, "antennas[0]"),
    ("pointing-offsets", "elevationOffset", "nan", "elevationOffset"),
    ("gain-calibration", "gains/0/1", "inf", "gains[0][1]"),
    ("gain-calibration", "gains/1/0", float("inf"), "gains[1][0]"),
    ("pointing-offsets", "elevationOffset/0", True, "elevationOffset[0]"),
    ("gain-calibration", "phases/1", 0.5, "phases[1]"),
    ("gain-calibration", "time/0", "now", "time[0]"),
]


@pytest.mark.parametrize(("shape", "where", "value", "field"), BROKEN)
def test_broken_variant_is_refused_with_the_field_named(
    shape: str, where: str, value: object, field: str
) -> None:
    build, model = SHAPES[shape]
    broken = _break(build, _set(where, value))
    for check in (lambda: model.from_wire(broken), lambda: validate(broken, model)):
        with pytest.raises(MessageValidationError) as caught:
            check()
        paths = [issue.path for issue in caught.value.issues]
        assert any(p == field or p.startswith((f"{field}.", f"{field}[")) for p in paths), paths
        assert field in str(caught.value)


def test_missing_renamed_field_names_both_spellings() -> None:
    broken = _break(phase, _set("data/0/data", _DELETE))
    with pytest.raises(MessageValidationError) as caught:
        MetricPayload.from_wire(broken)
    assert "phases or data" in str(caught.value)


@pytest.mark.parametrize("shape", SHAPES)
async def test_recorded_shape_round_trips_on_the_broker(
    shape: str,
    dq_bootstrap: str,
    transport: TransportName,
    dq_topic_factory: Callable[..., str],
) -> None:
    build, model = SHAPES[shape]
    sent = build()
    typed_topic, seed_topic = dq_topic_factory(), dq_topic_factory()

    message = model.from_wire(sent)
    async with Producer(model, dq_bootstrap, topic=typed_topic, transport=transport) as producer:
        await producer.send(message)
    async with Consumer(model, dq_bootstrap, topics=[typed_topic], transport=transport) as consumer:
        received = await consumer.receive(timeout_s=LIMIT_S)
    assert received.value == message
    assert dict(received.headers)["dq-schema-version"] == model.schema_version.encode()

    # The seed API sends the dict itself, checked first; the consumer gets it back unchanged.
    async with DataQueueProducer(dq_bootstrap, topic=seed_topic, transport=transport) as seed:
        await seed.send(sent, schema=model, validate=True)
    async with DataQueueConsumer(
        dq_bootstrap, topics=[seed_topic], encoding=model.encoding, transport=transport
    ) as seed_consumer:
        _, value = await seed_consumer.receive(timeout_s=LIMIT_S)
    assert value == sent
    assert model.from_wire(value) == message


async def test_seed_producer_refuses_a_broken_recorded_shape(
    dq_bootstrap: str, transport: TransportName, dq_topic: str
) -> None:
    broken = _break(uv_coverage, _set("spectral_window/spectral_window_id", "n/a"))
    async with DataQueueProducer(dq_bootstrap, topic=dq_topic, transport=transport) as seed:
        with pytest.raises(MessageValidationError) as caught:
            await seed.send(broken, schema=MetricPayload, validate=True)
        await seed.send(uv_coverage(), schema=MetricPayload, validate=True)
    assert "spectral_window.spectral_window_id" in str(caught.value)
    async with DataQueueConsumer(
        dq_bootstrap, topics=[dq_topic], encoding=MetricPayload.encoding, transport=transport
    ) as consumer:
        _, first = await consumer.receive(timeout_s=LIMIT_S)
    assert first == uv_coverage()  # the broken one never reached the topic


def test_a_python_nan_goes_out_as_the_json_spelling() -> None:
    message = pointing_offsets()
    message["fittedHeight"] = [float("nan"), 2, 0.5]
    assert PointingOffsetDisplay.from_wire(message).to_wire()["fittedHeight"] == ["nan", 2.0, 0.5]
