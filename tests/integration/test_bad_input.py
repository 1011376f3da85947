"""Bad input ends in a clear dq-sdk error that says what was wrong and where."""

from __future__ import annotations

import time

import pytest

from dq_sdk import (
    BrokerUnavailableError,
    DataQueueConsumer,
    DataQueueProducer,
    DecodeError,
    EncodeError,
    Encoding,
)
from dq_sdk.testing import running_broker
from dq_sdk.testing._broker import free_port


async def test_non_ascii_text_is_refused_and_nothing_is_sent(
    dq_bootstrap: str, dq_topic: str
) -> None:
    async with DataQueueProducer(dq_bootstrap, topic=dq_topic, encoding=Encoding.ASCII) as p:
        with pytest.raises(EncodeError) as caught:
            await p.send("Testing Tésting")
        await p.send("plain")
    assert caught.value.topic == dq_topic
    assert "ascii" in str(caught.value) and dq_topic in str(caught.value)
    async with DataQueueConsumer(dq_bootstrap, topics=[dq_topic], encoding="ascii") as consumer:
        assert await consumer.receive(timeout_s=10) == (dq_topic, "plain")  # offset 0: only it


async def test_value_the_encoding_cannot_take(dq_bootstrap: str, dq_topic: str) -> None:
    async with DataQueueProducer(dq_bootstrap, topic=dq_topic) as producer:
        with pytest.raises(EncodeError, match="no encoding given for a dict"):
            await producer.send({"a": 1})
        with pytest.raises(EncodeError, match="utf-8"):
            await producer.send(12345, encoding="utf-8")
        with pytest.raises(EncodeError):
            await producer.send(object(), encoding="json")


async def test_bytes_that_do_not_decode_name_topic_partition_offset(
    dq_bootstrap: str, dq_topic: str
) -> None:
    async with DataQueueProducer(dq_bootstrap, topic=dq_topic) as producer:
        await producer.send(b"\xff\xfe not utf-8")
        await producer.send("fine", encoding="utf-8")
    async with DataQueueConsumer(dq_bootstrap, topics=[dq_topic], encoding="utf-8") as consumer:
        with pytest.raises(DecodeError) as caught:
            await consumer.receive(timeout_s=10)
        error = caught.value
        assert (error.topic, error.partition, error.offset) == (dq_topic, 0, 0)
        assert f"topic={dq_topic!r}, partition=0, offset=0" in str(error)
        # The consumer is not dead: the next message comes through.
        assert await consumer.receive(timeout_s=10) == (dq_topic, "fine")


async def test_unknown_encoding_name() -> None:
    with pytest.raises(ValueError, match="unknown encoding 'msgpack': expected one of"):
        DataQueueProducer("127.0.0.1:9", encoding="msgpack")


async def test_unreachable_broker_is_a_bounded_wait_then_an_error_naming_it() -> None:
    address = f"127.0.0.1:{free_port()}"  # nothing listens there
    started = time.monotonic()
    with pytest.raises(BrokerUnavailableError, match=address):
        async with DataQueueProducer(address, topic="t", connect_timeout_s=5):
            pass
    with pytest.raises(BrokerUnavailableError, match=address):
        async with DataQueueConsumer(address, topics=["t"], connect_timeout_s=5):
            pass
    assert time.monotonic() - started < 12


async def test_silent_broker_is_bounded_by_connect_timeout() -> None:
    """A port that accepts TCP but never answers Kafka requests must not hang the caller."""
    import socket

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        address = f"127.0.0.1:{listener.getsockname()[1]}"
        started = time.monotonic()
        with pytest.raises(BrokerUnavailableError, match=f"{address}.*within 1 s"):
            async with DataQueueProducer(address, topic="t", connect_timeout_s=1):
                pass
        assert time.monotonic() - started < 5


@pytest.mark.kafka
def test_broker_stopped_mid_session_gives_clear_errors() -> None:
    import asyncio

    async def scenario(bootstrap: str) -> None:
        async with DataQueueProducer(bootstrap, topic="t", encoding="utf-8") as producer:
            await producer.send("before")

    with running_broker() as bootstrap:
        asyncio.run(scenario(bootstrap))
    with pytest.raises(BrokerUnavailableError, match=bootstrap):
        asyncio.run(scenario(bootstrap))


async def test_sending_to_a_partition_the_topic_lacks(dq_bootstrap: str, dq_topic: str) -> None:
    from dq_sdk import BrokerError

    async with DataQueueProducer(dq_bootstrap, topic=dq_topic, encoding="utf-8") as producer:
        with pytest.raises(BrokerError, match=r"has no partition 5 \(it has \[0\]\)"):
            await producer.send("x", partition=5)
