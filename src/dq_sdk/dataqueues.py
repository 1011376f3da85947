"""The SKA SDP Data Queue Library's API (``DataQueueProducer``, ``DataQueueConsumer``,
``DataQueueAdmin``), as a thin shell over dq-sdk's typed core.

Code written for ``ska_sdp_dataqueues`` runs with only its import line changed. Values are
untyped here: any value its encoding can carry, validated against ``schema=`` on request.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeGuard

from ._admin import Admin
from ._consumer import MessageStream
from ._exceptions import DQError, EncodeError
from ._headers import HeadersIn, describing_headers
from ._lifecycle import StartedInContext
from ._message import WireMessage
from ._policy import OnError
from ._producer import Publisher
from ._transport import Record, RecordMetadata
from ._validation import validate as validate_value
from .codecs import Encoding, decode, encode

__all__ = ["DataQueueAdmin", "DataQueueConsumer", "DataQueueProducer"]


def _encoding(value: Encoding | str | None) -> Encoding | None:
    return None if value is None else Encoding(value)


def _is_model(schema: object) -> TypeGuard[type[WireMessage]]:
    """Whether ``schema=`` is a dq-sdk model class (it then names encoding and schema id)."""
    return (
        isinstance(schema, type)
        and isinstance(getattr(schema, "schema_id", None), str)
        and isinstance(getattr(schema, "encoding", None), Encoding)
    )


class DataQueueProducer(StartedInContext):
    """Sends values to Kafka topics, encoding them with ``encoding``.

    ``topic`` and ``encoding`` are defaults for :meth:`send`. Extra keyword options go to
    aiokafka's producer. Use with ``async with``.
    """

    def __init__(
        self,
        server: str,
        *,
        topic: str | None = None,
        encoding: Encoding | str | None = None,
        **kafka_options: Any,
    ) -> None:
        self.topic = topic
        self.encoding = _encoding(encoding)
        self._publisher = Publisher(server, **kafka_options)
        self._resource = self._publisher

    async def send(
        self,
        data: object,
        *,
        topic: str | None = None,
        encoding: Encoding | str | None = None,
        schema: object = None,
        validate: bool = False,
        key: bytes | str | None = None,
        headers: HeadersIn | None = None,
        partition: int | None = None,
        timestamp_ms: int | None = None,
    ) -> RecordMetadata:
        """Encode ``data`` and send it; return aiokafka's ``RecordMetadata`` once delivered.

        With ``validate=True`` the data is checked against ``schema`` first, and invalid data
        never reaches the topic. A dq-sdk model as ``schema`` also supplies the encoding when
        none is given. With no encoding anywhere, only ``bytes`` can be sent.
        """
        target = topic or self.topic
        if not target:
            raise DQError("no topic: pass topic= to DataQueueProducer(...) or to send()")
        model = schema if _is_model(schema) else None
        chosen = _encoding(encoding) or self.encoding or (model.encoding if model else None)
        try:
            if validate and schema is not None:
                validate_value(data, schema)
            payload = _payload(data, chosen)
        except DQError as exc:
            raise exc.located(topic=target) from exc
        return await self._publisher.publish(
            target,
            payload,
            key=key,
            headers=describing_headers(chosen, model, headers),
            partition=partition,
            timestamp_ms=timestamp_ms,
        )


def _payload(data: object, encoding: Encoding | None) -> bytes:
    if encoding is not None:
        return encode(data, encoding)
    if isinstance(data, bytes | bytearray | memoryview):
        return bytes(data)
    raise EncodeError(
        f"no encoding given for a {type(data).__name__} value: pass encoding= (one of "
        f"{', '.join(e.value for e in Encoding)}) or send bytes"
    )


class DataQueueConsumer(MessageStream[tuple[str, Any]]):
    """Streams ``(topic, message)`` pairs from Kafka topics.

    The message is decoded with ``encoding``, or left as raw ``bytes`` without one. Offsets
    start at the earliest message by default, so messages sent before the consumer started are
    read too. ``update_topics`` and ``assign_topics`` change the topics while iterating.
    ``on_error`` decides what a message that does not decode does: ``"raise"`` (default),
    ``"skip"`` or ``"dead_letter"`` (to ``dead_letter_topic``).
    """

    def __init__(
        self,
        server: str,
        *,
        topics: Iterable[str] | None = None,
        encoding: Encoding | str | None = None,
        group_id: str | None = None,
        auto_offset_reset: str = "earliest",
        on_error: OnError = "raise",
        dead_letter_topic: str | None = None,
        **kafka_options: Any,
    ) -> None:
        self.encoding = _encoding(encoding)
        super().__init__(
            server,
            topics=topics,
            group_id=group_id,
            auto_offset_reset=auto_offset_reset,
            on_error=on_error,
            dead_letter_topic=dead_letter_topic,
            kafka_options=kafka_options,
        )

    def convert(self, record: Record) -> tuple[str, Any]:
        if self.encoding is None:
            return record.topic, record.value
        return record.topic, decode(record.value, self.encoding)


class DataQueueAdmin(Admin):
    """Creates, lists, describes and deletes topics (see :class:`dq_sdk.Admin`)."""
