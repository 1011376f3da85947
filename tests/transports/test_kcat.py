"""An independent client: kcat (librdkafka, from Debian) produces what dq-sdk consumes and
consumes what dq-sdk produces, for utf-8, json and npy payloads with dq-sdk's headers.

The payloads on the kcat side are made and read with the standard library and numpy alone
(``json``, ``numpy.save``/``numpy.load``), never with dq-sdk's codecs, so a wire format that
only dq-sdk understands fails here. tansu 0.6.0 cannot talk to kcat (its ApiVersions answer is
one librdkafka 2.0 cannot parse; docs/testing.md): on tansu the tests assert exactly that.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from dq_sdk import DataQueueConsumer, DataQueueProducer
from dq_sdk.testing import BrokerEngine

LIMIT_S = 30
ARRAY = np.arange(12, dtype="<f8").reshape(3, 4) / 7.0
TEXT = "Zeiger-Offset: 3.5\u2033 \u00b1 0.1 (SKA001)"
DOCUMENT = {"antenna": "SKA001", "xel_offset": 3.5, "flags": [True, False], "note": None}


def kcat(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    """Run kcat (bounded); a missing kcat fails the test with how to install it."""
    binary = shutil.which("kcat")
    assert binary is not None, "kcat is not installed: apt-get install -y kcat (scripts/_setup.sh)"
    return subprocess.run(
        [binary, *args], input=stdin, capture_output=True, timeout=LIMIT_S, check=False
    )


def npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


# encoding -> (value for dq-sdk, the bytes another tool writes, reading those bytes back)
PAYLOADS: dict[str, tuple[object, bytes, Callable[[bytes], object]]] = {
    "utf-8": (TEXT, TEXT.encode(), lambda raw: raw.decode("utf-8")),
    "json": (DOCUMENT, json.dumps(DOCUMENT).encode(), json.loads),
    "npy": (ARRAY, npy_bytes(ARRAY), lambda raw: np.load(io.BytesIO(raw), allow_pickle=False)),
}


def assert_same(encoding: str, got: object, expected: object) -> None:
    if encoding == "npy":
        assert isinstance(got, np.ndarray)
        assert got.dtype == ARRAY.dtype
        np.testing.assert_array_equal(got, ARRAY)
    else:
        assert got == expected


def assert_tansu_refuses_kcat(bootstrap: str) -> None:
    """tansu 0.6.0's documented gap: librdkafka's ApiVersions request fails, so no metadata."""
    result = kcat("-b", bootstrap, "-L", "-m", "2")
    assert result.returncode != 0
    assert b"ApiVersionRequest failed" in result.stderr


@pytest.mark.parametrize("encoding", sorted(PAYLOADS))
async def test_kcat_produces_and_dq_sdk_consumes(
    dq_bootstrap: str,
    dq_broker_engine: BrokerEngine | None,
    dq_topic: str,
    tmp_path: Path,
    encoding: str,
) -> None:
    if dq_broker_engine == "tansu":
        assert_tansu_refuses_kcat(dq_bootstrap)
        return
    value, wire, _ = PAYLOADS[encoding]
    payload_file = tmp_path / "payload.bin"
    payload_file.write_bytes(wire)  # kcat -P sends each file argument as one message
    headers = [f"dq-encoding={encoding}", "origin=kcat"]
    result = kcat(
        "-P", "-b", dq_bootstrap, "-t", dq_topic, "-p", "0", "-k", "SKA001",
        *(arg for h in headers for arg in ("-H", h)),
        str(payload_file),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    async with DataQueueConsumer(dq_bootstrap, topics=[dq_topic], encoding=encoding) as consumer:
        topic, got = await consumer.receive(timeout_s=LIMIT_S)
    assert topic == dq_topic
    assert_same(encoding, got, value)


@pytest.mark.parametrize("encoding", sorted(PAYLOADS))
async def test_dq_sdk_produces_and_kcat_consumes(
    dq_bootstrap: str,
    dq_broker_engine: BrokerEngine | None,
    dq_topic: str,
    encoding: str,
) -> None:
    value, _, read = PAYLOADS[encoding]
    async with DataQueueProducer(dq_bootstrap, topic=dq_topic, encoding=encoding) as producer:
        await producer.send(value, headers={"origin": "dq-sdk"})
    if dq_broker_engine == "tansu":
        assert_tansu_refuses_kcat(dq_bootstrap)
        return
    consume = ("-C", "-b", dq_bootstrap, "-t", dq_topic, "-o", "beginning", "-c", "1", "-e")
    raw = kcat(*consume, "-f", "%s")
    assert raw.returncode == 0, raw.stderr.decode(errors="replace")
    assert_same(encoding, read(raw.stdout), value)
    described = kcat(*consume, "-f", "%h")
    assert described.returncode == 0, described.stderr.decode(errors="replace")
    headers = dict(pair.split("=", 1) for pair in described.stdout.decode().split(","))
    assert headers == {"dq-encoding": encoding, "origin": "dq-sdk"}
