"""Message sizes both transports count alike: the size of one message on the wire and the
default request and batch limits, so a message is refused (or batched) the same way whichever
transport sends it.

The estimate is the Kafka record format's (v2) arithmetic as aiokafka implements it: aiokafka
is a core dependency, and its record-format code is not its client. librdkafka's own estimate
is smaller, so the confluent transport refuses nothing that librdkafka would send.
"""

from __future__ import annotations

from aiokafka.record.default_records import DefaultRecordBatchBuilder

from ._base import Headers

__all__ = ["DEFAULT_MAX_BATCH_SIZE", "DEFAULT_MAX_REQUEST_SIZE", "estimate_wire_size"]

#: dq-sdk's default ``max_batch_size`` (aiokafka's is 16 KiB): librdkafka's default
#: ``batch.size``, so both transports batch alike, and under Kafka's default
#: ``message.max.bytes`` (1,048,588). aiokafka has one request in flight per broker with one
#: batch per partition in it, so 16 KiB batches hold small messages to a round trip per
#: 16 KiB (27 pointing rows): raw aiokafka's own send() loop managed 1.6x fewer rows per
#: second, and 4,000 concurrent sends 22x fewer (docs/performance.md).
DEFAULT_MAX_BATCH_SIZE = 1_000_000
#: aiokafka's ``max_request_size``; the confluent transport uses it too, so that both refuse
#: the same messages.
DEFAULT_MAX_REQUEST_SIZE = 1_048_576


def estimate_wire_size(value: bytes, key: bytes | None, headers: Headers | None) -> int:
    """The size either transport compares with ``max_request_size`` for one message
    (aiokafka's own check; over librdkafka's estimate)."""
    return int(DefaultRecordBatchBuilder.estimate_size_in_bytes(key, value, list(headers or ())))
