"""Wrong uses of the typed endpoints: each marked line must be a mypy error of that code."""

from __future__ import annotations

from dq_sdk import Admin, Consumer, DataQueueConsumer, DataQueueProducer, Producer
from dq_sdk.schemas import MetricPayload, PointingNumpyArray, StructuredArray


async def sending_another_model(server: str, metric: MetricPayload) -> None:
    producer = Producer(PointingNumpyArray, server, topic="pointing_offset")
    await producer.send(metric)  # E: arg-type
    await producer.send_batch([metric])  # E: list-item


async def a_row_is_not_a_whole_array(server: str, row: PointingNumpyArray) -> None:
    producer = Producer(StructuredArray[PointingNumpyArray], server)
    await producer.send(row)  # E: arg-type


async def using_a_value_as_another_model(server: str) -> None:
    async with Consumer(MetricPayload, server, topics=["m"]) as consumer:
        async for received in consumer:
            received.value.to_numpy()  # E: attr-defined


def not_a_message_model(server: str) -> None:
    Producer(dict, server)  # E: type-var


def wrong_option_types(server: str) -> None:
    Producer(PointingNumpyArray, server, topic=3)  # E: arg-type
    Producer(PointingNumpyArray, server, transport="kafka-python")  # E: arg-type
    Consumer(MetricPayload, server, on_error="ignore")  # E: arg-type
    Consumer(MetricPayload, server, transport="kafka-python")  # E: arg-type


def misspelled_options(server: str) -> None:
    Producer(PointingNumpyArray, server, lingr_ms=5)  # E: call-arg
    Consumer(MetricPayload, server, comit_interval_s=1.0)  # E: call-arg
    DataQueueProducer(server, max_requst_size=1)  # E: call-arg
    DataQueueConsumer(server, sesion_timeout_ms=6000)  # E: call-arg
    Admin(server, conect_timeout_s=1.0)  # E: call-arg


def options_outside_their_types(server: str) -> None:
    Consumer(MetricPayload, server, auto_offset_reset="first")  # E: arg-type
    DataQueueConsumer(server, auto_offset_reset="smallest")  # E: arg-type
    Producer(PointingNumpyArray, server, linger_ms="5")  # E: arg-type
    Producer(PointingNumpyArray, server, compression_type="brotli")  # E: arg-type
    Producer(PointingNumpyArray, server, security_protocol="TLS")  # E: arg-type
    Admin(server, client_options=["linger.ms"])  # E: arg-type


async def a_metric_batch_has_no_columns(server: str) -> None:
    consumer = Consumer(MetricPayload, server, topics=["m"])
    batch = await consumer.receive_batch()
    print(batch.rows)  # E: attr-defined
