"""When offsets are committed while a consumer waits, and how long joining a group may take."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest
from _reliability_support import (
    HEARTBEAT_INTERVAL_MS,
    SESSION_TIMEOUT_MS,
    Seq,
    committed_offsets,
    produce_seq,
)

from dq_sdk import BrokerError, Consumer
from dq_sdk._transport import TransportName

LIMIT_S = 20


@pytest.mark.parametrize("transport", ["aiokafka", "confluent"])
async def test_processed_offsets_are_committed_while_no_new_message_comes(
    dq_bootstrap: str, dq_topic: str, transport: TransportName
) -> None:
    await produce_seq(dq_bootstrap, dq_topic, range(3))
    group = f"idle-commit-{uuid.uuid4().hex[:8]}"
    interval_s = 1.0
    async with Consumer(
        Seq,
        dq_bootstrap,
        topics=[dq_topic],
        group_id=group,
        commit_interval_s=interval_s,
        session_timeout_ms=SESSION_TIMEOUT_MS,
        heartbeat_interval_ms=HEARTBEAT_INTERVAL_MS,
        transport=transport,
    ) as consumer:
        got = [(await consumer.receive(timeout_s=LIMIT_S)).value.n for _ in range(3)]
        assert got == [0, 1, 2]
        # Asking for a 4th makes the 3rd processed; none comes. Meanwhile another client
        # watches the group's committed offset.
        idle_since = time.monotonic()
        waiting = asyncio.create_task(consumer.receive(timeout_s=LIMIT_S))
        try:
            seen = [0]
            while seen != [3] and time.monotonic() - idle_since < LIMIT_S:
                assert not waiting.done(), "the idle receive ended early"
                seen = await committed_offsets(dq_bootstrap, group, dq_topic, 1)
                await asyncio.sleep(0.1)
            visible_s = time.monotonic() - idle_since
        finally:
            waiting.cancel()
            with pytest.raises(asyncio.CancelledError):
                await waiting
    assert seen == [3], f"committed offset {seen} after {LIMIT_S} s idle"
    # Due after interval_s, then one poll step (0.1 s) and the watcher's own round trip;
    # asserted loosely (shared machines), printed exactly.
    assert visible_s < interval_s + 5
    print(f"\nidle commit ({transport}): committed offset 3 visible {visible_s:.2f} s into idling")


async def test_a_group_join_that_runs_out_says_so(dq_bootstrap: str, dq_topic: str) -> None:
    group = f"join-{uuid.uuid4().hex[:8]}"

    def member(join_timeout_s: float | None = None) -> Consumer[Seq]:
        return Consumer(
            Seq,
            dq_bootstrap,
            topics=[dq_topic],
            group_id=group,
            session_timeout_ms=6_000,
            heartbeat_interval_ms=1_000,
            group_join_timeout_s=join_timeout_s,
            connect_timeout_s=30,
        )

    async with member():
        # A second member's join needs the first to rejoin, which it notices at its next
        # heartbeat (up to 1 s): far over a 0.2 s bound, far under the connect timeout.
        started = time.monotonic()
        with pytest.raises(BrokerError) as caught:
            async with member(join_timeout_s=0.2):
                pass
        failed_after = time.monotonic() - started
    message = str(caught.value)
    assert "joining consumer group" in message and "group_join_timeout_s" in message, message
    assert "within 0.2 s" in message and repr(group) in message, message
    assert "no Kafka broker answered" not in message
    assert failed_after < 10, failed_after


@pytest.mark.parametrize("bad", [0, -1.0, "5", True])
def test_group_join_timeout_must_be_positive_seconds(dq_bootstrap: str, bad: object) -> None:
    with pytest.raises(ValueError, match=r"group_join_timeout_s=.* a finite number of seconds > 0"):
        Consumer(Seq, dq_bootstrap, group_id="g", group_join_timeout_s=bad)  # type: ignore[arg-type]
