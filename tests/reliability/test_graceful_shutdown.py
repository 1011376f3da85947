"""Graceful shutdown: leaving a producer delivers what is pending or says which sends failed;
a consumer commits what it processed (the message in hand only on a normal exit); Ctrl-C in a
consumer loop and in ``dq-sdk demo`` loses nothing."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from _reliability_support import (
    HEARTBEAT_INTERVAL_MS,
    SESSION_TIMEOUT_MS,
    Seq,
    default_sigint,
    produce_seq,
    read_lines,
    spawn_worker,
    stop_process,
    wait_exit,
    wait_for_lines,
)

from dq_sdk import Consumer, DQError, Producer
from dq_sdk.demo import POINTING_TOPIC
from dq_sdk.examples import PointingArray, pointing_offsets
from dq_sdk.testing import start_broker

LIMIT_S = 20


async def read_all(
    bootstrap: str, topic: str, *, quiet_s: float = 1.5, first_s: float = LIMIT_S
) -> list[int]:
    """Every Seq on the topic, read without a group, until ``quiet_s`` without a message."""
    found: list[int] = []
    async with Consumer(Seq, bootstrap, topics=[topic]) as consumer:
        while True:
            try:
                message = await consumer.receive(timeout_s=quiet_s if found else first_s)
            except TimeoutError:
                return found
            found.append(message.value.n)


async def test_leaving_a_producer_delivers_every_pending_send(
    dq_bootstrap: str, dq_topic: str
) -> None:
    # A linger far longer than queueing 1,000 sends takes even on a loaded machine, so the
    # batch is certainly still waiting when the block is left.
    total, linger_ms = 1_000, 5_000
    async with Producer(
        Seq, dq_bootstrap, topic=dq_topic, linger_ms=linger_ms, max_batch_size=2**20
    ) as producer:
        sends = [asyncio.create_task(producer.send(Seq(n))) for n in range(total)]
        await asyncio.sleep(0.2)  # let the sends queue (more may queue later: still fine)
        # All queued in one batch that waits for linger_ms: none is delivered yet.
        assert not any(send.done() for send in sends)
    # Leaving returned only once every queued send was delivered (aiokafka sends the last
    # batch when its linger_ms ends, so leaving can take up to linger_ms).
    assert all(send.done() for send in sends)
    results = [send.result() for send in sends]
    assert [r.offset for r in results] == list(range(total))
    assert await read_all(dq_bootstrap, dq_topic) == list(range(total))


async def test_sends_that_never_reached_the_producer_are_reported(
    dq_bootstrap: str, dq_topic: str
) -> None:
    total = 500
    async with Producer(Seq, dq_bootstrap, topic=dq_topic, linger_ms=50) as producer:
        # Started, but not yet run when the block is left: too late to be sent.
        sends = [asyncio.create_task(producer.send(Seq(n))) for n in range(total)]
    outcomes = await asyncio.gather(*sends, return_exceptions=True)
    delivered = [n for n, o in enumerate(outcomes) if not isinstance(o, BaseException)]
    failed = [o for o in outcomes if isinstance(o, BaseException)]
    assert failed, "no send was too late: the test did not test anything"
    assert all(isinstance(e, DQError) and "not running" in str(e) for e in failed), failed[:3]
    # Exactly the sends reported delivered are on the topic.
    assert await read_all(dq_bootstrap, dq_topic, quiet_s=1.0, first_s=3.0) == delivered


async def test_consumer_commits_the_message_in_hand_only_on_a_normal_exit(
    dq_bootstrap: str, dq_topic: str
) -> None:
    await produce_seq(dq_bootstrap, dq_topic, range(10))
    group = f"in-hand-{uuid.uuid4().hex[:8]}"

    def consumer() -> Consumer[Seq]:
        return Consumer(
            Seq,
            dq_bootstrap,
            topics=[dq_topic],
            group_id=group,
            session_timeout_ms=SESSION_TIMEOUT_MS,
            heartbeat_interval_ms=HEARTBEAT_INTERVAL_MS,
        )

    async with consumer() as first:
        got = [(await first.receive(timeout_s=LIMIT_S)).value.n for _ in range(3)]
    assert got == [0, 1, 2]  # 2 was in hand at a normal exit: processed, committed

    class Crash(Exception):
        pass

    with pytest.raises(Crash):
        async with consumer() as second:
            got = [(await second.receive(timeout_s=LIMIT_S)).value.n for _ in range(2)]
            assert got == [3, 4]
            raise Crash  # 4 is in hand: not processed, so not committed

    async with consumer() as third:
        assert (await third.receive(timeout_s=LIMIT_S)).value.n == 4


def test_ctrl_c_in_a_consumer_loop_loses_nothing(
    dq_bootstrap: str, dq_topic_factory: Callable[..., str], tmp_path: Path
) -> None:
    total, interrupt_after = 2_000, 300
    topic = dq_topic_factory(partitions=2)
    group = f"ctrl-c-{uuid.uuid4().hex[:8]}"
    asyncio.run(produce_seq(dq_bootstrap, topic, range(total)))
    first_out, second_out, log = tmp_path / "1.txt", tmp_path / "2.txt", tmp_path / "w.log"
    # 2 ms of awaited "work" per message, before its line is written: Ctrl-C lands mostly in
    # the middle of processing a message, which must then be neither written nor committed.
    first = spawn_worker(
        dq_bootstrap, topic, group, first_out, "--delay", "0.002", "--idle-exit", "30", log=log
    )
    wait_for_lines(first_out, interrupt_after, first, timeout_s=60)
    assert stop_process(first, signal.SIGINT, timeout_s=15) == 130, log.read_text()
    second = spawn_worker(dq_bootstrap, topic, group, second_out, "--idle-exit", "2", log=log)
    assert wait_exit(second, timeout_s=60) == 0, log.read_text()
    before, after = read_lines(first_out), read_lines(second_out)
    assert interrupt_after <= len(before) < total
    # Nothing lost, and after a clean Ctrl-C nothing processed twice either: the fresh
    # consumer gets exactly the unprocessed remainder.
    assert sorted(line.n for line in before + after) == list(range(total))
    assert "Traceback" not in log.read_text()
    print(
        f"\nconsumer/Ctrl-C: {len(before)} processed before Ctrl-C, {len(after)} after by a "
        f"fresh consumer, {total} distinct, 0 duplicates"
    )


@pytest.mark.parametrize("transport", ["aiokafka", "confluent"])
def test_sigterm_in_a_consumer_loop_under_dq_sdk_run_loses_nothing(
    dq_bootstrap: str, dq_topic_factory: Callable[..., str], tmp_path: Path, transport: str
) -> None:
    total, stop_after = 2_000, 300
    topic = dq_topic_factory(partitions=2)
    group = f"sigterm-{uuid.uuid4().hex[:8]}"
    asyncio.run(produce_seq(dq_bootstrap, topic, range(total)))
    first_out, second_out, log = tmp_path / "1.txt", tmp_path / "2.txt", tmp_path / "w.log"
    common = ("--transport", transport)
    # SIGTERM lands mostly during the 2 ms of "work" on a message, which must then be neither
    # written nor committed; everything written before must be committed.
    first = spawn_worker(
        dq_bootstrap, topic, group, first_out, *common, "--runner", "dq", "--delay", "0.002",
        "--idle-exit", "30", log=log,
    )  # fmt: skip
    wait_for_lines(first_out, stop_after, first, timeout_s=60)
    signalled = time.monotonic()
    assert stop_process(first, signal.SIGTERM, timeout_s=15) == 143, log.read_text()
    exit_s = time.monotonic() - signalled
    second = spawn_worker(
        dq_bootstrap, topic, group, second_out, *common, "--idle-exit", "2", log=log
    )
    assert wait_exit(second, timeout_s=60) == 0, log.read_text()
    before, after = read_lines(first_out), read_lines(second_out)
    assert stop_after <= len(before) < total
    # Nothing lost, nothing twice: what the first consumer wrote was committed at SIGTERM,
    # and the message it was working on was not.
    assert sorted(line.n for line in before + after) == list(range(total))
    assert "Traceback" not in log.read_text()
    print(
        f"\nconsumer/SIGTERM ({transport}): {len(before)} processed before SIGTERM, exit 143 "
        f"{exit_s:.2f} s after it; {len(after)} after by a fresh consumer, 0 duplicates"
    )


@pytest.mark.kafka
def test_ctrl_c_in_the_demo_loses_nothing(tmp_path: Path) -> None:
    rounds, antennas = 200, 1_000
    broker = start_broker()
    try:
        demo = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "dq_sdk.cli",
                "demo",
                "--bootstrap",
                broker.bootstrap,
                "--rounds",
                str(rounds),
                "--antennas",
                str(antennas),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            preexec_fn=default_sigint,
        )
        try:
            seen = asyncio.run(_wait_for_pointing(broker.bootstrap, demo))
            os.kill(demo.pid, signal.SIGINT)
            stdout, stderr = demo.communicate(timeout=30)
        finally:
            if demo.poll() is None:
                os.kill(demo.pid, signal.SIGKILL)
                demo.wait(timeout=5)
        assert demo.returncode == 130, stderr.decode()
        assert b"interrupted" in stdout
        assert b"Traceback" not in stderr, stderr.decode()
        on_topic = asyncio.run(_read_pointing(broker.bootstrap))
    finally:
        broker.stop()
    # What the demo sent before Ctrl-C is all there, complete and in order: the same
    # messages it generates (fixed seed), without a gap.
    rng = np.random.default_rng(2026)
    expected = [pointing_offsets(antennas, scan, rng) for scan in range(len(on_topic))]
    assert seen <= len(on_topic) <= rounds
    assert all(a == b for a, b in zip(on_topic, expected, strict=True))
    print(f"\ndemo/Ctrl-C: {len(on_topic)} of {rounds} pointing messages were sent, all intact")


async def _wait_for_pointing(bootstrap: str, demo: subprocess.Popen[bytes]) -> int:
    """Wait until the demo has put pointing messages on its topic; return how many seen."""
    deadline = time.monotonic() + 60
    async with Consumer(PointingArray, bootstrap, topics=[POINTING_TOPIC]) as consumer:
        while time.monotonic() < deadline:
            assert demo.poll() is None, "the demo ended before it was interrupted"
            try:
                await consumer.receive(timeout_s=0.05)
                return 1
            except TimeoutError:
                continue
    raise AssertionError("the demo sent nothing within 60 s")


async def _read_pointing(bootstrap: str) -> list[PointingArray]:
    found: list[PointingArray] = []
    async with Consumer(PointingArray, bootstrap, topics=[POINTING_TOPIC]) as consumer:
        while True:
            try:
                message = await consumer.receive(timeout_s=1.5 if found else LIMIT_S)
            except TimeoutError:
                return found
            found.append(message.value)
