"""Quix Streams reads and writes dq-sdk messages: a real ``Application`` on the local broker.

The app is the docs' example: a rolling mean of each antenna's pointing offsets over its last
three fits, read as typed ``PointingNumpyArray`` rows and written back as typed rows, which a
dq-sdk ``Consumer`` then reads and checks.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from quixstreams import Application, State
from quixstreams.models.serializers import SerializationContext, SerializationError

from dq_sdk import (
    Consumer,
    DataQueueProducer,
    Encoding,
    MessageValidationError,
    Producer,
    SchemaMismatchError,
)
from dq_sdk.codecs import encode
from dq_sdk.integrations.quixstreams import ModelDeserializer, ModelSerializer
from dq_sdk.schemas import MetricPayload, PointingNumpyArray

ANTENNAS = ("SKA001", "SKA002", "SKA003", "SKA004")
ROUNDS = 5
WINDOW = 3


def _row(antenna: str, scan: int, xel: float, el: float) -> PointingNumpyArray:
    return PointingNumpyArray(
        antenna_name=antenna,
        last_scan_index=float(scan),
        xel_offset=xel,
        xel_offset_std=1e-6,
        el_offset=el,
        el_offset_std=1e-6,
        expected_width_h=0.02,
        expected_width_v=0.02,
        fitted_width_h=0.021,
        fitted_width_h_std=1e-4,
        fitted_width_v=0.021,
        fitted_width_v_std=1e-4,
        fitted_height=1.0,
        fitted_height_std=0.01,
    )


def _offsets(antenna_index: int, scan: int) -> tuple[float, float]:
    return (antenna_index + 1) * 1e-5 * scan, -(antenna_index + 1) * 2e-5 * scan


Fits = list[list[float]]


def rolling_mean(row: PointingNumpyArray, state: State[str, Fits]) -> PointingNumpyArray:
    """The antenna's offsets averaged over its last WINDOW fits (NaN fits left out)."""
    recent: Fits = state.get("recent", [])
    recent = [*recent, [row.xel_offset, row.el_offset]][-WINDOW:]
    state.set("recent", recent)
    fits = [pair for pair in recent if not math.isnan(pair[0])]
    xel = float(np.mean([p[0] for p in fits])) if fits else math.nan
    el = float(np.mean([p[1] for p in fits])) if fits else math.nan
    return row.model_copy(update={"xel_offset": xel, "el_offset": el})


def _app(bootstrap: str, tmp_path: Path, group: str) -> Application:
    return Application(
        broker_address=bootstrap,
        consumer_group=group,
        auto_offset_reset="earliest",
        state_dir=str(tmp_path / "state"),
        auto_create_topics=True,
        # tansu holds a group join for about the session timeout (Quix: 45 s); 6 s is the
        # smallest Apache Kafka accepts by default.
        consumer_extra_config={"session.timeout.ms": 6000},
    )


async def test_a_quix_app_reads_typed_rows_and_writes_typed_rolling_means(
    dq_bootstrap: str, dq_topic_factory: Callable[..., str], tmp_path: Path
) -> None:
    # Quix derives its changelog topic from the source topic's retention.ms, which Apache Kafka
    # always reports; a broker that reports only what was set (tansu) needs it set explicitly.
    source = dq_topic_factory(config={"retention.ms": "604800000"})
    sink = dq_topic_factory()
    async with Producer(PointingNumpyArray, dq_bootstrap, topic=source) as producer:
        for scan in range(1, ROUNDS + 1):
            for index, antenna in enumerate(ANTENNAS):
                xel, el = _offsets(index, scan)
                await producer.send(_row(antenna, scan, xel, el), key=antenna)

    app = _app(dq_bootstrap, tmp_path, group=f"{source}-means")
    rows_in = app.topic(source, value_deserializer=ModelDeserializer(PointingNumpyArray))
    means_out = app.topic(sink, value_serializer=ModelSerializer(PointingNumpyArray))
    sdf = app.dataframe(rows_in)
    sdf = sdf.apply(rolling_mean, stateful=True)
    sdf.to_topic(means_out)
    app.run(count=len(ANTENNAS) * ROUNDS, timeout=60)

    latest: dict[str, PointingNumpyArray] = {}
    async with Consumer(PointingNumpyArray, dq_bootstrap, topics=[sink]) as consumer:
        for _ in range(len(ANTENNAS) * ROUNDS):
            received = await consumer.receive(timeout_s=30)
            assert received.key is not None
            assert received.key.decode() == received.value.antenna_name
            latest[received.value.antenna_name] = received.value
    assert sorted(latest) == list(ANTENNAS)
    for index, antenna in enumerate(ANTENNAS):
        window = [_offsets(index, scan) for scan in range(ROUNDS - WINDOW + 1, ROUNDS + 1)]
        assert latest[antenna].xel_offset == pytest.approx(np.mean([w[0] for w in window]))
        assert latest[antenna].el_offset == pytest.approx(np.mean([w[1] for w in window]))
        assert latest[antenna].last_scan_index == ROUNDS


HeaderPairs = list[tuple[str, str | bytes]]


def _context(topic: str, headers: HeaderPairs | None = None) -> SerializationContext:
    return SerializationContext(topic=topic, field="value", headers=headers)


def test_the_serializer_announces_the_model_as_a_producer_does() -> None:
    serializer = ModelSerializer(PointingNumpyArray)
    row = _row("SKA001", 1, 1e-5, 2e-5)
    payload = serializer(row, _context("pointing"))
    headers = list(serializer.extra_headers.items())
    assert ("dq-schema-id", PointingNumpyArray.schema_id.encode()) in headers
    assert ("dq-encoding", b"msgpack_numpy") in headers
    assert ModelDeserializer(PointingNumpyArray)(payload, _context("pointing", headers)) == row


def test_the_serializer_refuses_another_type_naming_the_topic() -> None:
    serializer = ModelSerializer(PointingNumpyArray)
    with pytest.raises(SerializationError, match=r"'pointing'.*dict"):
        serializer({"antenna_name": "SKA001"}, _context("pointing"))


def test_a_message_of_another_schema_is_a_schema_mismatch_naming_the_topic() -> None:
    payload = ModelSerializer(PointingNumpyArray)(_row("SKA001", 1, 0.0, 0.0), _context("t"))
    other = list(ModelSerializer(MetricPayload).extra_headers.items())
    with pytest.raises(SerializationError, match="topic='pointing'") as caught:
        ModelDeserializer(PointingNumpyArray)(payload, _context("pointing", other))
    assert isinstance(caught.value.__cause__, SchemaMismatchError)


def test_an_invalid_value_names_the_field_and_the_topic() -> None:
    bad = np.zeros(1, dtype=[("antenna_name", "U8"), ("xel_offset", "f8")])
    payload = encode(bad, Encoding.MSGPACK_NUMPY)
    with pytest.raises(SerializationError, match="topic='pointing'") as caught:
        ModelDeserializer(PointingNumpyArray)(payload, _context("pointing"))
    assert isinstance(caught.value.__cause__, MessageValidationError)


async def test_a_quix_app_skips_a_bad_message_and_goes_on(
    dq_bootstrap: str, dq_topic_factory: Callable[..., str], tmp_path: Path
) -> None:
    source = dq_topic_factory()
    async with Producer(PointingNumpyArray, dq_bootstrap, topic=source) as producer:
        await producer.send(_row("SKA001", 1, 1e-5, 1e-5))
    async with DataQueueProducer(dq_bootstrap, topic=source, encoding=Encoding.UTF8) as raw:
        await raw.send("not a pointing row")
    async with Producer(PointingNumpyArray, dq_bootstrap, topic=source) as producer:
        await producer.send(_row("SKA002", 2, 2e-5, 2e-5))

    seen: list[str] = []
    app = _app(dq_bootstrap, tmp_path, group=f"{source}-skip")
    rows_in = app.topic(
        source, value_deserializer=ModelDeserializer(PointingNumpyArray, on_error="skip")
    )
    sdf = app.dataframe(rows_in)
    sdf = sdf.update(lambda row: seen.append(row.antenna_name))
    app.run(count=2, timeout=60)
    assert seen == ["SKA001", "SKA002"]
