"""The demo: real pointing and metrics data through a real Kafka-protocol broker, typed.

``dq-sdk demo`` starts a local broker (or uses ``DQ_SDK_BOOTSTRAP`` / ``--bootstrap``), creates
the SDP topics, publishes

- pointing offsets: one structured array per round, a row per antenna, some fits failed (NaN),
  as ``StructuredArray[PointingNumpyArray]`` on ``pointing_offset``;
- a PointingTable (an xarray Dataset checked with xradio) on ``pointing_table``;
- signal-display metrics: spectra (4 polarisations x 4096 channels) and amplitudes,

consumes everything back with typed consumers, checks it is what was sent, and prints what
moved. Ctrl-C stops it cleanly: producers deliver what is pending, consumers close.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TypeVar

import numpy as np

from . import Admin, Consumer, InvalidArgumentError, Producer, WireMessage
from .examples import PointingArray, amplitude_metric, pointing_offsets, spectrum_metric
from .schemas import MetricPayload, PointingTable
from .testing import bootstrap_from_env, engine_from_env, local_broker

# The example builders moved to dq_sdk.examples; they stay importable from here for old imports.
__all__ = ["amplitude_metric", "pointing_offsets", "run_demo", "spectrum_metric"]

M = TypeVar("M", bound=WireMessage)

POINTING_TOPIC = "pointing_offset"
TABLE_TOPIC = "pointing_table"
SPECTRUM_TOPIC = "metrics-spectrum-01"
AMPLITUDE_TOPIC = "metrics-amplitude-01"


@dataclass
class StreamReport:
    name: str
    messages: int
    payload_bytes: int
    send_s: float
    receive_s: float

    def line(self) -> str:
        mib = self.payload_bytes / 2**20
        return (
            f"  {self.name:<22} {self.messages:>5} msgs {mib:>9.2f} MiB   "
            f"send {self.messages / self.send_s:>8.0f} msg/s {mib / self.send_s:>7.1f} MiB/s   "
            f"receive {self.messages / self.receive_s:>8.0f} msg/s"
        )


#: How often a stream in progress reports how far it got.
PROGRESS_EVERY_S = 2.0


async def move(
    bootstrap: str, name: str, topic: str, model: type[M], messages: Sequence[M]
) -> StreamReport:
    """Send ``messages`` with a typed producer, read them back, check they are equal."""
    print(f"  {name}: sending {len(messages)} to {topic!r}...", flush=True)
    async with Producer(model, bootstrap, topic=topic, linger_ms=5) as producer:
        payload_bytes = sum(len(producer.encode(m)) for m in messages)
        started = time.perf_counter()
        await producer.send_batch(messages)
        send_s = time.perf_counter() - started
    received: list[M] = []
    started = time.perf_counter()
    reported = started
    async with Consumer(model, bootstrap, topics=[topic]) as consumer:
        while len(received) < len(messages):
            envelope = await consumer.receive(timeout_s=30)
            received.append(envelope.value)
            if time.perf_counter() - reported >= PROGRESS_EVERY_S:
                reported = time.perf_counter()
                print(f"  {name}: received {len(received)}/{len(messages)}", flush=True)
    receive_s = time.perf_counter() - started
    mismatched = [i for i, (a, b) in enumerate(zip(messages, received, strict=True)) if a != b]
    if mismatched:
        raise AssertionError(f"{name}: messages {mismatched[:5]} came back different")
    return StreamReport(name, len(messages), payload_bytes, send_s, receive_s)


@asynccontextmanager
async def _broker(bootstrap: str | None) -> AsyncIterator[tuple[str, str]]:
    chosen = bootstrap or bootstrap_from_env()
    if chosen:
        yield chosen, "existing cluster"
        return
    engine = engine_from_env()
    async with local_broker(engine=engine) as local:
        yield local, f"local {engine} broker, started for this demo"


async def demo(antennas: int, rounds: int, bootstrap: str | None) -> list[StreamReport]:
    rng = np.random.default_rng(2026)
    async with _broker(bootstrap) as (address, kind):
        print(f"dq-sdk demo: Kafka at {address} ({kind})")
        async with Admin(address) as admin:
            topics = [POINTING_TOPIC, TABLE_TOPIC, SPECTRUM_TOPIC, AMPLITUDE_TOPIC]
            await admin.delete_topics(topics)  # a clean slate on a reused cluster
            await admin.create_topics(topics, config={"max.message.bytes": str(8 * 2**20)})
        pointing = [pointing_offsets(antennas, scan, rng) for scan in range(rounds)]
        failed = int(sum(np.isnan(p.array["xel_offset"]).sum() for p in pointing))
        print(f"  {rounds} pointing solutions x {antennas} antennas, {failed} failed fits (NaN)")
        tables = [
            PointingTable.example(antenna=min(antennas, 64), time=4, seed=i) for i in range(rounds)
        ]
        spectra = [spectrum_metric(4096, rng) for _ in range(rounds)]
        amplitudes = [amplitude_metric(1024, 16, rng) for _ in range(rounds)]
        return [
            await move(address, "pointing offsets", POINTING_TOPIC, PointingArray, pointing),
            await move(address, "pointing tables", TABLE_TOPIC, PointingTable, tables),
            await move(address, "spectrum metrics", SPECTRUM_TOPIC, MetricPayload, spectra),
            await move(address, "amplitude metrics", AMPLITUDE_TOPIC, MetricPayload, amplitudes),
        ]


def run_demo(*, antennas: int = 200, rounds: int = 50, bootstrap: str | None = None) -> int:
    """Run the demo (``dq-sdk demo``): ``rounds`` of every stream through Kafka, each message
    checked equal on the way back, a line per stream printed; the process exit code.

    It uses the cluster at ``bootstrap`` (or ``DQ_SDK_BOOTSTRAP``), else a local broker it starts.
    """
    for name, value in (("rounds", rounds), ("antennas", antennas)):
        if type(value) is not int or value < 1:
            raise InvalidArgumentError(f"--{name} must be a whole number >= 1, not {value!r}")
    started = time.perf_counter()
    try:
        reports = asyncio.run(demo(antennas, rounds, bootstrap))
    except KeyboardInterrupt:
        print("dq-sdk demo: interrupted; producers delivered what was pending, consumers closed")
        return 130
    print("moved and checked (every message came back equal to what was sent):")
    for report in reports:
        print(report.line())
    total = sum(r.messages for r in reports)
    total_mib = sum(r.payload_bytes for r in reports) / 2**20
    print(
        f"  total: {total} messages, {total_mib:.1f} MiB in {time.perf_counter() - started:.1f} s"
    )
    return 0
