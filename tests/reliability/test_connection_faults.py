"""A broker that is unreachable or dies: every wait is bounded and ends in a dq-sdk error that
names the broker, never a hang. (Sends that land once the broker is back are proven against
the durable broker in test_durable_broker.py; an unreachable bootstrap for producers and
consumers is in tests/integration/test_bad_input.py.)"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest
from _reliability_support import HEARTBEAT_INTERVAL_MS, SESSION_TIMEOUT_MS, Seq

from dq_sdk import Admin, BrokerError, BrokerUnavailableError, Consumer, DQError, Producer
from dq_sdk._transport import TransportName
from dq_sdk.testing import BrokerProcess, start_broker
from dq_sdk.testing._broker import free_port

REQUEST_TIMEOUT_MS = 2_000


@pytest.fixture
def broker() -> Iterator[BrokerProcess]:
    """A broker of this test's own, which the test may kill."""
    process = start_broker()
    try:
        yield process
    finally:
        process.stop()


async def test_admin_against_an_unreachable_broker_is_a_bounded_wait() -> None:
    address = f"127.0.0.1:{free_port()}"  # nothing listens there
    started = time.monotonic()
    with pytest.raises(BrokerUnavailableError, match=address):
        async with Admin(address, connect_timeout_s=2):
            pass
    assert time.monotonic() - started < 6


@pytest.mark.kafka
async def test_sends_in_flight_fail_loudly_when_the_broker_does_not_come_back(
    broker: BrokerProcess,
) -> None:
    total = 2_000
    async with Admin(broker.bootstrap) as admin:
        await admin.create_topics([("faults", 2)])
    started = time.monotonic()
    async with asyncio.timeout(30):
        async with Producer(
            Seq,
            broker.bootstrap,
            topic="faults",
            linger_ms=50,
            request_timeout_ms=REQUEST_TIMEOUT_MS,
        ) as producer:
            sends = [asyncio.create_task(producer.send(Seq(n))) for n in range(total)]
            await asyncio.sleep(0)  # the sends are queued, waiting for linger_ms
            assert not any(send.done() for send in sends)
            broker.stop()
            outcomes = await asyncio.gather(*sends, return_exceptions=True)
            leaving = time.monotonic()
        leave_s = time.monotonic() - leaving
    failed = [o for o in outcomes if isinstance(o, BaseException)]
    # Each send failed with a dq-sdk error naming the broker; none is left hanging.
    assert failed, "the broker died before the first linger ended: sends must fail"
    assert all(isinstance(error, BrokerError) for error in failed), {type(e) for e in failed}
    assert all(broker.bootstrap in str(error) for error in failed)
    elapsed = time.monotonic() - started
    assert elapsed < 4 * REQUEST_TIMEOUT_MS / 1000 + 5
    assert leave_s < 5
    print(
        f"\nfaults/sends in flight, broker gone: {len(failed)} of {total} failed with "
        f"{sorted({type(e).__name__ for e in failed})} after {elapsed:.1f} s "
        f"(request_timeout_ms={REQUEST_TIMEOUT_MS}); leaving the producer took {leave_s:.2f} s"
    )


@pytest.mark.kafka
@pytest.mark.parametrize("transport", ["aiokafka", "confluent"])
async def test_consumer_waits_are_bounded_when_the_broker_dies(
    broker: BrokerProcess, transport: TransportName
) -> None:
    async with Admin(broker.bootstrap) as admin:
        await admin.create_topics([("faults", 2)])
    async with Producer(Seq, broker.bootstrap, topic="faults") as producer:
        await producer.send_batch([Seq(n) for n in range(100)])
    bound_s = REQUEST_TIMEOUT_MS / 1000 + 3
    errors: list[DQError | TimeoutError] = []
    async with asyncio.timeout(60):
        with pytest.raises(BrokerUnavailableError, match=f"committing offsets.*{broker.bootstrap}"):
            async with Consumer(
                Seq,
                broker.bootstrap,
                topics=["faults"],
                group_id="faults",
                request_timeout_ms=REQUEST_TIMEOUT_MS,
                session_timeout_ms=SESSION_TIMEOUT_MS,
                heartbeat_interval_ms=HEARTBEAT_INTERVAL_MS,
                commit_interval_s=0.5,
                transport=transport,
            ) as consumer:
                for _ in range(10):
                    await consumer.receive(timeout_s=20)
                broker.stop()
                await asyncio.sleep(0.6)  # a commit is now due
                for _ in range(2):
                    started = time.monotonic()
                    try:
                        await consumer.receive(timeout_s=1)
                    except (DQError, TimeoutError) as error:
                        errors.append(error)
                    assert time.monotonic() - started < bound_s
                leaving = time.monotonic()
        # Leaving tries the final commit, within the same bound, and says why it failed.
        assert time.monotonic() - leaving < bound_s
    # Each receive() retries the due commit (the processed offsets are kept, not dropped, when
    # a commit fails), each bounded by request_timeout_ms and failing with a clear error.
    assert len(errors) == 2
    assert all(isinstance(e, BrokerUnavailableError) for e in errors), errors
