"""Every data command as a subprocess against the real broker: topics, produce -> consume round
trips for each encoding, model validation, previews, positions (--from), lag and stats."""

from __future__ import annotations

import io
import json
import math
import signal
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from dq_sdk.schemas import PointingNumpyArray

from ._run import CLI, assert_one_line_error, start_cli

TopicFactory = Callable[..., str]


def _row(name: str, **changes: Any) -> dict[str, Any]:
    row: dict[str, Any] = {field: 0.5 for field in PointingNumpyArray.model_fields}
    row.update(antenna_name=name, last_scan_index=3.0, **changes)
    return row


def _consume_json(dq: CLI, topic: str, *extra: str) -> list[dict[str, Any]]:
    ran = dq("consume", topic, "--no-follow", "--format", "json", *extra)
    assert ran.code == 0, ran.err
    return ran.json_lines()


# -- topics ------------------------------------------------------------------------------


def test_topics_create_list_describe_delete(dq: CLI) -> None:
    name = f"dq-test-cli-topics-{uuid.uuid4().hex[:8]}"
    created = dq("topics", "create", name, "--partitions", "3", "--config", "retention.ms=60000")
    assert created.code == 0, created.err
    assert created.out.split() == ["created:", name]
    again = dq("topics", "create", name, "--partitions", "2")  # fewer: left alone
    assert again.code == 0 and again.out.split() == ["exists:", name]
    listed = {t["topic"]: t["partitions"] for t in dq("topics", "list", "-f", "json").json_lines()}
    assert listed[name] == 3
    table = dq("topics", "list")
    assert any(line.split() == [name, "3"] for line in table.out.splitlines())
    dq("produce", name, "--partition", "1", stdin="a\nb\n")
    [described] = dq("topics", "describe", name, "-f", "json").json_lines()
    marks = {p["partition"]: p["high_water"] for p in described["high_water"]}
    assert (described["partitions"], marks) == (3, {0: 0, 1: 2, 2: 0})
    # Not a terminal and no --yes: refused, nothing deleted.
    assert_one_line_error(dq("topics", "delete", name), 2, "--yes")
    assert name in dq("topics", "list").out
    deleted = dq("topics", "delete", name, "--yes")
    assert deleted.code == 0 and deleted.out.split() == ["deleted:", name]
    assert name not in {t["topic"] for t in dq("topics", "list", "-f", "json").json_lines()}
    assert_one_line_error(dq("topics", "delete", name, "--yes"), 2, "no such topic")


# -- produce -> consume, every encoding ----------------------------------------------------

DATASET = {
    "coords": {"time": {"dims": ["time"], "data": [1.0, 2.0, 3.0], "attrs": {}}},
    "attrs": {"telescope": "SKA-Mid"},
    "dims": {"time": 3},
    "data_vars": {"power": {"dims": ["time"], "data": [1.5, None, 3.5], "attrs": {}}},
}


@pytest.mark.parametrize(
    ("encoding", "lines", "expected"),
    [
        ("utf-8", ["Grüße, SKA", "second line"], ["Grüße, SKA", "second line"]),
        ("ascii", ["plain text"], ["plain text"]),
        ("json", ['{"a": [1, 2.5], "b": null}', "[1, 2]"], [{"a": [1, 2.5], "b": None}, [1, 2]]),
        ("msgpack_numpy", ['{"n": 1, "xs": [0.5, 1.5]}'], [{"n": 1, "xs": [0.5, 1.5]}]),
        ("npy", ["[[1, 2], [3, 4]]", "[0.5, 1.5]"], [[[1, 2], [3, 4]], [0.5, 1.5]]),
    ],
)
def test_produce_then_consume_round_trips(
    dq: CLI, dq_topic: str, encoding: str, lines: list[str], expected: list[Any]
) -> None:
    sent = dq("produce", dq_topic, "--encoding", encoding, stdin="\n".join(lines) + "\n")
    assert sent.code == 0, sent.err
    assert f"sent {len(lines)} message(s)" in sent.err and "msg/s" in sent.err
    got = _consume_json(dq, dq_topic)
    assert [m["value"] for m in got] == expected
    assert {m["encoding"] for m in got} == {encoding}
    assert [m["offset"] for m in got] == list(range(len(lines)))
    assert all(m["headers"]["dq-encoding"] == encoding for m in got)


def test_xarray_round_trip_previews_the_dataset(dq: CLI, dq_topic: str) -> None:
    sent = dq("produce", dq_topic, "-e", "xarray", stdin=json.dumps(DATASET) + "\n")
    assert sent.code == 0, sent.err
    [got] = _consume_json(dq, dq_topic)
    value = got["value"]
    assert value["data_vars"]["power"]["data"] == [1.5, None, 3.5]  # NaN as null
    assert value["coords"]["time"]["data"] == [1.0, 2.0, 3.0]
    assert value["attrs"] == {"telescope": "SKA-Mid"}
    table = dq("consume", dq_topic, "--no-follow")
    rows = {line.split()[0]: line.split() for line in table.out.splitlines() if line.strip()}
    # field dtype shape min max mean NaN
    assert rows["power"][1:] == ["float64", "3", "1.5", "3.5", "2.5", "1"]


def test_key_and_headers_reach_the_consumer(dq: CLI, dq_topic: str) -> None:
    sent = dq(
        "produce", dq_topic, "--key", "SKA001", "-H", "origin=test", "-H", "run=7", stdin="x\n"
    )
    assert sent.code == 0, sent.err
    [got] = _consume_json(dq, dq_topic)
    assert got["key"] == "SKA001"
    assert got["headers"] == {"dq-encoding": "utf-8", "origin": "test", "run": "7"}
    assert datetime.fromisoformat(got["timestamp"]) > datetime.now(UTC) - timedelta(hours=1)


def test_raw_format_writes_the_value_bytes(dq: CLI, dq_topic: str) -> None:
    dq("produce", dq_topic, stdin="alpha\nbeta\n")
    ran = dq("consume", dq_topic, "--no-follow", "-f", "raw", "--delimiter", "|")
    assert ran.code == 0 and ran.out == "alpha|beta|"


# -- models ------------------------------------------------------------------------------


def test_model_lines_are_validated_and_bad_ones_not_sent(dq: CLI, dq_topic: str) -> None:
    lines = [
        json.dumps(_row("SKA001")),
        json.dumps([_row("SKA002"), _row("SKA003", xel_offset=math.nan)]),
        json.dumps(_row("TOO-LONG-NAME", el_offset="up")),
        "{broken",
        json.dumps(_row("SKA004")),
    ]
    sent = dq("produce", dq_topic, "--model", "PointingNumpyArray", stdin="\n".join(lines))
    assert sent.code == 1
    errors = [line for line in sent.err.splitlines() if "line " in line]
    assert len(errors) == 2
    assert "line 3" in errors[0] and "antenna_name" in errors[0] and "el_offset" in errors[0]
    assert "line 4" in errors[1] and "not JSON" in errors[1]
    assert "sent 3 message(s)" in sent.err and "Traceback" not in sent.err
    got = _consume_json(dq, dq_topic)
    assert [m["model"] for m in got] == ["PointingNumpyArray"] * 3
    assert [[r["antenna_name"] for r in m["value"]] for m in got] == [
        ["SKA001"],
        ["SKA002", "SKA003"],
        ["SKA004"],
    ]
    assert got[1]["value"][1]["xel_offset"] is None  # a failed fit: NaN, shown as null
    assert got[0]["headers"]["dq-schema-id"] == PointingNumpyArray.schema_id


def test_metric_payload_model(dq: CLI, dq_topic: str) -> None:
    good = {
        "data_type": "spectrum",
        "processing_block_id": "pb-test-123-123",
        "timestamp": "2026-12-01T12:00:00Z",
        "spectral_window": {
            "freq_min": 3.5e8,
            "freq_max": 1.05e9,
            "count": 4,
            "channels_id": 1,
            "spectral_window_id": 1,
            "start": 0,
            "stride": 1,
        },
        "data": [{"polarisation": "XX", "power": [1.0, 2.0, 3.0, 4.0]}],
    }
    bad = dict(good, spectral_window={"freq_min": "low"})
    sent = dq(
        "produce",
        dq_topic,
        "-m",
        "MetricPayload",
        stdin=json.dumps(good) + "\n" + json.dumps(bad) + "\n",
    )
    assert sent.code == 1
    assert "line 2" in sent.err and "spectral_window" in sent.err
    [got] = _consume_json(dq, dq_topic)
    assert got["model"] == "MetricPayload"
    assert got["value"]["data"][0]["power"] == [1.0, 2.0, 3.0, 4.0]
    # --model on consume checks every message against that model.
    dq("produce", dq_topic, stdin="not a metric\n")
    ran = dq("consume", dq_topic, "--no-follow", "-f", "json", "-m", "MetricPayload")
    assert ran.code == 0
    assert [m["offset"] for m in ran.json_lines()] == [0]
    assert "@1" in ran.err and "1 message(s) could not be decoded" in ran.err


def test_npy_file_and_its_preview(dq: CLI, dq_topic: str, tmp_path: Path) -> None:
    array = np.array([[1.0, np.nan, 3.0], [4.0, 5.0, np.inf]])
    path = tmp_path / "x.npy"
    np.save(path, array)
    sent = dq("produce", dq_topic, "--file", str(path))
    assert sent.code == 0, sent.err
    [got] = _consume_json(dq, dq_topic)
    assert got["encoding"] == "npy"
    assert got["value"] == [[1.0, None, 3.0], [4.0, 5.0, None]]
    raw = dq("consume", dq_topic, "--no-follow", "-f", "raw", "--delimiter", "")
    back = np.load(io.BytesIO(raw.raw), allow_pickle=False)
    np.testing.assert_array_equal(back, array)
    table = dq("consume", dq_topic, "--no-follow").out.splitlines()
    [stats] = [line.split() for line in table if line.split()[:1] == ["value"]]
    # value dtype shape min max mean NaN: NaN is counted and left out; an infinity shows
    assert stats == ["value", "float64", "2x3", "1", "inf", "inf", "1"]


def test_structured_npy_file_with_a_model(dq: CLI, dq_topic: str, tmp_path: Path) -> None:
    rows = np.zeros(5, dtype=PointingNumpyArray.numpy_dtype())
    rows["antenna_name"] = [f"SKA00{i}" for i in range(5)]
    rows["xel_offset"] = [0.1, 0.2, np.nan, 0.4, 0.5]
    path = tmp_path / "pointing.npy"
    np.save(path, rows)
    sent = dq("produce", dq_topic, "--file", str(path), "-m", "PointingNumpyArray")
    assert sent.code == 0, sent.err
    table = dq("consume", dq_topic, "--no-follow").out.splitlines()
    assert "PointingNumpyArray" in table[0] and "structured array, 5 rows" in table[1]
    [xel] = [line.split() for line in table if line.split()[:1] == ["xel_offset"]]
    assert xel == ["xel_offset", "float64", "5", "0.1", "0.5", "0.3", "1"]
    wrong = tmp_path / "wrong.npy"
    np.save(wrong, np.zeros(3))
    assert_one_line_error(
        dq("produce", dq_topic, "--file", str(wrong), "-m", "PointingNumpyArray"), 1, "dtype"
    )


# -- positions -----------------------------------------------------------------------------


def test_from_offset_end_time_partition_and_count(dq: CLI, dq_topic_factory: TopicFactory) -> None:
    topic = dq_topic_factory(partitions=2)
    dq("produce", topic, "--partition", "0", stdin="a0\na1\na2\n")
    dq("produce", topic, "--partition", "1", stdin="b0\nb1\n")

    def values(*extra: str) -> list[Any]:
        return [m["value"] for m in _consume_json(dq, topic, *extra)]

    assert sorted(values()) == ["a0", "a1", "a2", "b0", "b1"]
    assert sorted(values("--from", "1")) == ["a1", "a2", "b1"]
    assert values("--from", "end") == []
    assert values("--from", "99") == []  # past the end: only new messages
    assert values("--partition", "1") == ["b0", "b1"]
    assert len(values("--count", "2")) == 2
    past = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert sorted(values("--from", f"@{past}")) == ["a0", "a1", "a2", "b0", "b1"]
    assert values("--from", f"@{future}") == []
    assert_one_line_error(dq("consume", topic, "--partition", "2"), 2, "'" + topic + "' has 2")


def test_follow_prints_new_messages_until_ctrl_c(dq: CLI, dq_bootstrap: str, dq_topic: str) -> None:
    process = start_cli(["consume", dq_topic, "-f", "json"], bootstrap=dq_bootstrap)
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + 60
        got: list[dict[str, Any]] = []
        sent = 0
        while len(got) < 3 and time.monotonic() < deadline:
            dq("produce", dq_topic, stdin=f"m{sent}\n")  # until the consumer is up and sees
            sent += 1
            line = _readline(process, timeout_s=5)
            if line:
                got.append(json.loads(line))
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert [m["value"] for m in got] == [f"m{i}" for i in range(len(got))]
    assert len(got) >= 3
    assert process.returncode == 130 and b"Traceback" not in err


def _readline(process: Any, timeout_s: float) -> bytes:
    import selectors

    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        if selector.select(timeout_s):
            line: bytes = process.stdout.readline()
            return line
    return b""


# -- groups: lag ---------------------------------------------------------------------------


@pytest.mark.parametrize("transport", ["aiokafka", "confluent"])
def test_lag_from_committed_offsets_and_high_water(
    dq: CLI, dq_topic_factory: TopicFactory, transport: str
) -> None:
    topic = dq_topic_factory(partitions=2)
    group = f"dq-test-lag-{uuid.uuid4().hex[:8]}"
    dq("produce", topic, "--partition", "0", stdin="".join(f"{i}\n" for i in range(6)))
    dq("produce", topic, "--partition", "1", stdin="x\ny\n")
    # Read 4 of partition 0 as the group: processed ones are committed on exit.
    read = dq(
        "consume",
        topic,
        "--group",
        group,
        "--partition",
        "0",
        "--count",
        "4",
        "-f",
        "json",
        "--transport",
        transport,
    )
    assert read.code == 0, read.err
    ran = dq("lag", "--group", group, topic, "-f", "json", "--transport", transport)
    assert ran.code == 0, ran.err
    [report] = ran.json_lines()
    assert report["partitions"] == [
        {"topic": topic, "partition": 0, "committed": 4, "high_water": 6, "lag": 2},
        {"topic": topic, "partition": 1, "committed": None, "high_water": 2, "lag": None},
    ]
    assert report["total"] == 2
    table = dq("lag", "--group", group, "--transport", transport).out.splitlines()
    assert [line.split() for line in table if line.split()[:1] == ["total"]] == [["total", "2"]]
    assert_one_line_error(dq("lag", "--group", f"{group}-unknown"), 1, "no committed offsets")


def test_consume_with_a_group_resumes_where_it_stopped(dq: CLI, dq_topic: str) -> None:
    group = f"dq-test-resume-{uuid.uuid4().hex[:8]}"
    dq("produce", dq_topic, stdin="1\n2\n3\n")
    first = _consume_json(dq, dq_topic, "--group", group, "--count", "2")
    dq("produce", dq_topic, stdin="4\n")
    rest = _consume_json(dq, dq_topic, "--group", group)
    assert [m["value"] for m in first + rest] == ["1", "2", "3", "4"]


# -- stats ---------------------------------------------------------------------------------


def test_stats_reports_rates_and_group_lag(dq: CLI, dq_bootstrap: str, dq_topic: str) -> None:
    group = f"dq-test-stats-{uuid.uuid4().hex[:8]}"
    dq("produce", dq_topic, stdin="old\n")
    _consume_json(dq, dq_topic, "--group", group)  # the group has read everything so far
    process = start_cli(
        ["stats", dq_topic, "--group", group, "-f", "json", "--interval", "1"],
        bootstrap=dq_bootstrap,
    )
    try:
        time.sleep(4)  # watching (or still starting: what arrives later is counted)
        payload = "x" * 1000
        for _ in range(3):
            dq("produce", dq_topic, stdin=f"{payload}\n" * 200)
        time.sleep(3)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 130 and b"Traceback" not in err
    updates = [json.loads(line) for line in out.splitlines()]
    assert updates and all(u["topic"] == dq_topic for u in updates)
    seconds = [u["msg_per_s"] for u in updates]
    # 600 new messages seen across the updates, at ~1 s per update (rates are per second).
    assert 300 <= sum(seconds) <= 1200, seconds
    assert sum(u["mib_per_s"] for u in updates) > 0
    assert updates[-1]["lag"] == 600


def test_stats_stops_after_updates(dq: CLI, dq_topic: str) -> None:
    ran = dq("stats", dq_topic, "--updates", "2", "--interval", "0.2", "-f", "json")
    assert ran.code == 0, ran.err
    updates = ran.json_lines()
    assert len(updates) == 2
    assert all(u["lag"] is None and u["msg_per_s"] == 0 for u in updates)
