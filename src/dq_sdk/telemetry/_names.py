"""The names dq-sdk's telemetry emits: metric names, units and attribute keys.

Plain strings, no OpenTelemetry import. Where OpenTelemetry's messaging semantic conventions
name a measurement, dq-sdk uses that name; its own additions start with ``dq_sdk.``.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "CONSUMED_BYTES",
    "CONSUMED_MESSAGES",
    "CONSUMER_GROUP",
    "CONSUMER_LAG",
    "DESTINATION",
    "DURATION_BUCKETS_S",
    "ERROR_TYPE",
    "KAFKA_OFFSET",
    "MESSAGE_BODY_SIZE",
    "MODEL",
    "ON_ERROR",
    "OPERATION_DURATION",
    "OPERATION_NAME",
    "OPERATION_TYPE",
    "PARTITION",
    "REJECTED_BYTES",
    "REJECTED_MESSAGES",
    "SENT_BYTES",
    "SENT_MESSAGES",
    "SYSTEM",
    "TRANSPORT",
    "BATCH_MESSAGE_COUNT",
]

# Metrics (OpenTelemetry semantic conventions for messaging clients).
SENT_MESSAGES: Final = "messaging.client.sent.messages"
CONSUMED_MESSAGES: Final = "messaging.client.consumed.messages"
OPERATION_DURATION: Final = "messaging.client.operation.duration"
# Metrics the conventions do not define.
SENT_BYTES: Final = "dq_sdk.client.sent.bytes"
CONSUMED_BYTES: Final = "dq_sdk.client.consumed.bytes"
REJECTED_MESSAGES: Final = "dq_sdk.consumer.rejected.messages"
REJECTED_BYTES: Final = "dq_sdk.consumer.rejected.bytes"
CONSUMER_LAG: Final = "dq_sdk.consumer.lag"

#: The conventions' advice for messaging duration histograms, in seconds.
DURATION_BUCKETS_S: Final = (
    0.005,
    0.01,
    0.025,
    0.05,
    0.075,
    0.1,
    0.25,
    0.5,
    0.75,
    1.0,
    2.5,
    5.0,
    7.5,
    10.0,
)

# Attributes (semantic conventions).
SYSTEM: Final = "messaging.system"
OPERATION_NAME: Final = "messaging.operation.name"
OPERATION_TYPE: Final = "messaging.operation.type"
DESTINATION: Final = "messaging.destination.name"
PARTITION: Final = "messaging.destination.partition.id"
CONSUMER_GROUP: Final = "messaging.consumer.group.name"
KAFKA_OFFSET: Final = "messaging.kafka.offset"
MESSAGE_BODY_SIZE: Final = "messaging.message.body.size"
BATCH_MESSAGE_COUNT: Final = "messaging.batch.message_count"
ERROR_TYPE: Final = "error.type"
# Attributes of dq-sdk's own.
MODEL: Final = "dq_sdk.model"
TRANSPORT: Final = "dq_sdk.transport"
ON_ERROR: Final = "dq_sdk.on_error"
