"""What the server knows about each topic, bounded in memory, ready to send as JSON.

Every record is counted (rates, last message time, headers) and listed among the latest
messages; at most ``DECODES_PER_S`` records per topic per second are decoded into plots (the
newest one waits, never a queue). Pages wait on a topic's :meth:`TopicState.changed` and ask
for what is new since the history sequence number they have.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .. import _headers
from .._transport import FetchedRecord
from ._decimate import RateLimit
from ._extract import KNOWN_MODELS, view_of

__all__ = ["DECODES_PER_S", "Board", "TopicState"]

#: Decoded (plotted) messages per topic per second; the rest are counted and listed.
DECODES_PER_S = 10
#: History rows kept per topic (a waterfall's or an antenna's time axis).
HISTORY = 300
#: Latest messages listed per topic.
RECENT = 20
#: Characters of a key or header value shown (the rest is cut, marked).
SHOWN_CHARS = 300
#: Seconds over which msg/s and MiB/s are averaged.
RATE_WINDOW_S = 5.0


def shown_bytes(data: bytes | None) -> str | None:
    """Bytes as text for the page: UTF-8 when it is, else hex; cut at ``SHOWN_CHARS``."""
    if data is None:
        return None
    try:
        text = data.decode("utf-8")
        printable = all(c.isprintable() or c in "\t\n" for c in text)
    except UnicodeDecodeError:
        printable = False
    if not printable:
        text = "0x" + data.hex()
    return text if len(text) <= SHOWN_CHARS else text[:SHOWN_CHARS] + "..."


@dataclass
class _Rates:
    """Consumed messages and bytes in a sliding window."""

    samples: deque[tuple[float, int]] = field(default_factory=deque)

    def add(self, now: float, size: int) -> None:
        self.samples.append((now, size))
        self._trim(now)

    def _trim(self, now: float) -> None:
        while self.samples and self.samples[0][0] < now - RATE_WINDOW_S:
            self.samples.popleft()

    def per_second(self, now: float, started: float) -> tuple[float, float]:
        self._trim(now)
        span = min(RATE_WINDOW_S, max(now - started, 1.0))
        return len(self.samples) / span, sum(s for _, s in self.samples) / span / 2**20


class TopicState:
    """One topic: counts, latest messages, the latest decoded view and its history rows."""

    def __init__(self, name: str, partitions: int, clock: Any = time.monotonic) -> None:
        self.name = name
        self.partitions = partitions
        self._clock = clock
        self._started = clock()
        # Messages from before the view started (read back to show the latest) are listed
        # but not counted in the rates; a little slack for producers' clocks.
        self._live_since_ms = int(time.time() * 1000) - 2000
        self._limit = RateLimit(DECODES_PER_S, DECODES_PER_S, clock)
        self._rates = _Rates()
        self.pending: FetchedRecord | None = None
        self.recent: deque[dict[str, Any]] = deque(maxlen=RECENT)
        self.history: deque[dict[str, Any]] = deque(maxlen=HISTORY)
        self.seq = 0  # one per decoded message
        self.view: dict[str, Any] | None = None
        self.view_seq = 0
        self.received = 0
        self.decoded = 0
        self.errors = 0
        self.last_timestamp_ms: int | None = None
        self.encoding: str | None = None
        self.schema: str | None = None
        #: Per partition: the high-water mark, and where this view's live reading began.
        self.highwater: dict[int, int] = {}
        self.position: dict[int, int] = {}
        self.version = 0  # one per change of anything shown
        self._event = asyncio.Event()

    # --- in ---------------------------------------------------------------------------

    def ingest(self, record: FetchedRecord) -> None:
        """Count and list ``record``; decode it now if the rate allows, else keep it waiting."""
        now = self._clock()
        size = len(record.value) + len(record.key or b"")
        size += sum(len(k) + len(v) for k, v in record.headers)
        if record.timestamp >= self._live_since_ms:
            self._rates.add(now, size)
        self.received += 1
        self.position[record.partition] = record.offset + 1
        if self.last_timestamp_ms is None or record.timestamp >= self.last_timestamp_ms:
            self.last_timestamp_ms = record.timestamp
        self.encoding = _headers.header_value(record.headers, _headers.ENCODING) or self.encoding
        self.schema = _headers.header_value(record.headers, _headers.SCHEMA_ID) or self.schema
        self.recent.appendleft(_line(record))
        self.pending = record
        if self._limit.allow():
            self.decode_pending()
        else:
            self._notify()

    def decode_pending(self) -> bool:
        """Decode the waiting record, if any (the ticker calls this when the rate allows)."""
        record, self.pending = self.pending, None
        if record is None:
            return False
        view = view_of(record)
        self.decoded += 1
        if view.kind == "error":
            self.errors += 1
        self.seq += 1
        self.view_seq = self.seq
        self.view = {
            "kind": view.kind,
            "model": view.model,
            "summary": view.summary,
            "plot": view.plot,
            "partition": record.partition,
            "offset": record.offset,
            "timestamp_ms": record.timestamp,
        }
        for line in self.recent:
            if line["partition"] == record.partition and line["offset"] == record.offset:
                line["summary"] = view.summary
                break
        for row in view.rows:
            self.history.append({"seq": self.seq, **row})
        self._notify()
        return True

    def tick(self) -> None:
        if self.pending is not None and self._limit.allow():
            self.decode_pending()

    def _notify(self) -> None:
        self.version += 1
        self._event.set()
        self._event = asyncio.Event()

    async def changed(self, seen: int, timeout_s: float) -> None:
        """Return once :attr:`version` is past ``seen`` (at once if it is), or after
        ``timeout_s``."""
        await _changed(self, seen, timeout_s)

    # --- out --------------------------------------------------------------------------

    def view_lag(self) -> int:
        """Messages the view has not read yet (high-water mark minus position)."""
        return sum(max(0, hw - self.position.get(p, hw)) for p, hw in self.highwater.items())

    def stats(self, lags: Mapping[str, int | None]) -> dict[str, Any]:
        msg_s, mib_s = self._rates.per_second(self._clock(), self._started)
        model = KNOWN_MODELS.get(self.schema or "")
        return {
            "name": self.name,
            "partitions": self.partitions,
            "received": self.received,
            "decoded": self.decoded,
            "errors": self.errors,
            "msg_s": round(msg_s, 2),
            "mib_s": round(mib_s, 4),
            "last_timestamp_ms": self.last_timestamp_ms,
            "encoding": self.encoding,
            "schema": self.schema,
            "model": model.__name__ if model else None,
            "lag": dict(lags),
            "view_lag": self.view_lag(),
        }

    def update(self, since: int, lags: Mapping[str, int | None]) -> dict[str, Any]:
        """What a page with history up to ``since`` needs: stats, messages, new rows, view."""
        oldest = self.history[0]["seq"] if self.history else self.seq + 1
        return {
            "topic": self.name,
            "stats": self.stats(lags),
            "messages": list(self.recent),
            "seq": self.seq,
            # The page's history is older than what is kept (or ahead, after a restart).
            "reset": since < oldest - 1 or since > self.seq,
            "view": self.view if self.view_seq > since else None,
            "rows": [row for row in self.history if row["seq"] > since],
        }


async def _changed(owner: TopicState | Board, seen: int, timeout_s: float) -> None:
    if owner.version != seen:
        return  # changed while the caller was busy: no need to wait for the next change
    event = owner._event
    try:
        async with asyncio.timeout(timeout_s):
            await event.wait()
    except TimeoutError:
        pass


def _line(record: FetchedRecord) -> dict[str, Any]:
    return {
        "partition": record.partition,
        "offset": record.offset,
        "timestamp_ms": record.timestamp,
        "key": shown_bytes(record.key),
        "headers": [[name[:SHOWN_CHARS], shown_bytes(value)] for name, value in record.headers],
        "size": len(record.value),
        "summary": None,
    }


class Board:
    """Every topic the view shows, and the chosen groups' committed offsets."""

    def __init__(self, groups: Iterable[str] = (), clock: Any = time.monotonic) -> None:
        self.topics: dict[str, TopicState] = {}
        self.groups = list(groups)
        #: group -> (topic, partition) -> committed offset
        self.committed: dict[str, dict[tuple[str, int], int]] = {g: {} for g in self.groups}
        self.problem: str | None = None
        self._clock = clock
        self.version = 0
        self._event = asyncio.Event()

    def set_topics(self, partitions: Mapping[str, int]) -> None:
        """The topics to show and their partition counts (others are dropped)."""
        for name in list(self.topics):
            if name not in partitions:
                del self.topics[name]
        for name, count in partitions.items():
            state = self.topics.get(name)
            if state is None:
                self.topics[name] = TopicState(name, count, self._clock)
            else:
                state.partitions = count
        self.notify()

    def ingest(self, record: FetchedRecord) -> None:
        state = self.topics.get(record.topic)
        if state is not None:
            state.ingest(record)
            self.notify()

    def tick(self) -> None:
        for state in self.topics.values():
            state.tick()

    def notify(self) -> None:
        self.version += 1
        self._event.set()
        self._event = asyncio.Event()

    async def changed(self, seen: int, timeout_s: float) -> None:
        """Return once anything changed after version ``seen``, or after ``timeout_s``."""
        await _changed(self, seen, timeout_s)

    def lags(self, topic: str) -> dict[str, int | None]:
        """Per chosen group: messages not yet committed on ``topic`` (None: no commit)."""
        state = self.topics[topic]
        out: dict[str, int | None] = {}
        for group in self.groups:
            committed = self.committed.get(group, {})
            parts = [(p, hw) for p, hw in state.highwater.items() if (topic, p) in committed]
            out[group] = (
                sum(max(0, hw - committed[(topic, p)]) for p, hw in parts) if parts else None
            )
        return out

    def overview(self) -> dict[str, Any]:
        return {
            "groups": self.groups,
            "problem": self.problem,
            "topics": [s.stats(self.lags(n)) for n, s in sorted(self.topics.items())],
        }

    def topic_update(self, name: str, since: int) -> dict[str, Any] | None:
        state = self.topics.get(name)
        return None if state is None else state.update(since, self.lags(name))
