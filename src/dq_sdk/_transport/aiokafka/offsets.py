"""Positions and high-water marks with aiokafka, correct on every Kafka-protocol broker.

The high-water mark is read from Fetch responses, never from ``end_offsets`` (ListOffsets
"latest"): tansu answers that one wrongly (the last batch's base offset + 1), while every broker
puts the true high-water mark into each Fetch response, also an empty one.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import Any

import aiokafka
from aiokafka.structs import TopicPartition

from ..._exceptions import BrokerUnavailableError
from ._common import guarded

__all__ = ["probe_high_watermarks", "read_high_watermarks"]

#: Options of the consumer being probed that the probe must not copy (it joins no group).
_NOT_FOR_PROBE = (
    "group_id",
    "group_instance_id",
    "enable_auto_commit",
    "auto_offset_reset",
    "fetch_max_wait_ms",
    "max_partition_fetch_bytes",
    "fetch_max_bytes",
    "isolation_level",
    "key_deserializer",
    "value_deserializer",
)


async def read_high_watermarks(
    consumer: Any, pairs: Iterable[tuple[str, int]], *, bootstrap: str, timeout_s: float
) -> dict[tuple[str, int], int]:
    """High-water marks of partitions assigned to a started aiokafka ``consumer``.

    Its positions are moved (to the end), so use it only on a consumer made for probing.
    """
    wanted = [TopicPartition(t, p) for t, p in pairs]
    if not wanted:
        return {}
    # Fetching at the "end" (right on Kafka, a little earlier on tansu) returns little or
    # nothing, and every answer carries the high-water mark.
    await guarded(consumer.seek_to_end(*wanted), "finding the end offsets", bootstrap=bootstrap)
    deadline = time.monotonic() + timeout_s
    seen: dict[tuple[str, int], int] = {}
    while True:
        for tp in wanted:
            mark = consumer.highwater(tp)
            if mark is not None:
                seen[(tp.topic, tp.partition)] = int(mark)
        if len(seen) == len(wanted):
            return seen
        if time.monotonic() >= deadline:
            missing = sorted({(t.topic, t.partition) for t in wanted} - set(seen))
            raise BrokerUnavailableError(
                f"reading high-water marks: no Fetch answer for {missing!r} from {bootstrap!r} "
                f"within {timeout_s:g} s"
            )
        await guarded(
            consumer.getmany(*wanted, timeout_ms=100),
            "reading high-water marks",
            bootstrap=bootstrap,
        )


async def probe_high_watermarks(
    bootstrap: str,
    pairs: Iterable[tuple[str, int]],
    options: Mapping[str, Any],
    *,
    timeout_s: float,
) -> dict[tuple[str, int], int]:
    """High-water marks of ``pairs`` read by a short-lived group-less consumer."""
    wanted = sorted(set(pairs))
    if not wanted:
        return {}
    probe_options = {k: v for k, v in options.items() if k not in _NOT_FOR_PROBE}
    consumer = aiokafka.AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        fetch_max_wait_ms=10,
        max_partition_fetch_bytes=1,  # the broker still sends one batch: enough for the mark
        **probe_options,
    )
    consumer.assign([TopicPartition(t, p) for t, p in wanted])
    try:
        await guarded(
            consumer.start(), "reading high-water marks", bootstrap=bootstrap, timeout_s=timeout_s
        )
    except BaseException:
        await consumer.stop()
        raise
    try:
        return await read_high_watermarks(
            consumer, wanted, bootstrap=bootstrap, timeout_s=timeout_s
        )
    finally:
        await guarded(consumer.stop(), "stopping the probe consumer", bootstrap=bootstrap)
