"""Topic administration against the real broker: minimum partition semantics, list, delete."""

from __future__ import annotations

import uuid

import pytest

from dq_sdk import Admin, BrokerError, DataQueueAdmin, UnsupportedByBrokerError
from dq_sdk._transport import TransportName
from dq_sdk.testing import BrokerEngine


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


async def test_raising_partitions_to_the_minimum(
    dq_bootstrap: str, dq_broker_engine: BrokerEngine | None
) -> None:
    """Kafka raises the count; tansu, without CreatePartitions, says so clearly."""
    topic = unique("grow")
    async with DataQueueAdmin(dq_bootstrap) as admin:
        await admin.create_topics([(topic, 1)])
        if dq_broker_engine == "tansu":
            with pytest.raises(UnsupportedByBrokerError) as raised:
                await admin.create_topics([(topic, 3)])
            assert topic in str(raised.value) and "has 1, needs 3" in str(raised.value)
            assert "CreatePartitions" in str(raised.value)
            expected = 1
        else:
            await admin.create_topics([(topic, 3)])
            expected = 3
        [info] = await admin.describe_topics([topic])
    assert info.partitions == expected


TOPIC_CONFIG: dict[str, str | int] = {
    "max.message.bytes": 5_000_000,
    "retention.ms": 3_600_000,
    "cleanup.policy": "compact",
}


@pytest.mark.parametrize(
    ("admin_class", "transport"),
    [(Admin, "aiokafka"), (Admin, "confluent"), (DataQueueAdmin, "aiokafka")],
)
async def test_topics_are_created_with_their_config_and_describe_shows_it(
    dq_bootstrap: str, admin_class: type[Admin], transport: TransportName
) -> None:
    topic, plain = unique("configured"), unique("plain")
    async with admin_class(dq_bootstrap, transport=transport) as admin:
        await admin.create_topics([(topic, 2)], config=TOPIC_CONFIG)
        await admin.create_topics([plain])
        await admin.create_topics([topic], config={"retention.ms": 1})  # exists: left alone
        configured, default = await admin.describe_topics([topic, plain])
    assert (configured.name, configured.partitions) == (topic, 2)
    for key, value in TOPIC_CONFIG.items():
        assert configured.config[key] == str(value)
        # Kafka lists defaults too; where it does, they differ from what was set.
        assert default.config.get(key) != str(value)


async def test_unknown_topic_config_is_refused_by_kafka(
    dq_bootstrap: str, dq_broker_engine: BrokerEngine | None
) -> None:
    topic = unique("bad-config")
    async with Admin(dq_bootstrap) as admin:
        if dq_broker_engine == "tansu":
            # tansu's documented gap: it stores any name without checking it.
            await admin.create_topics([topic], config={"no.such.setting": "1"})
            [info] = await admin.describe_topics([topic])
            assert info.config == {"no.such.setting": "1"}
            return
        with pytest.raises(BrokerError, match=rf"{topic}.*no\.such\.setting"):
            await admin.create_topics([topic], config={"no.such.setting": "1"})
        assert topic not in await admin.list_topics()


@pytest.mark.parametrize(
    ("config", "error", "match"),
    [
        ({"max.message.bytes": True}, TypeError, "'max.message.bytes': value True must be"),
        ({"retention.ms": 1.5}, TypeError, "'retention.ms': value 1.5 must be a str or an int"),
        ({"": "1"}, ValueError, "'' is not a config name"),
        ({7: "1"}, ValueError, "7 is not a config name"),
        (["retention.ms"], TypeError, "config must be a mapping"),
    ],
)
async def test_bad_topic_config_is_refused_before_asking_the_broker(
    config: object, error: type[Exception], match: str
) -> None:
    # Checked where it enters: no broker is needed (nothing listens on this address).
    admin = Admin("127.0.0.1:9")
    with pytest.raises(error, match=match):
        await admin.create_topics(["t"], config=config)  # type: ignore[arg-type]


async def test_invalid_partition_count_is_refused(dq_bootstrap: str) -> None:
    async with DataQueueAdmin(dq_bootstrap) as admin:
        with pytest.raises(ValueError, match="minimum partitions must be an int >= 1"):
            await admin.create_topics([("bad", 0)])
