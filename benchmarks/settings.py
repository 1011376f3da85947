"""What the producer settings that matter do to these payloads.

- ``linger_ms`` and ``max_batch_size`` on small messages sent by many concurrent ``send``
  calls (``asyncio.gather``), both transports, against the defaults measured in the same run
  (linger 0 and batches of at most 1,000,000 bytes on both; ``max_batch_size`` maps to
  librdkafka's ``batch.size``; 16 KiB is aiokafka's own default);
- ``compression_type`` per encoding, on a 200-antenna pointing array and a 4x4096 spectrum
  metric: throughput against no compression, and the bytes that really went to the broker per
  message (librdkafka's ``tx_bytes`` statistic), against the encoded message size.

aiokafka compresses gzip with the standard library only; lz4/zstd/snappy need ``cramjam``,
which dq-sdk does not install: those rows are confluent-only unless cramjam is present.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiokafka import codec as aiokafka_codec

from dq_sdk import Admin, Producer

from . import _clients
from ._core import Row, Settings, interleaved, rate, ratio_row
from ._payloads import Payload

__all__ = ["run"]

AREA = "settings"
KiB = 1024


class _WireBytes:
    """librdkafka's count of bytes sent to brokers, read from its statistics callback (which
    the transport's poll thread serves every ``statistics.interval.ms``)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.tx_bytes = 0
        self._loop = loop
        self._arrived = asyncio.Event()

    def __call__(self, stats: str) -> None:
        self.tx_bytes = int(json.loads(stats).get("tx_bytes", 0))
        self._loop.call_soon_threadsafe(self._arrived.set)

    async def settled(self, timeout_s: float = 2.0) -> int:
        """tx_bytes from a report begun after now: the second report from now on."""
        async with asyncio.timeout(timeout_s):
            for _ in range(2):
                self._arrived.clear()
                await self._arrived.wait()
        return self.tx_bytes


async def _batch(
    bootstrap: str, topic: str, payload: Payload, count: int, options: dict[str, Any]
) -> float:
    """Messages/s of one ``send_batch`` of ``count`` messages."""
    return await _timed(bootstrap, topic, payload, count, options, concurrent=False)


async def _concurrent_sends(
    bootstrap: str, topic: str, payload: Payload, count: int, options: dict[str, Any]
) -> float:
    """Messages/s of ``count`` concurrent ``send`` calls (many senders, one producer)."""
    return await _timed(bootstrap, topic, payload, count, options, concurrent=True)


async def _timed(
    bootstrap: str,
    topic: str,
    payload: Payload,
    count: int,
    options: dict[str, Any],
    *,
    concurrent: bool,
) -> float:
    messages = payload.cycle(count)
    async with Producer(payload.model, bootstrap, topic=topic, **options) as producer:
        start = time.perf_counter()
        if concurrent:
            await asyncio.gather(*(producer.send(message) for message in messages))
        else:
            await producer.send_batch(messages)
        return rate(count, time.perf_counter() - start)


async def _wire_bytes_per_message(
    bootstrap: str, admin: Admin, payload: Payload, count: int, compression: str
) -> float:
    probe = _WireBytes(asyncio.get_running_loop())
    options = {
        **payload.options,
        "transport": "confluent",
        "compression_type": compression,
        "client_options": {"statistics.interval.ms": 50, "stats_cb": probe},
    }
    messages = payload.distinct(count)
    async with (
        _clients.fresh_topic(admin, "wire") as topic,
        Producer(payload.model, bootstrap, topic=topic, **options) as producer,
    ):
        before = await probe.settled()
        await producer.send_batch(messages)
        after = await probe.settled()
    return (after - before) / count


Measure = Callable[[str, str, Payload, int, dict[str, Any]], Awaitable[float]]


def _case(
    admin: Admin,
    bootstrap: str,
    payload: Payload,
    count: int,
    options: dict[str, Any],
    measure: Measure = _concurrent_sends,
) -> Callable[[], Awaitable[float]]:
    async def case() -> float:
        async with _clients.fresh_topic(admin, "settings") as topic:
            return await measure(bootstrap, topic, payload, count, options)

    return case


async def _batching_rows(
    bootstrap: str, admin: Admin, small: Payload, settings: Settings
) -> list[Row]:
    # Fewer than a batch call's: each concurrent send waits its turn for room in a batch, and
    # with 16 KiB batches aiokafka wakes every waiting sender at every hand-over (20,000 of them
    # wait over its 40 s request_timeout_ms and fail with KafkaTimeoutError).
    count = settings.small_send
    variants = {
        "concurrent send, defaults": {},
        "concurrent send, linger_ms=5": {"linger_ms": 5},
        "concurrent send, linger_ms=20": {"linger_ms": 20},
        "concurrent send, max_batch_size=16 KiB": {"max_batch_size": 16 * KiB},
        "concurrent send, max_batch_size=256 KiB": {"max_batch_size": 256 * KiB},
    }
    rows: list[Row] = []
    for transport in ("aiokafka", "confluent"):
        cases = {
            name: _case(admin, bootstrap, small, count, {**extra, "transport": transport})
            for name, extra in variants.items()
        }
        best = await interleaved(cases, settings.repeats, "higher")
        base_name = next(iter(variants))
        base = Row(AREA, f"{base_name} [{transport}]", small.name, best[base_name], "msg/s")
        rows.append(base)
        for name in list(variants)[1:]:
            rows.append(
                ratio_row(Row(AREA, f"{name} [{transport}]", small.name, best[name], "msg/s"), base)
            )
    return rows


def _codecs(transport: str) -> list[str]:
    if transport == "confluent":
        return ["gzip", "snappy", "lz4", "zstd"]
    available = {
        "gzip": True,
        "snappy": aiokafka_codec.has_snappy(),
        "lz4": aiokafka_codec.has_lz4(),
        "zstd": aiokafka_codec.has_zstd(),
    }
    return [name for name, ok in available.items() if ok]


async def _compression_rows(
    bootstrap: str, admin: Admin, payload: Payload, settings: Settings
) -> list[Row]:
    count = settings.count(300)
    size = len(payload.wire)
    rows: list[Row] = []
    for transport in ("aiokafka", "confluent"):
        names = ["none", *_codecs(transport)]
        cases = {
            name: _case(
                admin,
                bootstrap,
                payload,
                count,
                {
                    **payload.options,
                    "transport": transport,
                    "compression_type": None if name == "none" else name,
                },
                _batch,
            )
            for name in names
        }
        best = await interleaved(cases, settings.repeats, "higher")
        base = Row(
            AREA,
            f"compression none [{transport}]",
            payload.name,
            best["none"],
            "msg/s",
            extra={"MiB/s": best["none"] * size / 2**20},
        )
        rows.append(base)
        for name in names[1:]:
            extra: dict[str, float] = {"MiB/s": best[name] * size / 2**20}
            if transport == "confluent":
                wire = await _wire_bytes_per_message(bootstrap, admin, payload, count, name)
                extra["wire/encoded"] = wire / size
            rows.append(
                ratio_row(
                    Row(
                        AREA,
                        f"compression {name} [{transport}]",
                        payload.name,
                        best[name],
                        "msg/s",
                        extra=extra,
                    ),
                    base,
                )
            )
    return rows


async def run(bootstrap: str, payloads: list[Payload], settings: Settings) -> list[Row]:
    by_name = {payload.name: payload for payload in payloads}
    async with Admin(bootstrap) as admin:
        rows = await _batching_rows(bootstrap, admin, by_name["row (1 antenna)"], settings)
        for name in ("pointing (200 antennas)", "metric (4x4096 spectra)"):
            rows += await _compression_rows(bootstrap, admin, by_name[name], settings)
    return rows
