"""Inputs refused before any request reaches a real broker, and what the ``dq_sdk`` logger
reports (connect and leave, group join and assignment at INFO, commits at DEBUG); no library
call prints."""

from __future__ import annotations

import logging
import time
import uuid

import pytest

from dq_sdk import (
    Admin,
    BrokerUnavailableError,
    DataQueueConsumer,
    DataQueueProducer,
    InvalidArgumentError,
    TransportName,
)

BAD_NAMES = ["bad name!", "", "x" * 300, ".", ".."]


async def test_bad_topic_names_never_reach_the_broker(dq_bootstrap: str) -> None:
    async with Admin(dq_bootstrap) as admin:
        before = set(await admin.list_topics())
        for name in BAD_NAMES:
            with pytest.raises(InvalidArgumentError):
                await admin.create_topics([name])
        async with DataQueueProducer(dq_bootstrap, encoding="utf-8") as producer:
            for name in BAD_NAMES:
                with pytest.raises(InvalidArgumentError):
                    await producer.send("x", topic=name)
        created = set(await admin.list_topics()) - before
    assert not created & set(BAD_NAMES)


async def test_a_str_topics_is_one_topic_end_to_end(
    dq_bootstrap: str, dq_topic: str, transport: TransportName
) -> None:
    async with DataQueueProducer(dq_bootstrap, topic=dq_topic, encoding="utf8") as producer:
        await producer.send("one topic")
    async with DataQueueConsumer(
        dq_bootstrap, topics=dq_topic, encoding="UTF-8", transport=transport
    ) as consumer:
        assert await consumer.receive(timeout_s=20) == (dq_topic, "one topic")
        assert {topic for topic, _ in consumer.assignment()} == {dq_topic}


async def test_a_consumer_without_topics_says_so(
    dq_bootstrap: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="dq_sdk")
    async with DataQueueConsumer(dq_bootstrap) as consumer:
        with pytest.raises(TimeoutError, match="the consumer has no topics"):
            await consumer.receive(timeout_s=0.5)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert any("has no topics" in r.getMessage() for r in warnings)
    assert any("update_topics()" in r.getMessage() for r in warnings)


async def test_the_logger_reports_connect_join_assignment_commits_and_leave(
    dq_bootstrap: str,
    dq_topic_factory: object,
    transport: TransportName,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    topic = dq_topic_factory(partitions=2)  # type: ignore[operator]
    group = f"logging-{uuid.uuid4().hex[:8]}"
    caplog.set_level(logging.DEBUG, logger="dq_sdk")
    async with DataQueueProducer(
        dq_bootstrap, topic=topic, encoding="utf-8", transport=transport
    ) as producer:
        for i in range(4):
            await producer.send(f"m{i}", partition=i % 2)
    async with DataQueueConsumer(
        dq_bootstrap,
        topics=[topic],
        group_id=group,
        encoding="utf-8",
        commit_interval_s=0,
        transport=transport,
    ) as consumer:
        for _ in range(4):
            await consumer.receive(timeout_s=30)
    messages = [(r.levelno, r.name, r.getMessage()) for r in caplog.records]

    def logged(level: int, *parts: str) -> bool:
        return any(lv == level and all(p in text for p in parts) for lv, _, text in messages)

    assert logged(logging.INFO, "producer connected to", dq_bootstrap, transport)
    assert logged(logging.INFO, "producer left", dq_bootstrap)
    assert logged(logging.INFO, "consumer connected to", dq_bootstrap, group)
    assert logged(logging.INFO, "joined group", group, f"{topic} [0, 1]")
    assert logged(logging.DEBUG, "committed", f"{topic}[", group)
    assert logged(logging.INFO, "consumer left", dq_bootstrap, group)
    assert all(name.startswith("dq_sdk") for _, name, _ in messages if "dq_sdk" in name)
    assert capfd.readouterr() == ("", "")  # logged, never printed


async def test_an_unreachable_broker_prints_nothing_on_either_transport(
    transport: TransportName, capfd: pytest.CaptureFixture[str], unused_tcp_port: int
) -> None:
    address = f"127.0.0.1:{unused_tcp_port}"  # nothing listens there
    started = time.monotonic()
    with pytest.raises(BrokerUnavailableError, match=address):
        async with DataQueueProducer(address, topic="t", transport=transport, connect_timeout_s=2):
            pass
    assert time.monotonic() - started < 15
    out, err = capfd.readouterr()
    assert (out, err) == ("", ""), err[:500]  # librdkafka's FAIL lines go to logging
