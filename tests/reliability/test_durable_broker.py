"""Across a broker crash: tansu SIGKILLed and restarted on the same S3 store (SeaweedFS) keeps
messages and committed offsets, consumers continue, and in-flight sends land or fail loudly.

One durable broker serves the module (it costs ~1.5 s and ~500 MiB to start); each test uses
its own topic and group. See docs/reliability.md for the figures these tests print.
"""

from __future__ import annotations

import asyncio
import signal
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from _durable import DurableBroker, durable_broker
from _reliability_support import (
    Seq,
    committed_offsets,
    duplicates,
    produce_seq,
    read_lines,
    spawn_worker,
    stop_process,
    wait_exit,
    wait_for_lines,
)

from dq_sdk import Admin, Consumer, DQError, Producer, RecordMetadata

PARTITIONS = 4
# tansu on SeaweedFS, started here whatever the session's engine.
pytestmark = pytest.mark.fixed_engine


@pytest.fixture(scope="module")
def durable(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DurableBroker]:
    with durable_broker(tmp_path_factory.mktemp("durable")) as broker:
        yield broker


def fresh_topic(bootstrap: str, partitions: int = PARTITIONS) -> str:
    name = f"durable-{uuid.uuid4().hex[:8]}"

    async def create() -> None:
        async with Admin(bootstrap) as admin:
            await admin.create_topics([(name, partitions)])

    asyncio.run(create())
    return name


def crash_and_restart(durable: DurableBroker) -> float:
    """SIGKILL tansu and start it again on the same store; return the seconds it took."""
    started = time.monotonic()
    durable.kill_broker()
    durable.restart_broker()
    return time.monotonic() - started


def test_consumer_and_broker_both_killed_resume_from_the_committed_offsets(
    durable: DurableBroker, tmp_path: Path
) -> None:
    total, kill_after = 100_000, 40_000
    bootstrap = durable.bootstrap
    topic, group = fresh_topic(bootstrap), f"durable-{uuid.uuid4().hex[:8]}"
    started = time.monotonic()
    assert asyncio.run(produce_seq(bootstrap, topic, range(total))) == total
    produced_s = time.monotonic() - started
    first_out, second_out, log = tmp_path / "1.txt", tmp_path / "2.txt", tmp_path / "w.log"

    first = spawn_worker(bootstrap, topic, group, first_out, "--idle-exit", "30", log=log)
    wait_for_lines(first_out, kill_after, first, timeout_s=60)
    stop_process(first, signal.SIGKILL, timeout_s=10)
    committed = asyncio.run(committed_offsets(bootstrap, group, topic, PARTITIONS))
    restart_s = crash_and_restart(durable)
    # The broker crashed after the commits: they survived, as did every message.
    assert asyncio.run(committed_offsets(bootstrap, group, topic, PARTITIONS)) == committed
    assert sum(committed) > 0

    second = spawn_worker(bootstrap, topic, group, second_out, "--idle-exit", "3", log=log)
    assert wait_exit(second, timeout_s=90) == 0, log.read_text()[-2000:]
    before, after = read_lines(first_out), read_lines(second_out)
    firsts: dict[int, int] = {}
    for line in after:
        firsts.setdefault(line.partition, line.offset)
    assert all(firsts[p] == committed[p] for p in firsts), (firsts, committed)
    assert {line.n for line in before + after} == set(range(total))
    dupes = duplicates(before + after)
    assert dupes == len(before) - sum(committed)  # exactly the processed-but-uncommitted
    print(
        f"\ndurable/consumer+broker SIGKILL: {total} messages; consumer killed after "
        f"{len(before)}, broker restarted in {restart_s:.2f} s; duplicates {dupes}; "
        f"produce {produced_s:.1f} s, whole test {time.monotonic() - started:.1f} s"
    )


def test_running_consumer_rides_through_a_broker_crash(
    durable: DurableBroker, tmp_path: Path
) -> None:
    total, crash_after, outage_s = 30_000, 10_000, 2.0
    bootstrap = durable.bootstrap
    topic, group = fresh_topic(bootstrap), f"durable-{uuid.uuid4().hex[:8]}"
    asyncio.run(produce_seq(bootstrap, topic, range(total)))
    out, log = tmp_path / "out.txt", tmp_path / "w.log"

    worker = spawn_worker(bootstrap, topic, group, out, "--idle-exit", "5", log=log)
    wait_for_lines(out, crash_after, worker, timeout_s=60)
    durable.kill_broker()
    time.sleep(outage_s)
    assert worker.poll() is None, "the consumer must wait for the broker, not die"
    durable.restart_broker()
    assert wait_exit(worker, timeout_s=90) == 0, log.read_text()[-2000:]

    lines = read_lines(out)
    assert {line.n for line in lines} == set(range(total))
    # It left normally, so everything it processed is committed, and that survives a crash.
    crash_and_restart(durable)
    committed = asyncio.run(committed_offsets(bootstrap, group, topic, PARTITIONS))
    assert sum(committed) == total
    print(
        f"\ndurable/consumer through a {outage_s:g} s broker outage: {total} messages, "
        f"duplicates {duplicates(lines)}"
    )


async def test_sends_in_flight_when_the_broker_crashes_land_or_fail_loudly(
    durable: DurableBroker,
) -> None:
    total, outage_s = 5_000, 1.5
    bootstrap = durable.bootstrap
    topic = await asyncio.to_thread(fresh_topic, bootstrap)
    outcomes: list[RecordMetadata | DQError] = []
    settled = 0
    tenth_settled = asyncio.Event()

    async def send_all(producer: Producer[Seq]) -> None:
        async def one(n: int) -> RecordMetadata | DQError:
            nonlocal settled
            try:
                return await producer.send(Seq(n))
            except DQError as error:  # any other exception type fails the test
                return error
            finally:
                settled += 1
                if settled == total // 10:
                    tenth_settled.set()

        outcomes.extend(await asyncio.gather(*(one(n) for n in range(total))))

    async with asyncio.timeout(90):  # no hang: everything below ends in bounded time
        # Small batches (aiokafka's 16 KiB), so that sends settle batch by batch and the crash
        # lands with some delivered and the rest in flight (1,000,000 bytes hold them all).
        async with Producer(
            Seq, bootstrap, topic=topic, linger_ms=20, max_batch_size=16 * 1024
        ) as producer:
            sending = asyncio.create_task(send_all(producer))
            await tenth_settled.wait()  # some sends delivered, the rest in flight
            durable.kill_broker()  # blocks the loop for a moment: nothing settles meanwhile
            settled_at_crash = settled
            await asyncio.sleep(outage_s)
            await asyncio.to_thread(durable.restart_broker)
            await sending
        delivered = {
            n: (o.partition, o.offset) for n, o in enumerate(outcomes) if not isinstance(o, DQError)
        }
        failed = [o for o in outcomes if isinstance(o, DQError)]
        found: Counter[int] = Counter()
        where: dict[int, tuple[int, int]] = {}
        async with Consumer(Seq, bootstrap, topics=[topic]) as consumer:
            while True:
                try:  # the end: 1.5 s without a message, once messages came
                    message = await consumer.receive(timeout_s=1.5 if found else 20)
                except TimeoutError:
                    break
                found[message.value.n] += 1
                where.setdefault(message.value.n, (message.partition, message.offset))
    assert len(delivered) + len(failed) == total
    assert settled_at_crash < total // 2, "the crash must land with sends in flight"
    # Every acknowledged send is on the topic, at the place its metadata named.
    for n, place in delivered.items():
        assert found[n] >= 1, n
        assert place == where[n] or found[n] > 1, (n, place, where[n])
    assert set(found) <= set(range(total))
    print(
        f"\ndurable/in-flight sends across a {outage_s:g} s crash: {total} sends, "
        f"{total - settled_at_crash} in flight at the crash, "
        f"{len(delivered)} acknowledged, {len(failed)} failed with "
        f"{sorted({type(e).__name__ for e in failed})}; on the topic {len(found)} distinct, "
        f"{sum(found.values()) - len(found)} written twice (retried after the crash)"
    )
