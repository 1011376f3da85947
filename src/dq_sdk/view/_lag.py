"""Committed offsets of a consumer group: the one place the view asks for them.

Lag is the fetch high-water mark (which the view's own consumer knows for every partition it
reads, and which is right on tansu, unlike ListOffsets' end offsets) minus these offsets.
When ``Admin.group_offsets()`` lands (the CLI work), this function becomes a call to it.
"""

from __future__ import annotations

from collections.abc import Iterable

from .._admin import Admin

__all__ = ["committed_offsets"]


async def committed_offsets(
    admin: Admin, group: str, partitions: Iterable[tuple[str, int]]
) -> dict[tuple[str, int], int]:
    """``(topic, partition) -> committed offset`` of ``group`` for these partitions; those
    without a commit are left out. Reads only: nothing is committed, no group is joined."""
    wanted = set(partitions)
    if not wanted:
        return {}
    committed = await admin.group_offsets(group)
    return {pair: offset for pair, offset in committed.items() if pair in wanted}
