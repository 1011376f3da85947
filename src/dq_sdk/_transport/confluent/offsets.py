"""High-water marks with librdkafka, read from Fetch responses (its "cached" watermarks).

``get_watermark_offsets(cached=False)`` asks ListOffsets, which tansu answers wrongly (the last
batch's base offset + 1); the cached high mark is what the last Fetch response said, correct
on every broker. A probe consumer fetches once from the end to learn it.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

import confluent_kafka
from confluent_kafka import KafkaException, TopicPartition

from ..._exceptions import BrokerUnavailableError
from ._common import dq_error

__all__ = ["cached_high_watermark", "probe_high_watermarks"]


def cached_high_watermark(consumer: confluent_kafka.Consumer, topic: str, partition: int) -> int:
    """The high-water mark from the last Fetch response, or -1 when none came yet."""
    try:
        _low, high = consumer.get_watermark_offsets(TopicPartition(topic, partition), cached=True)
    except KafkaException:
        return -1
    return int(high) if high is not None and high >= 0 else -1


def _probe(
    config: Mapping[str, Any], pairs: list[tuple[str, int]], timeout_s: float
) -> dict[tuple[str, int], int]:
    probe_config = {
        k: v
        for k, v in config.items()
        if k not in ("group.id", "group.instance.id", "enable.auto.commit", "auto.offset.reset")
    }
    probe_config.update(
        {
            "group.id": f"dq-sdk-probe-{uuid.uuid4().hex}",
            "enable.auto.commit": False,
            "fetch.wait.max.ms": 10,
            "enable.partition.eof": False,
        }
    )
    consumer = confluent_kafka.Consumer(probe_config)
    try:
        consumer.assign([TopicPartition(t, p, confluent_kafka.OFFSET_END) for t, p in pairs])
        deadline = time.monotonic() + timeout_s
        marks: dict[tuple[str, int], int] = {}
        while True:
            for topic, partition in pairs:
                mark = cached_high_watermark(consumer, topic, partition)
                if mark >= 0:
                    marks[(topic, partition)] = mark
            if len(marks) == len(pairs):
                return marks
            if time.monotonic() >= deadline:
                missing = sorted(set(pairs) - set(marks))
                raise BrokerUnavailableError(
                    f"reading high-water marks: no Fetch answer for {missing!r} from "
                    f"{config.get('bootstrap.servers')!r} within {timeout_s:g} s"
                )
            consumer.poll(0.1)
    finally:
        consumer.close()


async def probe_high_watermarks(
    config: Mapping[str, Any], pairs: Iterable[tuple[str, int]], *, timeout_s: float
) -> dict[tuple[str, int], int]:
    """High-water marks of ``pairs`` read by a short-lived librdkafka consumer."""
    wanted = sorted(set(pairs))
    if not wanted:
        return {}
    try:
        return await asyncio.to_thread(_probe, config, wanted, timeout_s)
    except KafkaException as exc:
        raise dq_error(
            exc, "reading high-water marks", str(config.get("bootstrap.servers"))
        ) from exc
