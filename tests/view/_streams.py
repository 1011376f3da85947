"""The data the view tests and the benchmark watch: the demo's streams plus plain values.

``Streams`` creates one topic per kind of plot and produces into them from a background
thread (its own event loop), so sync Playwright tests can run beside it. Loops are bounded
in count and time.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dq_sdk import Admin, DataQueueProducer, Encoding, Producer
from dq_sdk.examples import amplitude_metric, pointing_offsets, spectrum_metric
from dq_sdk.schemas import MetricPayload, PointingNumpyArray, PointingTable, StructuredArray

# The view's own time base (internal), so the streams' timestamps are the ones it plots.
from dq_sdk.view._extract import MJD_UNIX_OFFSET_S

__all__ = ["XSS", "Streams"]

XSS = "<img src=x onerror=alert(1)>"
PointingArray = StructuredArray[PointingNumpyArray]


def _in_thread(make: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """Run a coroutine to the end in a thread of its own (Playwright's sync API holds a
    running loop in the test thread)."""
    failure: list[BaseException] = []

    def target() -> None:
        try:
            asyncio.run(make())
        except BaseException as exc:
            failure.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join(timeout=60)
    if thread.is_alive():
        raise TimeoutError("topic administration did not finish within 60 s")
    if failure:
        raise failure[0]


def _table(seed: int) -> PointingTable:
    """A PointingTable whose 4 times are now and the next 3 seconds (MJD seconds, UTC)."""
    example = PointingTable.example(antenna=16, time=4, seed=seed).dataset
    now_mjd_s = time.time() + MJD_UNIX_OFFSET_S
    return PointingTable(dataset=example.assign_coords(time=now_mjd_s + np.arange(4.0)))


@dataclass
class Streams:
    """Topics named ``view-<kind>-<run>`` and a producer thread feeding them."""

    bootstrap: str
    antennas: int = 32
    channels: int = 4096
    period_s: float = 0.25
    run: str = field(default_factory=lambda: uuid.uuid4().hex[:6])
    sent: int = 0
    error: BaseException | None = None
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def topic(self, kind: str) -> str:
        return f"view-{kind}-{self.run}"

    @property
    def kinds(self) -> tuple[str, ...]:
        return ("pointing", "table", "spectrum", "amplitude", "line", "grid", "json", "text", "xss")

    def create(self) -> None:
        async def create() -> None:
            async with Admin(self.bootstrap) as admin:
                config = {"max.message.bytes": str(8 * 2**20)}
                await admin.create_topics([self.topic(k) for k in self.kinds], config=config)

        _in_thread(create)

    def start(self, max_seconds: float = 600.0) -> None:
        """Produce one message per stream every ``period_s`` (at most ``max_seconds``)."""
        self._thread = threading.Thread(
            target=lambda: asyncio.run(self._produce(max_seconds)), name="view-streams"
        )
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        if self.error is not None:
            raise self.error

    def delete(self) -> None:
        async def delete() -> None:
            async with Admin(self.bootstrap) as admin:
                await admin.delete_topics([self.topic(k) for k in self.kinds])

        _in_thread(delete)

    async def _produce(self, max_seconds: float) -> None:
        try:
            await self._loop(max_seconds)
        except BaseException as exc:  # handed to the test thread by stop()
            self.error = exc

    async def _loop(self, max_seconds: float) -> None:
        rng = np.random.default_rng(7)
        deadline = time.monotonic() + max_seconds
        async with (
            Producer(PointingArray, self.bootstrap, topic=self.topic("pointing")) as pointing,
            Producer(PointingTable, self.bootstrap, topic=self.topic("table")) as table,
            Producer(MetricPayload, self.bootstrap) as metrics,
            DataQueueProducer(self.bootstrap) as plain,
        ):
            await plain.send(
                XSS,
                topic=self.topic("xss"),
                encoding=Encoding.UTF8,
                key=XSS,
                headers={"note": XSS},
            )
            scan = 0
            while not self._stop.is_set() and time.monotonic() < deadline:
                scan += 1
                await pointing.send(pointing_offsets(self.antennas, scan, rng))
                if scan % 4 == 1:
                    await table.send(_table(scan))
                await metrics.send(
                    spectrum_metric(self.channels, rng), topic=self.topic("spectrum")
                )
                await metrics.send(amplitude_metric(256, 4, rng), topic=self.topic("amplitude"))
                line = np.cumsum(rng.normal(size=5000))
                await plain.send(line, topic=self.topic("line"), encoding=Encoding.NPY)
                grid = rng.normal(size=(64, 128)) + np.arange(128)[None, :] / 16
                await plain.send(grid, topic=self.topic("grid"), encoding=Encoding.NPY)
                status = {"scan": scan, "state": "ON", "rms": float(rng.random())}
                await plain.send(status, topic=self.topic("json"), encoding=Encoding.JSON)
                await plain.send(f"status line {scan}", topic=self.topic("text"), encoding="utf-8")
                self.sent = scan
                await asyncio.sleep(self.period_s)
