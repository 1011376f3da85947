"""The view under load: 200-antenna pointing arrays and 4x4096 spectra, each at 10 Hz.

``python -m benchmarks --area view`` (opt-in: it needs Debian's Chromium). The view runs as
``dq-sdk view`` in a subprocess (as a user runs it); two Chromium pages watch the two topics.
Measured over the window: the server's CPU (share of one core) and peak RSS from /proc, its
consumer lag (high-water mark minus what it has read, sampled every 0.5 s), and each page's
animation frames and plot updates per second. Numbers are recorded, never asserted.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import numpy as np

from dq_sdk import Admin, Producer
from dq_sdk.examples import pointing_offsets, spectrum_metric
from dq_sdk.schemas import MetricPayload, PointingNumpyArray, StructuredArray

from ._core import CASE_LIMIT_S, Row, Settings

__all__ = ["run"]

AREA = "view"
RATE_HZ = 10.0
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PointingArray = StructuredArray[PointingNumpyArray]
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime + stime


def _rss_mib(pid: int, key: str = "VmRSS") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _start_view(bootstrap: str, topics: list[str]) -> tuple[subprocess.Popen[str], str]:
    args = [arg for topic in topics for arg in ("--topics", topic)]
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dq_sdk.cli",
            "view",
            "--bootstrap",
            bootstrap,
            *args,
            "--port",
            "0",
        ],
        stdout=subprocess.PIPE,
        text=True,
        preexec_fn=_default_sigint,
    )
    assert process.stdout is not None
    line = process.stdout.readline()  # bounded: the command prints its URL or exits
    if not line.startswith("dq-sdk view: http://"):
        process.kill()
        raise RuntimeError(f"the view did not start: {line!r}")
    return process, line.split()[2]


def _stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        os.kill(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=5)


def _overview(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url + "api/overview", timeout=5) as response:
        document: dict[str, Any] = json.load(response)
    return document


async def _produce(bootstrap: str, topics: dict[str, str], seconds: float) -> int:
    """Both streams at RATE_HZ on an absolute schedule; returns messages per stream."""
    rng = np.random.default_rng(3)
    pointing = [pointing_offsets(200, i, rng) for i in range(20)]
    spectra = [spectrum_metric(4096, rng) for _ in range(20)]
    sent = 0
    async with (
        Producer(PointingArray, bootstrap, topic=topics["pointing"]) as pointing_out,
        Producer(MetricPayload, bootstrap, topic=topics["spectrum"]) as spectrum_out,
    ):
        started = time.monotonic()
        total = int(seconds * RATE_HZ)
        while sent < total:
            await asyncio.gather(
                pointing_out.send(pointing[sent % 20]), spectrum_out.send(spectra[sent % 20])
            )
            sent += 1
            await asyncio.sleep(max(0.0, started + sent / RATE_HZ - time.monotonic()))
    return sent


async def _measure(settings: Settings, bootstrap: str) -> list[Row]:
    from playwright.async_api import async_playwright

    seconds = 8.0 if settings.quick else 30.0
    run = uuid.uuid4().hex[:6]
    topics = {"pointing": f"bench-view-pointing-{run}", "spectrum": f"bench-view-spectrum-{run}"}
    async with Admin(bootstrap) as admin:
        await admin.create_topics(list(topics.values()), config={"max.message.bytes": "8388608"})
    process, url = _start_view(bootstrap, list(topics.values()))
    try:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            pages = {}
            for kind, topic in topics.items():
                page = await browser.new_page(viewport={"width": 1400, "height": 1000})
                await page.goto(f"{url}topic/{topic}")
                pages[kind] = page
            producing = asyncio.create_task(_produce(bootstrap, topics, seconds + 3))
            await asyncio.sleep(3)  # warm up: pages built, consumer following
            before = {k: await p.evaluate("({...window.dqView})") for k, p in pages.items()}
            cpu0, t0 = _cpu_seconds(process.pid), time.monotonic()
            lags: dict[str, list[int]] = {kind: [] for kind in topics}
            while time.monotonic() - t0 < seconds:
                for kind, topic in topics.items():
                    stats = [t for t in _overview(url)["topics"] if t["name"] == topic]
                    if stats:
                        lags[kind].append(int(stats[0]["view_lag"]))
                await asyncio.sleep(0.5)
            elapsed = time.monotonic() - t0
            cpu = (_cpu_seconds(process.pid) - cpu0) / elapsed
            after = {k: await p.evaluate("({...window.dqView})") for k, p in pages.items()}
            sent = await asyncio.wait_for(producing, CASE_LIMIT_S)
            await asyncio.sleep(2)
            seen = {t["name"]: t["received"] for t in _overview(url)["topics"]}
            peak = _rss_mib(process.pid, "VmHWM")
            await browser.close()
    finally:
        _stop(process)
        async with Admin(bootstrap) as admin:
            await admin.delete_topics(list(topics.values()))
    load = "200-antenna pointing + 4x4096 spectra, 10 Hz each"
    rows = [
        Row(AREA, "server CPU", load, cpu * 100, "% of one core"),
        Row(AREA, "server peak RSS", load, peak, "MiB"),
    ]
    for kind, topic in topics.items():
        payload = "pointing (200 antennas)" if kind == "pointing" else "metric (4x4096 spectra)"
        frames = (after[kind]["frames"] - before[kind]["frames"]) / elapsed
        updates = (after[kind]["updates"] - before[kind]["updates"]) / elapsed
        events = (after[kind]["events"] - before[kind]["events"]) / elapsed
        draws = max(1, after[kind]["updates"] - before[kind]["updates"])
        draw_ms = (after[kind]["drawMs"] - before[kind]["drawMs"]) / draws
        event_ms = (after[kind]["eventMs"] - before[kind]["eventMs"]) / max(
            1, after[kind]["events"] - before[kind]["events"]
        )
        rows += [
            Row(AREA, "consumer lag (max)", payload, max(lags[kind] or [0]), "messages"),
            Row(AREA, "messages seen / sent", payload, seen.get(topic, 0) / max(1, sent), "ratio"),
            Row(
                AREA,
                "page plot updates",
                payload,
                updates,
                "per s",
                note=f"{events:.1f} events/s; {draw_ms:.0f} ms a draw, {event_ms:.0f} ms an event",
            ),
            Row(AREA, "page frames", payload, frames, "per s"),
        ]
    return rows


async def run(bootstrap: str, settings: Settings) -> list[Row]:
    return await asyncio.wait_for(_measure(settings, bootstrap), CASE_LIMIT_S)
