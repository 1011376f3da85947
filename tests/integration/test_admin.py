"""Topic administration against the real broker: minimum partition semantics, list, delete."""

from __future__ import annotations

import uuid

import pytest

from dq_sdk import DataQueueAdmin, UnsupportedByBrokerError
from dq_sdk.testing import bootstrap_from_env


def unique(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}"


async def test_existing_topic_is_not_an_error_and_keeps_enough_partitions(
    dq_bootstrap: str,
) -> None:
    topic = unique("keep")
    async with DataQueueAdmin(dq_bootstrap) as admin:
        await admin.create_topics([(topic, 4)])
        await admin.create_topics([topic, (topic, 2)])  # both ask for less: left alone
        [info] = await admin.describe_topics([topic])
    assert (info.name, info.partitions, info.internal) == (topic, 4, False)


async def test_list_describe_delete(dq_bootstrap: str) -> None:
    a, b = unique("a"), unique("b")
    async with DataQueueAdmin(dq_bootstrap) as admin:
        await admin.create_topics([a, (b, 2)])
        listed = await admin.list_topics()
        assert {a, b} <= set(listed)
        assert listed == sorted(listed)
        missing = unique("never-created")
        described = await admin.describe_topics([a, missing])
        assert [t.name for t in described] == [a]
        assert missing not in await admin.list_topics()  # describing did not auto-create it
        await admin.delete_topics([a, missing])
        remaining = await admin.list_topics()
    assert a not in remaining
    assert b in remaining


async def test_raising_partitions_to_the_minimum(dq_bootstrap: str) -> None:
    """Kafka raises the count; a broker without CreatePartitions (tansu) says so clearly."""
    topic = unique("grow")
    async with DataQueueAdmin(dq_bootstrap) as admin:
        await admin.create_topics([(topic, 1)])
        try:
            await admin.create_topics([(topic, 3)])
        except UnsupportedByBrokerError as exc:
            assert bootstrap_from_env() is None, "a real Kafka cluster supports CreatePartitions"
            assert topic in str(exc) and "has 1, needs 3" in str(exc)
            assert "CreatePartitions" in str(exc)
            [info] = await admin.describe_topics([topic])
            assert info.partitions == 1
        else:
            [info] = await admin.describe_topics([topic])
            assert info.partitions == 3


async def test_invalid_partition_count_is_refused(dq_bootstrap: str) -> None:
    async with DataQueueAdmin(dq_bootstrap) as admin:
        with pytest.raises(ValueError, match="minimum partitions must be an int >= 1"):
            await admin.create_topics([("bad", 0)])
