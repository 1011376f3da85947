"""The view server as a user runs it: read-only, loopback, bounded updates, groups' lag."""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pytest

from dq_sdk import Admin, DataQueueConsumer, DataQueueProducer, Encoding

# The view's lag reader (internal), compared with what the page shows.
from dq_sdk.view._lag import committed_offsets

from ._streams import Streams
from .conftest import ViewServer, start_view

pytestmark = pytest.mark.timeout(240)


def _request(
    server: ViewServer, method: str, path: str, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    parts = urlsplit(server.url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    try:
        connection.request(method, path, headers=headers or {})
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


def _json(server: ViewServer, path: str) -> Any:
    status, _, body = _request(server, "GET", path)
    assert status == 200, body
    return json.loads(body)


def _until(check: Callable[[], bool], what: str, timeout_s: float = 45.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.25)
    raise AssertionError(f"not within {timeout_s:g} s: {what}")


def _run(coro_factory: Callable[[], Any]) -> Any:
    return asyncio.run(coro_factory())


def test_binds_loopback_and_serves_the_pages(view_server: ViewServer, streams: Streams) -> None:
    assert view_server.url.startswith("http://127.0.0.1:")
    status, headers, body = _request(view_server, "GET", "/")
    assert status == 200 and b"dq-sdk view" in body
    assert "script-src 'self'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    status, _, licence = _request(view_server, "GET", "/static/vendor/uplot/LICENSE")
    assert status == 200 and b"MIT" in licence
    status, _, _ = _request(view_server, "GET", "/static/vendor/uplot/uPlot.iife.min.js")
    assert status == 200


def test_nothing_can_be_changed_through_it(view_server: ViewServer, streams: Streams) -> None:
    topic = streams.topic("text")
    for path in ("/", "/api/overview", f"/api/topics/{topic}", f"/topic/{topic}"):
        for method in ("POST", "PUT", "DELETE", "PATCH"):
            status, _, _ = _request(view_server, method, path)
            assert status == 405, (method, path, status)


def test_foreign_host_headers_are_refused(view_server: ViewServer) -> None:
    # A page on another site cannot read the view through DNS rebinding.
    status, _, _ = _request(view_server, "GET", "/api/overview", {"Host": "evil.example"})
    assert status == 400
    status, _, _ = _request(view_server, "GET", "/api/overview", {"Host": "localhost:1"})
    assert status == 200


def test_an_unknown_topic_is_a_404_naming_it(view_server: ViewServer) -> None:
    status, _, body = _request(view_server, "GET", "/api/topics/no-such-topic")
    assert status == 404
    assert json.loads(body) == {"error": "topic 'no-such-topic' is not shown"}


def test_a_fast_topic_reaches_the_page_at_most_10_times_a_second(
    dq_bootstrap: str, dq_topic: str
) -> None:
    server = start_view(["--bootstrap", dq_bootstrap, "--topics", dq_topic])
    stop = threading.Event()
    sent = [0]

    async def flood() -> None:
        async with DataQueueProducer(dq_bootstrap, topic=dq_topic, encoding=Encoding.UTF8) as p:
            deadline = time.monotonic() + 60
            while not stop.is_set() and time.monotonic() < deadline:
                await asyncio.gather(*(p.send(f"n={sent[0] + i}") for i in range(50)))
                sent[0] += 50

    producer = threading.Thread(target=lambda: asyncio.run(flood()))
    try:
        _until(lambda: _request(server, "GET", f"/api/topics/{dq_topic}")[0] == 200, "topic shown")
        producer.start()
        _until(lambda: sent[0] > 500, "the flood runs")
        events, seconds = _count_events(server, f"/api/topics/{dq_topic}/events", 4.0)
        assert events <= 10 * seconds + 2, f"{events} events in {seconds:.1f} s"
        assert events >= 2 * seconds  # and it does update, while messages flood in
        stop.set()
        producer.join(timeout=60)
        total = sent[0]
        _until(
            lambda: _json(server, f"/api/topics/{dq_topic}")["stats"]["received"] == total,
            "every message counted",
        )
        # The newest is always decoded (the last one waits at most a tick of the limit) ...
        _until(
            lambda: (
                _json(server, f"/api/topics/{dq_topic}")["view"]["plot"]["text"] == f"n={total - 1}"
            ),
            "the newest message shown",
        )
        # ... but at most 10 a second (plus the first burst), not every one.
        assert _json(server, f"/api/topics/{dq_topic}")["stats"]["decoded"] < total / 2
    finally:
        stop.set()
        if producer.is_alive():
            producer.join(timeout=60)
        assert server.stop() == 0


def _count_events(server: ViewServer, path: str, seconds: float) -> tuple[int, float]:
    parts = urlsplit(server.url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    connection.request("GET", path)
    response = connection.getresponse()
    assert response.getheader("content-type", "").startswith("text/event-stream")
    started = time.monotonic()
    events = 0
    try:
        while time.monotonic() - started < seconds:
            line = response.fp.readline()
            if line.startswith(b"data: "):
                events += 1
    finally:
        connection.close()
    return events, time.monotonic() - started


def test_shows_a_groups_lag_and_commits_nothing(dq_bootstrap: str, dq_topic: str) -> None:
    group = f"view-lag-{os.getpid()}"

    async def fill_and_consume_five() -> None:
        async with DataQueueProducer(dq_bootstrap, topic=dq_topic, encoding=Encoding.UTF8) as p:
            for i in range(20):
                await p.send(f"m{i}")
        async with DataQueueConsumer(
            dq_bootstrap, topics=[dq_topic], group_id=group, encoding=Encoding.UTF8
        ) as consumer:
            for _ in range(5):
                await consumer.receive(timeout_s=30)

    _run(fill_and_consume_five)
    server = start_view(["--bootstrap", dq_bootstrap, "--topics", dq_topic, "--group", group])
    try:

        def lag() -> Any:
            topics = _json(server, "/api/overview")["topics"]
            return topics[0]["lag"].get(group) if topics else None

        _until(lambda: lag() == 15, f"lag of {group} is 20 - 5")
    finally:
        assert server.stop() == 0

    async def committed() -> dict[tuple[str, int], int]:
        async with Admin(dq_bootstrap) as admin:
            return await committed_offsets(admin, group, [(dq_topic, 0)])

    assert _run(committed) == {(dq_topic, 0): 5}  # the view read everything, committed nothing


def test_cli_refuses_bad_options_naming_them() -> None:
    env = {k: v for k, v in os.environ.items() if k != "DQ_SDK_BOOTSTRAP"}
    env["COLUMNS"] = "250"  # rich wraps error boxes at the terminal width
    run = [sys.executable, "-m", "dq_sdk.cli", "view"]
    bad_port = subprocess.run(
        [*run, "--bootstrap", "127.0.0.1:9", "--port", "70000"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert bad_port.returncode == 2
    assert "--port must be 0 (any free port) to 65535, not 70000" in bad_port.stderr
    no_kafka = subprocess.run([*run], capture_output=True, text=True, timeout=60, env=env)
    assert no_kafka.returncode == 2
    assert "pass --bootstrap HOST:PORT or set DQ_SDK_BOOTSTRAP" in no_kafka.stderr
    helped = subprocess.run([*run, "--help"], capture_output=True, text=True, timeout=60, env=env)
    assert helped.returncode == 0
    for option in ("--bootstrap", "--topics", "--group", "--host", "--port"):
        assert option in helped.stdout
