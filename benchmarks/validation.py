"""Per-message work of the typed layer, without any broker: validation, encode, convert.

- ``validate``: the one validation path (``DataQueueProducer.send(..., validate=True)`` and
  ``Producer[M]``) on each payload's wire value; a 10,000-row pointing array must take at most
  50 us (it is checked by dtype and shape, never row by row);
- ``Producer.encode``: model -> wire value -> validation -> codec, what ``send`` does before
  the transport;
- ``Consumer.convert``: header check -> decode -> ``M.from_wire``, what iteration does after it.

The producers and consumers here are built with ``transport="confluent"``, which connects
nothing until started, so no client is left open.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from dq_sdk import Consumer, Producer
from dq_sdk._transport import FetchedRecord
from dq_sdk._validation import validate
from dq_sdk.demo import pointing_offsets
from dq_sdk.schemas import PointingNumpyArray, StructuredArray

from ._core import Row, Settings, best_time
from ._payloads import Payload

__all__ = ["run"]

AREA = "validation"
LIMIT_10K_US = 50.0
NOWHERE = "127.0.0.1:9"  # never connected: the clients below are never started


def _ten_thousand_rows(settings: Settings) -> list[Row]:
    array = pointing_offsets(10_000, 1, np.random.default_rng(5)).array
    model = StructuredArray[PointingNumpyArray]
    rows = []
    for case, schema in (
        ("validate StructuredArray[PointingNumpyArray]", model),
        ("validate (seed: schema=PointingNumpyArray)", PointingNumpyArray),
    ):
        seconds = best_time(partial(validate, array, schema), settings.micro_seconds, 5)
        micros = seconds * 1e6
        rows.append(
            Row(
                AREA,
                case,
                "pointing (10,000 antennas)",
                micros,
                "us",
                target=f"<= {LIMIT_10K_US:g} us",
                met=micros <= LIMIT_10K_US,
            )
        )
    return rows


def _payload_rows(payload: Payload, settings: Settings) -> list[Row]:
    message = payload.messages[0]
    wire = message.to_wire()
    producer = Producer(payload.model, NOWHERE, topic="t", transport="confluent")
    consumer = Consumer(payload.model, NOWHERE, topics=["t"], transport="confluent")
    record = FetchedRecord("t", 0, 0, 0, None, payload.wire, tuple(payload.headers))
    budget = settings.micro_seconds
    return [
        Row(
            AREA,
            "validate",
            payload.name,
            best_time(lambda: validate(wire, payload.model), budget, 5) * 1e6,
            "us",
        ),
        Row(
            AREA,
            "Producer.encode",
            payload.name,
            best_time(lambda: producer.encode(message), budget, 5) * 1e6,
            "us",
        ),
        Row(
            AREA,
            "Consumer.convert",
            payload.name,
            best_time(lambda: consumer.convert(record), budget, 5) * 1e6,
            "us",
        ),
    ]


def run(payloads: list[Payload], settings: Settings) -> list[Row]:
    rows = _ten_thousand_rows(settings)
    for payload in payloads:
        rows += _payload_rows(payload, settings)
    return rows
