"""Committed offsets of a consumer group: the one place the view asks for them.

Lag is the fetch high-water mark (which the view's own consumer knows for every partition it
reads, and which is right on tansu, unlike ListOffsets' end offsets) minus these offsets.
When ``Admin.group_offsets()`` lands (the CLI work), this function becomes a call to it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .._admin import Admin
from .._exceptions import KafkaError

__all__ = ["committed_offsets"]


async def committed_offsets(
    admin: Admin, group: str, partitions: Iterable[tuple[str, int]]
) -> dict[tuple[str, int], int]:
    """``(topic, partition) -> committed offset`` of ``group`` for these partitions; those
    without a commit are left out. Reads only: nothing is committed, no group is joined."""
    from aiokafka.structs import TopicPartition

    wanted = [TopicPartition(topic, partition) for topic, partition in partitions]
    if not wanted:
        return {}
    # Reaches the transport's aiokafka admin client (untyped) until Admin grows this call.
    # The partitions are named: asked for "all" (OffsetFetch v2+, null topics), tansu 0.6
    # answers with a response aiokafka cannot parse and closes the connection.
    raw_admin: Any = admin._client._admin
    try:
        offsets = await raw_admin.list_consumer_group_offsets(group, partitions=wanted)
    except Exception as exc:  # aiokafka raises its own errors, untyped here
        raise KafkaError(f"reading committed offsets of group {group!r} failed: {exc}") from exc
    return {
        (str(tp.topic), int(tp.partition)): int(meta.offset)
        for tp, meta in offsets.items()
        if int(meta.offset) >= 0
    }
