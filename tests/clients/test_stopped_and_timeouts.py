"""Using a client outside ``async with`` and waiting too long are dq-sdk errors, each caught as
what it is: ``ProducerStoppedError`` / ``ConsumerStoppedError``, and ``ReceiveTimeoutError``,
which is also the built-in ``TimeoutError``."""

from __future__ import annotations

import pytest

from dq_sdk import (
    Consumer,
    ConsumerStoppedError,
    DQError,
    Producer,
    ProducerStoppedError,
    ReceiveTimeoutError,
    TransportName,
)
from dq_sdk.schemas import PointingNumpyArray


def row() -> PointingNumpyArray:
    values: dict[str, object] = dict.fromkeys(PointingNumpyArray.model_fields, 0.5)
    values["antenna_name"] = "SKA001"
    return PointingNumpyArray.model_validate(values)


async def test_a_receive_that_times_out_is_a_dq_error_and_a_timeout_error(
    dq_bootstrap: str, dq_topic: str, transport: TransportName
) -> None:
    async with Consumer(
        PointingNumpyArray, dq_bootstrap, topics=[dq_topic], transport=transport
    ) as consumer:
        with pytest.raises(ReceiveTimeoutError, match=r"0\.2 s") as caught:
            await consumer.receive(timeout_s=0.2)
        assert isinstance(caught.value, TimeoutError)
        assert isinstance(caught.value, DQError)
        with pytest.raises(TimeoutError):
            await consumer.receive_batch(timeout_s=0.2)


async def test_a_producer_used_after_leaving_is_stopped_like_a_consumer(
    dq_bootstrap: str, dq_topic: str, transport: TransportName
) -> None:
    producer = Producer(PointingNumpyArray, dq_bootstrap, topic=dq_topic, transport=transport)
    async with producer:
        await producer.send(row())
    with pytest.raises(ProducerStoppedError, match="not running") as caught:
        await producer.send(row())
    assert caught.value.topic == dq_topic
    consumer = Consumer(PointingNumpyArray, dq_bootstrap, topics=[dq_topic], transport=transport)
    with pytest.raises(ConsumerStoppedError, match="not running"):
        await consumer.receive(timeout_s=1)
