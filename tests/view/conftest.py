"""Fixtures for the view: the streams it watches, the server as a subprocess, and Chromium.

The server is started the way a user starts it (``python -m dq_sdk.cli view``), on
127.0.0.1 and a free port, with SIGINT reset to its default in the child; it is stopped by
its pid. The browser is Debian's Chromium driven by Playwright (Playwright's own browser
download is not used). A missing broker or browser fails the tests; nothing is skipped.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ._streams import Streams

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
IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@dataclass
class ViewServer:
    process: subprocess.Popen[str]
    url: str

    def stop(self) -> int:
        """SIGINT by pid (as Ctrl-C would), then wait; SIGKILL only if it hangs."""
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)
        return self.process.returncode


def start_view(args: Sequence[str], timeout_s: float = 30.0) -> ViewServer:
    """Run ``dq-sdk view ARGS --port 0`` and wait for the URL it prints."""
    process = subprocess.Popen(
        [sys.executable, "-m", "dq_sdk.cli", "view", *args, "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_default_sigint,
    )
    assert process.stdout is not None
    deadline = time.monotonic() + timeout_s
    line = ""
    while time.monotonic() < deadline and process.poll() is None:
        line = process.stdout.readline()
        if line.startswith("dq-sdk view: http://"):
            return ViewServer(process, line.split()[2])
    server = ViewServer(process, "")
    server.stop()
    errors = process.stderr.read() if process.stderr else ""
    raise AssertionError(f"the view printed no URL: {line!r}; stderr: {errors}")


@pytest.fixture(scope="module")
def streams(dq_bootstrap: str) -> Iterator[Streams]:
    running = Streams(dq_bootstrap)
    running.create()
    running.start(max_seconds=600)
    try:
        yield running
    finally:
        running.stop()
        running.delete()


@pytest.fixture(scope="module")
def view_server(dq_bootstrap: str, streams: Streams) -> Iterator[ViewServer]:
    topics = [arg for kind in streams.kinds for arg in ("--topics", streams.topic(kind))]
    server = start_view(["--bootstrap", dq_bootstrap, *topics])
    try:
        yield server
    finally:
        assert server.stop() == 0


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: scripts/_setup.sh installs it"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    opened = context.new_page()
    try:
        yield opened
    finally:
        context.close()
