"""At-least-once, proven: a consumer process SIGKILLed mid-stream and restarted in its group
processes every message at least once, and the duplicates are exactly what it had processed
but not yet committed."""

from __future__ import annotations

import asyncio
import signal
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from _reliability_support import (
    Line,
    committed_offsets,
    duplicates,
    produce_seq,
    read_lines,
    spawn_worker,
    stop_process,
    wait_exit,
    wait_for_lines,
)

TOTAL = 100_000
PARTITIONS = 4
KILL_AFTER = 40_000


def last_offsets(lines: list[Line], partitions: int) -> list[int]:
    """Per partition, one past the highest offset processed (0 if none)."""
    ends = [0] * partitions
    for line in lines:
        ends[line.partition] = max(ends[line.partition], line.offset + 1)
    return ends


def first_offsets(lines: list[Line]) -> dict[int, int]:
    firsts: dict[int, int] = {}
    for line in lines:
        firsts.setdefault(line.partition, line.offset)
    return firsts


@pytest.mark.member_expiry
@pytest.mark.parametrize("transport", ["aiokafka", "confluent"])
def test_sigkill_mid_stream_then_restart_processes_every_message(
    dq_bootstrap: str, dq_topic_factory: Callable[..., str], tmp_path: Path, transport: str
) -> None:
    topic = dq_topic_factory(partitions=PARTITIONS)
    group = f"at-least-once-{uuid.uuid4().hex[:8]}"
    started = time.monotonic()
    assert asyncio.run(produce_seq(dq_bootstrap, topic, range(TOTAL))) == TOTAL
    produced_s = time.monotonic() - started

    first_out, second_out = tmp_path / "first.txt", tmp_path / "second.txt"
    log = tmp_path / "workers.log"
    worker_args = ("--transport", transport)
    first = spawn_worker(
        dq_bootstrap, topic, group, first_out, *worker_args, "--idle-exit", "30", log=log
    )
    wait_for_lines(first_out, KILL_AFTER, first, timeout_s=60)
    assert stop_process(first, signal.SIGKILL, timeout_s=10) == -signal.SIGKILL
    before = read_lines(first_out)
    assert KILL_AFTER <= len(before) < TOTAL, "the kill must land mid-stream"
    assert duplicates(before) == 0

    # The commit never runs ahead of processing: that is what makes a crash safe.
    committed = asyncio.run(committed_offsets(dq_bootstrap, group, topic, PARTITIONS))
    processed_end = last_offsets(before, PARTITIONS)
    for partition in range(PARTITIONS):
        assert committed[partition] <= processed_end[partition], (partition, committed)

    second = spawn_worker(
        dq_bootstrap, topic, group, second_out, *worker_args, "--idle-exit", "3", log=log
    )
    assert wait_exit(second, timeout_s=90) == 0, log.read_text()
    after = read_lines(second_out)

    # Re-delivery starts exactly at the committed offset of each partition: nothing skipped.
    for partition, offset in first_offsets(after).items():
        assert offset == committed[partition], (partition, offset, committed)
    everything = before + after
    assert {line.n for line in everything} == set(range(TOTAL))
    # Every duplicate is a message processed before the kill but not yet committed.
    uncommitted = sum(processed_end[p] - committed[p] for p in range(PARTITIONS))
    dupes = duplicates(everything)
    assert dupes == uncommitted
    assert dupes < 25_000  # at most ~0.2 s of processing (commit_interval_s=0.2)
    total_s = time.monotonic() - started
    print(
        f"\nat-least-once/SIGKILL ({transport}): {TOTAL} messages, {PARTITIONS} partitions, "
        f"killed after "
        f"{len(before)} processed; duplicates {dupes} (= processed but uncommitted); "
        f"produce {produced_s:.1f} s, whole test {total_s:.1f} s"
    )
