"""Reading records for the commands: a stream of raw records (chunked messages reassembled),
high-water marks, and decoding each record by its own headers or by ``--encoding``/``--model``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .. import _headers
from .._base_consumer import BaseConsumer
from .._exceptions import DQError
from .._message import WireMessage
from .._settings import consumer_parts
from .._transport import FetchedRecord
from ..codecs import Encoding, decode
from ._common import Connection
from ._models import model_for_schema, wire_model

__all__ = ["Decoded", "RecordStream", "decode_record", "high_watermarks"]


class RecordStream(BaseConsumer[FetchedRecord]):
    """Whole records, undecoded: the commands decode them themselves, message by message."""

    def __init__(
        self,
        conn: Connection,
        *,
        topics: Iterable[str] | None = None,
        group_id: str | None = None,
        auto_offset_reset: str = "earliest",
        **kafka_options: Any,
    ) -> None:
        options = {**conn.options(), "auto_offset_reset": auto_offset_reset, **kafka_options}
        connection, settings = consumer_parts(conn.bootstrap, options)
        super().__init__(
            connection,
            settings,
            topics=topics,
            group_id=group_id,
            on_error="raise",
            dead_letter_topic=None,
        )

    def convert(self, record: FetchedRecord) -> FetchedRecord:
        return record


async def high_watermarks(
    conn: Connection, pairs: list[tuple[str, int]]
) -> dict[tuple[str, int], int]:
    """High-water marks of ``pairs``, read from Fetch responses (right on every broker)."""
    if not pairs:
        return {}
    stream = RecordStream(conn)
    stream.assign_topics(pairs)
    async with stream:
        return await stream.high_watermarks(*pairs, max_age_s=0.0)


@dataclass(frozen=True)
class Decoded:
    """A record's value as the command understood it."""

    value: object  # decoded value; the raw bytes when it could not be decoded
    encoding: str | None  # how it was decoded (None: raw bytes or text without a header)
    model: str | None  # the model it validated as
    problem: str | None  # why decoding or validation failed, if it did


def decode_record(
    record: FetchedRecord, encoding: Encoding | None, model: type[WireMessage] | None
) -> Decoded:
    """Decode by ``model``, else ``encoding``, else the record's own headers."""
    if model is not None:
        return _as_model(record, wire_model(model), model.__name__)
    if encoding is None:
        announced = _headers.header_value(record.headers, _headers.ENCODING)
        if announced is None:
            return _unlabelled(record.value)
        try:
            encoding = Encoding(announced)
        except ValueError:
            return Decoded(record.value, None, None, f"unknown encoding header {announced!r}")
        schema_id = _headers.header_value(record.headers, _headers.SCHEMA_ID)
        known = model_for_schema(schema_id) if schema_id else None
        if known is not None and known.encoding is encoding:
            return _as_model(record, wire_model(known), known.__name__)
    try:
        return Decoded(decode(record.value, encoding), encoding.value, None, None)
    except DQError as exc:
        return Decoded(record.value, None, None, f"does not decode as {encoding.value}: {exc}")


def _as_model(record: FetchedRecord, model: type[WireMessage], name: str) -> Decoded:
    try:
        value = decode(record.value, model.encoding)
    except DQError as exc:
        return Decoded(
            record.value, None, None, f"does not decode as {model.encoding.value}: {exc}"
        )
    try:
        model.from_wire(value)
    except (DQError, TypeError, ValueError) as exc:
        return Decoded(value, model.encoding.value, None, f"not a valid {name}: {exc}")
    return Decoded(value, model.encoding.value, name, None)


def _unlabelled(value: bytes) -> Decoded:
    """A message without an encoding header (a foreign producer): text if it is UTF-8."""
    try:
        return Decoded(value.decode("utf-8"), None, None, None)
    except UnicodeDecodeError:
        return Decoded(value, None, None, None)
