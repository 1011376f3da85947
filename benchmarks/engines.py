"""The two local broker engines side by side: start time, memory, small-message throughput.

Each engine is started here on 127.0.0.1 (not the run's ``--bootstrap``) and stopped by its pid.
Start time is from spawning the process to the first Metadata answer; memory is the broker's
resident set idle and after the throughput case; throughput is raw aiokafka sending 100-byte
messages with many sends in flight (linger 5 ms, 1,000,000-byte batches), awaiting every
delivery. Ratios are noida over tansu, measured interleaved in the same run.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable

import aiokafka

from dq_sdk import Admin
from dq_sdk.testing import ENGINES, BrokerEngine, BrokerProcess, start_broker

from ._core import Row, Settings, interleaved, rate, ratio_row

__all__ = ["run"]

AREA = "engine"
SMALL = b"x" * 100


def _rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _start_time(engine: BrokerEngine) -> Callable[[], Awaitable[float]]:
    async def case() -> float:
        started = time.perf_counter()
        broker = await asyncio.to_thread(start_broker, engine=engine)
        elapsed = time.perf_counter() - started
        broker.stop()
        return elapsed * 1000

    return case


def _throughput(broker: BrokerProcess, count: int) -> Callable[[], Awaitable[float]]:
    async def case() -> float:
        topic = f"bench-engine-{uuid.uuid4().hex[:8]}"
        async with Admin(broker.bootstrap) as admin:
            await admin.create_topics([topic])
        producer = aiokafka.AIOKafkaProducer(
            bootstrap_servers=broker.bootstrap, linger_ms=5, max_batch_size=1_000_000
        )
        await producer.start()
        try:
            started = time.perf_counter()
            futures = [await producer.send(topic, SMALL) for _ in range(count)]
            await asyncio.gather(*futures)
            elapsed = time.perf_counter() - started
        finally:
            await producer.stop()
        async with Admin(broker.bootstrap) as admin:
            await admin.delete_topics([topic])
        return rate(count, elapsed)

    return case


async def run(settings: Settings) -> list[Row]:
    starts = await interleaved(
        {engine: _start_time(engine) for engine in ENGINES}, settings.repeats, "lower"
    )
    brokers = {engine: start_broker(engine=engine) for engine in ENGINES}
    try:
        idle = {engine: _rss_mib(broker.pid) for engine, broker in brokers.items()}
        count = settings.small_batch * 5
        rates = await interleaved(
            {engine: _throughput(broker, count) for engine, broker in brokers.items()},
            settings.repeats,
            "higher",
        )
        loaded = {engine: _rss_mib(broker.pid) for engine, broker in brokers.items()}
    finally:
        for broker in brokers.values():
            broker.stop()
    rows: dict[str, list[Row]] = {engine: [] for engine in ENGINES}
    for engine in ENGINES:
        rows[engine] = [
            Row(AREA, f"{engine} start", "-", starts[engine], "ms"),
            Row(AREA, f"{engine} idle RSS", "-", idle[engine], "MiB"),
            Row(AREA, f"{engine} produce", "100 B", rates[engine], "msg/s"),
            Row(AREA, f"{engine} RSS after produce", "100 B", loaded[engine], "MiB"),
        ]
    compared = [
        ratio_row(row, base) for row, base in zip(rows["noida"], rows["tansu"], strict=True)
    ]
    return [*rows["tansu"], *compared]
