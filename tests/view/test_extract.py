"""What the page is sent for each kind of message, and the per-topic limits (no broker)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest

from dq_sdk import Encoding, WireMessage
from dq_sdk._headers import model_headers
from dq_sdk._transport import FetchedRecord
from dq_sdk.codecs import encode
from dq_sdk.demo import amplitude_metric, pointing_offsets, spectrum_metric
from dq_sdk.schemas import (
    AmplitudeItem,
    GainCalibrationDisplay,
    MetricPayload,
    PointingNumpyArray,
    PointingOffsetDisplay,
    PointingTable,
    StructuredArray,
)
from dq_sdk.view import MAX_POINTS, Board, view_of
from dq_sdk.view._decimate import unpack_numbers as numbers
from dq_sdk.view._extract import ARCSEC_PER_RAD
from dq_sdk.view._state import DECODES_PER_S

PointingArray = StructuredArray[PointingNumpyArray]


def record(
    value: bytes, headers: tuple[tuple[str, bytes], ...] = (), offset: int = 0, topic: str = "t"
) -> FetchedRecord:
    return FetchedRecord(topic, 0, offset, 1_700_000_000_000 + offset, None, value, headers)


def typed(message: WireMessage, offset: int = 0) -> FetchedRecord:
    model = type(message)
    payload = encode(message.to_wire(), model.encoding)
    return record(payload, model_headers(model.encoding, model), offset)


def plain(value: Any, encoding: Encoding) -> FetchedRecord:
    return record(encode(value, encoding), (("dq-encoding", encoding.value.encode()),))


def test_pointing_offsets_in_arcsec_with_errors_and_failed_fits() -> None:
    array = pointing_offsets(200, 3, np.random.default_rng(5)).array.copy()
    array["xel_offset"][7] = np.nan
    view = view_of(typed(PointingArray(array)))
    plot = view.plot
    assert view.kind == "pointing" and view.model == "StructuredArray[PointingNumpyArray]"
    assert plot["antennas"][:2] == ["SKA001", "SKA002"]
    assert 7 in plot["failed"]
    xel = numbers(plot["xel"])
    assert xel[7] is None
    assert xel[0] == pytest.approx(array["xel_offset"][0] * ARCSEC_PER_RAD, rel=1e-6)
    assert len(numbers(plot["xel_std"])) == 200
    assert plot["widths"]["labels"] == ["fitted H", "fitted V", "expected H", "expected V"]
    assert view.rows[0]["antennas"] == plot["antennas"]
    assert "200 antennas" in view.summary


def test_spectra_are_decimated_and_give_waterfall_rows() -> None:
    metric = spectrum_metric(4096, np.random.default_rng(6))
    view = view_of(typed(metric))
    plot = view.plot
    assert view.kind == "spectrum"
    assert [s["name"] for s in plot["series"]] == ["XX", "XY", "YX", "YY"]
    ys = [numbers(s["y"]) for s in plot["series"]]
    assert all(len(y) <= MAX_POINTS for y in ys)
    x = numbers(plot["x"])
    assert len(x) == len(ys[0])
    assert x[0] == 350.0 and x[-1] == 1050.0
    peak = float(np.max(metric.data[0].power))  # type: ignore[union-attr]
    assert max(v for v in ys[0] if v is not None) == pytest.approx(peak, rel=1e-6)
    assert set(view.rows[0]["pols"]) == {"XX", "XY", "YX", "YY"}
    assert len(numbers(view.rows[0]["pols"]["XX"])) == 256


def test_amplitudes_give_lines_and_a_heat_map_of_every_baseline() -> None:
    view = view_of(typed(amplitude_metric(1024, 16, np.random.default_rng(7))))
    plot = view.plot
    assert view.kind == "baselines"
    assert plot["total"] == 32
    assert len(plot["series"]) == 8
    assert len(plot["grid"]["z"]) == 32 and len(numbers(plot["grid"]["z"][0])) == 256
    assert plot["grid"]["rows"][0] == "SKA001_SKA002 XX"


def test_pointing_tables_give_one_history_row_per_time() -> None:
    view = view_of(typed(PointingTable.example(antenna=5, time=3, seed=1)))
    assert view.kind == "pointing" and view.model == "PointingTable"
    assert len(view.rows) == 3
    assert view.rows[1]["t"] - view.rows[0]["t"] == 10.0
    assert len(numbers(view.rows[0]["xel"])) == 5
    assert view.rows[0]["t"] > 1.5e9  # MJD seconds became Unix seconds


def test_other_arrays_become_lines_or_heat_maps() -> None:
    line = view_of(plain(np.arange(10_000.0), Encoding.NPY))
    assert line.kind == "line" and len(numbers(line.plot["series"][0]["y"])) <= MAX_POINTS
    grid = view_of(plain(np.ones((1000, 300)), Encoding.NPY))
    assert grid.kind == "heatmap"
    assert len(grid.plot["z"]) <= 256 and len(numbers(grid.plot["z"][0])) <= 256
    cube = view_of(plain(np.ones((4, 5, 6), dtype=np.complex64), Encoding.NPY))
    assert cube.kind == "heatmap" and "magnitude" in cube.summary


def test_text_and_json_show_their_latest_values() -> None:
    text = view_of(plain("hello", Encoding.UTF8))
    assert (text.kind, text.plot["text"], text.rows[0]["text"]) == ("text", "hello", "hello")
    data = view_of(plain({"state": "ON", "n": 3}, Encoding.JSON))
    assert json.loads(data.plot["text"]) == {"state": "ON", "n": 3}
    sniffed = view_of(record(b"[1, 2, 3.5]"))  # no header: sniffed as JSON
    assert sniffed.kind == "line" and numbers(sniffed.plot["series"][0]["y"]) == [1.0, 2.0, 3.5]


def test_bad_messages_become_error_views_naming_the_problem() -> None:
    unknown = view_of(record(b"x", (("dq-encoding", b"<b>zip</b>"),)))
    assert unknown.kind == "error"
    assert "'<b>zip</b>' is not one of" in unknown.summary
    metric = typed(spectrum_metric(16, np.random.default_rng(1)))
    wrong_major = record(
        metric.value,
        tuple((k, b"2.0.0" if k == "dq-schema-version" else v) for k, v in metric.headers),
    )
    mismatch = view_of(wrong_major)
    assert mismatch.kind == "error" and "SchemaMismatchError" in mismatch.summary
    broken = view_of(record(b"\x00\x01garbage", metric.headers))
    assert broken.kind == "error" and "DecodeError" in broken.summary
    binary = view_of(record(b"\xff\xfe\x00"))
    assert binary.kind == "bytes" and "3 bytes" in binary.summary


async def test_a_topic_decodes_at_most_its_rate_and_always_its_newest() -> None:
    board = Board()
    board.set_topics({"t": 1})
    for offset in range(100):
        board.ingest(record(f"value {offset}".encode(), (("dq-encoding", b"utf-8"),), offset))
    state = board.topics["t"]
    assert state.received == 100
    assert state.decoded == DECODES_PER_S  # the burst, not one per message
    assert state.pending is not None and state.pending.offset == 99
    state.decode_pending()
    assert state.view is not None and state.view["offset"] == 99
    assert state.recent[0]["summary"] == "value 99"
    update = state.update(since=state.seq - 1, lags={})
    assert [row["text"] for row in update["rows"]] == ["value 99"]
    assert update["view"]["offset"] == 99
    assert state.update(since=state.seq, lags={})["view"] is None


def test_the_signal_displays_pointing_offsets_are_plotted_as_sent() -> None:
    column: list[float | str] = [0.5, "nan", 1.5]
    columns = {name: column for name in PointingOffsetDisplay.model_fields if name != "antennas"}
    message = PointingOffsetDisplay(antennas=["SKA001", "SKA002", "SKA003"], **columns)
    view = view_of(typed(message))
    assert view.kind == "pointing" and view.model == "PointingOffsetDisplay"
    assert view.plot["unit"] == "as sent"
    assert numbers(view.plot["xel"]) == [0.5, None, 1.5]  # not converted
    assert view.plot["failed"] == [1]


def test_gains_are_plotted_per_antenna_and_receptor_pair() -> None:
    message = GainCalibrationDisplay(
        time=[1.7e9], gains=[[1.0, 0.1, 0.1, 1.0]] * 5, phases=[[0.0, "nan", 0.2, 0.3]] * 5
    )
    view = view_of(typed(message))
    assert view.kind == "baselines"
    names = [s["name"] for s in view.plot["series"]]
    assert names[0] == "gain XX" and names[-1] == "phase YY (rad)"
    assert numbers(view.plot["series"][5]["y"]) == [None] * 5  # phase XY: failed
    assert len(view.plot["grid"]["z"]) == 5


def test_amplitudes_under_data_and_no_spectral_window_are_plotted_by_channel() -> None:
    metric = MetricPayload(
        data_type="amplitude",
        processing_block_id="pb-test-20240101-00000",
        timestamp=datetime(2024, 1, 1, 12, tzinfo=UTC),
        data=[AmplitudeItem(baseline="A_B", polarisation="XX", data=np.ones(300))],
    )
    view = view_of(typed(metric))
    assert view.kind == "baselines"
    assert view.plot["x_label"] == "channel"
    assert numbers(view.plot["series"][0]["y"]) == [1.0] * 300
