"""The typed consumer ``Consumer[M]``: records -> header check -> codec -> ``M.from_wire``
(validation) -> :class:`Received` envelopes, one at a time or in batches.

The receiving machinery it shares with ``DataQueueConsumer`` is in :mod:`dq_sdk._base_consumer`
(iteration, bad-message policy, positions) and :mod:`dq_sdk._fetcher` (fetching, commits,
rebalances).
"""

from __future__ import annotations

import ssl
import time
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, cast, overload

import numpy as np

from . import _headers
from ._base_consumer import BaseConsumer
from ._batches import RowBatch, RowLayout, fast_rows, join_rows, row_layout
from ._exceptions import DQError, SchemaMismatchError
from ._headers import CHUNK_ID, model_headers
from ._message import WireMessage, check_model
from ._models._structured import StructuredArray, StructuredRow
from ._policy import OnError
from ._settings import (
    DEFAULT_CONNECT_TIMEOUT_S,
    AutoOffsetReset,
    SaslMechanism,
    SecurityProtocol,
    checked_keywords,
    connection_from,
    consumer_settings_from,
)
from ._transport import FetchedRecord, TransportName
from .codecs import decode

__all__ = ["Consumer", "Received", "check_announced_model"]

M = TypeVar("M", bound=WireMessage)
R = TypeVar("R", bound=StructuredRow)


@dataclass(frozen=True, slots=True)
class Received(Generic[M]):
    """A decoded, validated message and where it came from."""

    value: M
    topic: str
    partition: int
    offset: int
    timestamp: int
    key: bytes | None
    headers: tuple[tuple[str, bytes], ...]


class Consumer(BaseConsumer[Received[M]]):
    """Receives messages of one model ``M``: ``async for msg in consumer`` gives
    :class:`Received[M] <Received>` envelopes whose ``.value`` is an ``M``.

    Messages whose headers name another schema, a different major version or another encoding
    raise :class:`SchemaMismatchError`; like any bad message this goes through ``on_error``:
    ``"raise"`` (default; iteration can resume after it), ``"skip"`` or ``"dead_letter"``.

    ``group_join_timeout_s`` bounds how long entering ``async with`` waits to join the consumer
    group, apart from ``connect_timeout_s``: by default the session timeout plus the rebalance
    timeout plus ``connect_timeout_s`` (35 s with the defaults), since a join waits for the
    group's other members. The confluent transport joins in the background instead.
    """

    @checked_keywords
    def __init__(
        self,
        model: type[M],
        server: str | None = None,
        *,
        topics: str | Iterable[str] | None = None,
        group_id: str | None = None,
        on_error: OnError = "raise",
        dead_letter_topic: str | None = None,
        transport: TransportName = "aiokafka",
        auto_offset_reset: AutoOffsetReset = "earliest",
        commit_interval_s: float = 1.0,
        enable_auto_commit: bool = False,
        session_timeout_ms: int = 10_000,
        heartbeat_interval_ms: int = 3_000,
        max_poll_interval_ms: int = 300_000,
        max_poll_records: int | None = None,
        fetch_max_bytes: int = 52_428_800,
        max_partition_fetch_bytes: int = 1_048_576,
        max_reassembly_bytes: int = 512 * 1024 * 1024,
        chunk_timeout_s: float = 120.0,
        group_join_timeout_s: float | None = None,
        connect_timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S,
        request_timeout_ms: int = 40_000,
        client_id: str | None = None,
        security_protocol: SecurityProtocol = "PLAINTEXT",
        ssl_context: ssl.SSLContext | None = None,
        sasl_mechanism: SaslMechanism = "PLAIN",
        sasl_plain_username: str | None = None,
        sasl_plain_password: str | None = None,
        sasl_kerberos_service_name: str = "kafka",
        sasl_kerberos_domain_name: str | None = None,
        client_options: Mapping[str, object] | None = None,
    ) -> None:
        check_model(model, "Consumer")
        self.model = model
        super().__init__(
            connection_from(server, locals()),
            consumer_settings_from(locals()),
            topics=topics,
            group_id=group_id,
            on_error=on_error,
            dead_letter_topic=dead_letter_topic,
        )

    # Row models get columns, others a list: the return type really changes with the model.
    @overload
    async def receive_batch(  # type: ignore[overload-overlap]
        self: Consumer[R], *, max_records: int = ..., timeout_s: float | None = ...
    ) -> RowBatch[R]: ...
    @overload
    async def receive_batch(
        self, *, max_records: int = ..., timeout_s: float | None = ...
    ) -> list[Received[M]]: ...
    async def receive_batch(
        self, *, max_records: int = 10_000, timeout_s: float | None = None
    ) -> RowBatch[Any] | list[Received[M]]:
        """What the fetches so far brought, at most ``max_records`` good messages, decoded at
        once; the previous batch is now processed (committed as single messages are).

        For a row model (``Consumer[PointingNumpyArray]``) one :class:`RowBatch`: all rows in
        one ``StructuredArray`` with topic, partition, offset and timestamp arrays beside it,
        no Python object per row. For any other model a list of ``Received[M]``. Bad messages
        go through ``on_error`` one by one; with ``"raise"`` the batch stops before a bad
        message, and the next call raises for it (then goes on after it, as iteration does).
        Raises ``TimeoutError`` after ``timeout_s`` without a good message.
        """
        if isinstance(max_records, bool) or not isinstance(max_records, int) or max_records < 1:
            raise ValueError(f"max_records must be a positive int, not {max_records!r}")
        self._raise_kept_error()
        if self.telemetry is not None:
            self.telemetry.next_requested()
        layout = None
        if issubclass(self.model, StructuredRow):
            layout = row_layout(self.model, model_headers(self.model.encoding, self.model))
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        while True:
            records = await self._records_until(deadline, timeout_s, max_records)
            if layout is not None:
                rows = await self._rows(records, layout)
                if rows is not None:
                    return rows
            else:
                received = await self._received(records)
                if received:
                    return received

    @overload
    def batches(  # type: ignore[overload-overlap]
        self: Consumer[R], *, max_records: int = ..., timeout_s: float | None = ...
    ) -> AsyncIterator[RowBatch[R]]: ...
    @overload
    def batches(
        self, *, max_records: int = ..., timeout_s: float | None = ...
    ) -> AsyncIterator[list[Received[M]]]: ...
    def batches(
        self, *, max_records: int = 10_000, timeout_s: float | None = None
    ) -> AsyncIterator[Any]:
        """``async for batch in consumer.batches(): ...``: :meth:`receive_batch` again and
        again, each batch processed once the loop asks for the next."""

        async def repeat() -> AsyncIterator[Any]:
            while True:
                yield await self.receive_batch(max_records=max_records, timeout_s=timeout_s)

        return repeat()

    async def _records_until(
        self, deadline: float | None, timeout_s: float | None, max_records: int
    ) -> list[FetchedRecord]:
        while True:
            step = await self._next_wait(deadline, timeout_s)
            try:
                return await self._fetcher.next_batch(max_records, step)
            except TimeoutError:
                continue

    async def _one(self, records: list[FetchedRecord], index: int) -> Received[M] | None:
        """``records[index]`` the single-message way: ``None`` for a chunk of a message not yet
        complete or a bad message the policy let go; raises as ``on_error="raise"`` says (or
        for a dead letter that could not be sent), after giving back what follows it."""
        record = records[index]
        try:
            whole = self._fetcher.reassembler.add(record)
            if whole is None:
                return None
            record = whole  # a bad whole message is handled (dead-lettered) whole
            return self.convert(record)
        except DQError as error:
            try:
                await self.policy.handle(record, error)
            except DQError:
                self._fetcher.give_back(records[index + 1 :])
                raise
            return None

    async def _received(self, records: list[FetchedRecord]) -> list[Received[M]]:
        received: list[Received[M]] = []
        handed: list[FetchedRecord] = []  # the records behind them, for telemetry
        for index, record in enumerate(records):
            if received and self.policy.on_error == "raise" and self._is_bad(record):
                self._fetcher.give_back(records[index:])
                break
            try:
                one = await self._one(records, index)
            except DQError as error:
                if not received:
                    raise
                # Hand over the good messages first; the next call raises this (as the
                # next call after a batch cut short under on_error="raise" does).
                self._raise_next = error
                break
            if one is not None:
                received.append(one)
                handed.append(record)
        if self.telemetry is not None:
            self.telemetry.handed_over_batch(handed)
        return received

    def _is_bad(self, record: FetchedRecord) -> bool:
        """Whether ``record`` would raise; only asked under ``"raise"`` with messages in hand,
        so a batch ends before a bad message and the next call raises for it."""
        if _headers.header_value(record.headers, CHUNK_ID) is not None:
            return False  # chunks are judged when their message is whole
        try:
            self.convert(record)
        except DQError:
            return True
        return False

    async def _rows(self, records: list[FetchedRecord], layout: RowLayout) -> RowBatch[Any] | None:
        parts: list[np.ndarray[Any, np.dtype[np.void]]] = []
        sources: list[FetchedRecord] = []
        index, count = 0, len(records)
        while index < count:
            run = fast_rows(layout, records, index)
            if run:
                try:
                    parts.append(join_rows(layout, records[index : index + run]))
                    sources.extend(records[index : index + run])
                    index += run
                    continue
                except DQError:
                    pass  # some row is bad: find it the single-message way
            if parts and self.policy.on_error == "raise" and self._is_bad(records[index]):
                self._fetcher.give_back(records[index:])
                break
            try:
                one = await self._one(records, index)
            except DQError as error:
                if not parts:
                    raise
                # Hand over the good messages first; the next call raises this (as the
                # next call after a batch cut short under on_error="raise" does).
                self._raise_next = error
                break
            if one is not None:
                parts.append(cast(StructuredRow, one.value).to_wire())
                sources.append(records[index])
            index += 1
        if not sources:
            return None
        array = parts[0] if len(parts) == 1 else np.concatenate(parts)
        rows = StructuredArray[self.model](array)  # type: ignore[name-defined]
        if self.telemetry is not None:
            self.telemetry.handed_over_batch(sources)
        return RowBatch(
            rows=rows,
            topics=tuple(record.topic for record in sources),
            partitions=np.fromiter((r.partition for r in sources), np.int32, len(sources)),
            offsets=np.fromiter((r.offset for r in sources), np.int64, len(sources)),
            timestamps=np.fromiter((r.timestamp for r in sources), np.int64, len(sources)),
        )

    def convert(self, record: FetchedRecord) -> Received[M]:
        """Check the record's headers name this model, decode and validate it, and wrap it with
        where it came from. Called for every record; errors go to the ``on_error`` policy."""
        check_announced_model(record.headers, self.model)
        value = self.model.from_wire(decode(record.value, self.model.encoding))
        return Received(
            value=value,
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            timestamp=record.timestamp,
            key=record.key,
            headers=record.headers,
        )


def _major(version: str) -> str:
    return version.split(".", 1)[0]


def check_announced_model(headers: tuple[tuple[str, bytes], ...], model: type[WireMessage]) -> None:
    """Refuse a message whose headers announce another schema, major version or encoding.

    Messages without dq-sdk headers (foreign producers, the seed API without a schema) are
    decoded with the model's encoding and validated, which is the real test anyway.
    """
    if headers == model_headers(model.encoding, model):
        return  # exactly what a dq-sdk producer of this model sends: all three match
    schema_id = _headers.header_value(headers, _headers.SCHEMA_ID)
    if schema_id is not None and schema_id != model.schema_id:
        raise SchemaMismatchError(
            f"message has schema {schema_id!r}; this consumer expects {model.__name__} "
            f"({model.schema_id!r})"
        )
    version = _headers.header_value(headers, _headers.SCHEMA_VERSION)
    if version is not None and _major(version) != _major(model.schema_version):
        raise SchemaMismatchError(
            f"message has {model.__name__} schema version {version}; this consumer reads "
            f"version {model.schema_version} (major versions differ): regenerate the models"
        )
    encoding = _headers.header_value(headers, _headers.ENCODING)
    if encoding is not None and encoding != model.encoding.value:
        raise SchemaMismatchError(
            f"message is encoded as {encoding!r}; {model.__name__} uses {model.encoding.value!r}"
        )
