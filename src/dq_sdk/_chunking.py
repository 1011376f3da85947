"""Opt-in chunking: one large payload as several Kafka messages on one partition, and back.

Kafka clusters cap message sizes (1 MiB by default, per producer, topic and consumer). Raising
all three limits is the better fix where you can (docs/reliability.md); where you cannot, a
producer with ``chunk_size=`` splits any larger payload into chunks sent in order to a single
partition, and every dq-sdk consumer reassembles them, with a bounded buffer.

Each chunk carries headers: ``dq-chunk-id`` (the set), ``dq-chunk-index``, ``dq-chunk-count``
and ``dq-chunk-bytes`` (the whole payload's size). The caller's own headers ride on every chunk.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field

from . import _headers
from ._exceptions import IncompleteMessageError
from ._headers import CHUNK_BYTES, CHUNK_COUNT, CHUNK_ID, CHUNK_INDEX
from ._transport import FetchedRecord

__all__ = [
    "Reassembler",
    "chunk_headers",
    "split",
]

_CHUNK_HEADERS = {CHUNK_ID, CHUNK_INDEX, CHUNK_COUNT, CHUNK_BYTES}


def split(payload: bytes, chunk_size: int) -> list[memoryview]:
    """Views of ``payload`` in ``chunk_size`` pieces (no copies)."""
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be positive, not {chunk_size}")
    view = memoryview(payload)
    return [view[start : start + chunk_size] for start in range(0, len(view), chunk_size)]


def chunk_headers(set_id: str, index: int, count: int, total: int) -> list[tuple[str, bytes]]:
    return [
        (CHUNK_ID, set_id.encode()),
        (CHUNK_INDEX, str(index).encode()),
        (CHUNK_COUNT, str(count).encode()),
        (CHUNK_BYTES, str(total).encode()),
    ]


def new_set_id() -> str:
    return uuid.uuid4().hex


@dataclass
class _PendingSet:
    first_offset: int
    count: int
    total: int
    started: float
    parts: dict[int, bytes] = field(default_factory=dict)
    received: int = 0


class Reassembler:
    """Collects chunks per (topic, partition, set id) until a set is complete.

    Bounds: at most ``max_bytes`` buffered in all; a set not complete within ``timeout_s`` of its
    first chunk, or one that would overflow the buffer, is dropped with an
    :class:`IncompleteMessageError` located at its first chunk.
    """

    def __init__(self, *, max_bytes: int = 512 * 1024 * 1024, timeout_s: float = 120.0) -> None:
        self.max_bytes = max_bytes
        self.timeout_s = timeout_s
        self._pending: dict[tuple[str, int, str], _PendingSet] = {}
        self._buffered = 0

    @property
    def pending(self) -> bool:
        """Whether some chunk set is still incomplete."""
        return bool(self._pending)

    def lowest_pending_offset(self, topic: str, partition: int) -> int | None:
        """First offset of an incomplete set on this partition: commits must not pass it."""
        offsets = [
            pending.first_offset
            for (t, p, _), pending in self._pending.items()
            if t == topic and p == partition
        ]
        return min(offsets) if offsets else None

    def forget(self, topic: str, partition: int) -> None:
        """Drop the chunk sets in progress on a partition this consumer no longer reads (its
        new owner reads them again from the committed offset, which is not past them)."""
        for key in [key for key in self._pending if key[:2] == (topic, partition)]:
            self._drop(key)

    def add(self, record: FetchedRecord) -> FetchedRecord | None:
        """Take a record; return it unchanged if it is no chunk, the whole message once a set
        completes, else ``None``. Raises :class:`IncompleteMessageError` for a broken set."""
        set_id = _headers.header_value(record.headers, CHUNK_ID)
        if set_id is None:
            return record
        index, count, total = (
            _int_header(record, CHUNK_INDEX),
            _int_header(record, CHUNK_COUNT),
            _int_header(record, CHUNK_BYTES),
        )
        key = (record.topic, record.partition, set_id)
        pending = self._pending.get(key)
        if pending is None:
            if total > self.max_bytes:
                raise self._incomplete(
                    record.topic,
                    record.partition,
                    record.offset,
                    f"a chunked message of {total} bytes is over the reassembly buffer "
                    f"(max_reassembly_bytes={self.max_bytes})",
                )
            pending = _PendingSet(record.offset, count, total, time.monotonic())
            self._pending[key] = pending
        if not 0 <= index < pending.count or index in pending.parts:
            self._drop(key)
            raise self._incomplete(
                record.topic, record.partition, pending.first_offset, f"bad chunk index {index}"
            )
        if self._buffered + len(record.value) > self.max_bytes:
            self._drop(key)
            raise self._incomplete(
                record.topic,
                record.partition,
                pending.first_offset,
                f"reassembly buffer full (max_reassembly_bytes={self.max_bytes})",
            )
        pending.parts[index] = record.value
        pending.received += len(record.value)
        self._buffered += len(record.value)
        if len(pending.parts) < pending.count:
            return None
        self._drop(key)
        value = b"".join(pending.parts[i] for i in range(pending.count))
        if len(value) != pending.total:
            raise self._incomplete(
                record.topic,
                record.partition,
                pending.first_offset,
                f"chunks add up to {len(value)} bytes, the set announced {pending.total}",
            )
        headers = tuple(h for h in record.headers if h[0] not in _CHUNK_HEADERS)
        # The whole message is located at its last chunk: committing it commits every chunk.
        return FetchedRecord(
            record.topic,
            record.partition,
            record.offset,
            record.timestamp,
            record.key,
            value,
            headers,
        )

    def expired(self) -> list[IncompleteMessageError]:
        """Drop sets older than ``timeout_s`` and return one error for each."""
        now = time.monotonic()
        errors = []
        for key, pending in list(self._pending.items()):
            if now - pending.started > self.timeout_s:
                self._drop(key)
                errors.append(
                    self._incomplete(
                        key[0],
                        key[1],
                        pending.first_offset,
                        f"got {len(pending.parts)} of {pending.count} chunks within "
                        f"{self.timeout_s:g} s",
                    )
                )
        return errors

    def _drop(self, key: tuple[str, int, str]) -> None:
        pending = self._pending.pop(key, None)
        if pending is not None:
            self._buffered -= pending.received

    @staticmethod
    def _incomplete(topic: str, partition: int, offset: int, why: str) -> IncompleteMessageError:
        return IncompleteMessageError(
            f"chunked message never completed: {why}",
            topic=topic,
            partition=partition,
            offset=offset,
        )


def _int_header(record: FetchedRecord, name: str) -> int:
    text = _headers.header_value(record.headers, name)
    try:
        return int(text) if text is not None else -1
    except ValueError:
        return -1
