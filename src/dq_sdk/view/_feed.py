"""Reading the topics for the page: one consumer, manual assignment, no group, latest first.

The view must never disturb the pipelines it watches: it joins no consumer group (so no
rebalance anywhere) and commits nothing. It starts each partition a few messages before its
end, so a quiet topic still shows its latest messages, and follows new ones from there.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from collections.abc import Sequence
from typing import Any

from .._admin import Admin
from .._base_consumer import BaseConsumer
from .._exceptions import DQError
from .._settings import consumer_parts
from .._transport import AiokafkaConsumerClient, FetchedRecord
from ._lag import committed_offsets
from ._state import Board

__all__ = ["Feed", "RecordFeed"]

#: Messages read back from each partition's end when the view starts reading it.
RECENT_PER_PARTITION = 10
TOPIC_REFRESH_S = 5.0
LAG_REFRESH_S = 2.0
TICK_S = 0.05
RETRY_S = 3.0
FETCH_WAIT_MS = 50


class RecordFeed(BaseConsumer[FetchedRecord]):
    """dq-sdk's receiving core (bounded waits, chunked messages made whole) handing out
    records undecoded: the view decodes each by its own headers, whatever its model."""

    def __init__(self, bootstrap: str, **kafka_options: Any) -> None:
        options = {"auto_offset_reset": "latest", **kafka_options, "enable_auto_commit": False}
        connection, settings = consumer_parts(bootstrap, options)
        # A page wants each message as it comes: do not let the broker hold a fetch for
        # the default half second waiting for more data (tansu holds it that long).
        raw = {"fetch_max_wait_ms": FETCH_WAIT_MS, **connection.client_options}
        super().__init__(
            dataclasses.replace(connection, client_options=raw),
            settings,
            topics=None,
            group_id=None,
            on_error="raise",
            dead_letter_topic=None,
        )

    def convert(self, record: FetchedRecord) -> FetchedRecord:
        return record

    def _kafka(self) -> AiokafkaConsumerClient:
        # The view reads with aiokafka: it needs seeking and the fetch high-water mark,
        # which the transport protocol does not (yet) carry.
        client = self._fetcher._client
        if not isinstance(client, AiokafkaConsumerClient):
            raise TypeError(f"the view needs the aiokafka transport, not {type(client)}")
        return client

    async def read_partitions(
        self, pairs: Sequence[tuple[str, int]], positions: dict[tuple[str, int], int]
    ) -> None:
        """Read exactly ``pairs``: known ones from ``positions``, new ones from near the end."""
        self.assign_topics(pairs)
        client = self._kafka()
        new = [pair for pair in pairs if pair not in positions]
        await client.seek({pair: positions[pair] for pair in pairs if pair in positions})
        await client.seek_to_recent(new, RECENT_PER_PARTITION)

    def highwater(self, topic: str, partition: int) -> int | None:
        return self._kafka().highwater(topic, partition)


class Feed:
    """Keeps a :class:`Board` filled from Kafka until cancelled; reconnects after failures."""

    def __init__(
        self,
        board: Board,
        bootstrap: str,
        topics: Sequence[str] | None = None,
        **kafka_options: Any,
    ) -> None:
        self.board = board
        self.bootstrap = bootstrap
        self.topics = list(topics) if topics else None
        self.kafka_options = kafka_options
        self._pairs: list[tuple[str, int]] = []

    async def run(self) -> None:
        """Read forever; a broker failure is shown on the page and retried."""
        while True:
            try:
                await self._run_once()
            except DQError as exc:
                self.board.problem = f"{type(exc).__name__}: {exc} (retrying)"
                self.board.notify()
                self._pairs = []
                await asyncio.sleep(RETRY_S)

    async def _run_once(self) -> None:
        async with (
            Admin(self.bootstrap, **self.kafka_options) as admin,
            RecordFeed(self.bootstrap, **self.kafka_options) as feed,
        ):
            lags = asyncio.create_task(self._poll_lags(admin), name="dq-view-lags")
            try:
                await self._read(admin, feed)
            finally:
                lags.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await lags

    async def _read(self, admin: Admin, feed: RecordFeed) -> None:
        next_refresh = next_tick = 0.0
        while True:
            now = time.monotonic()
            if now >= next_refresh:
                await self._refresh(admin, feed)
                next_refresh = now + TOPIC_REFRESH_S
            if now >= next_tick:
                self._highwater(feed)
                self.board.tick()
                next_tick = now + TICK_S
            try:
                record = await feed.receive(timeout_s=TICK_S)
            except TimeoutError:
                continue
            except DQError as exc:  # e.g. a chunked message that never completed
                self.board.problem = f"{type(exc).__name__}: {exc}"
                continue
            self.board.ingest(record)

    async def _refresh(self, admin: Admin, feed: RecordFeed) -> None:
        infos = await admin.describe_topics(self.topics)
        shown = {i.name: i.partitions for i in infos if not i.internal}
        missing = sorted(set(self.topics or ()) - set(shown))
        self.board.problem = f"no such topic: {', '.join(missing)}" if missing else None
        self.board.set_topics(shown)
        pairs = sorted((name, p) for name, count in shown.items() for p in range(count))
        if pairs != self._pairs:
            positions = {
                (name, p): offset
                for name, state in self.board.topics.items()
                for p, offset in state.position.items()
            }
            await feed.read_partitions(pairs, positions)
            self._pairs = pairs

    def _highwater(self, feed: RecordFeed) -> None:
        for topic, partition in self._pairs:
            state = self.board.topics.get(topic)
            value = feed.highwater(topic, partition)
            if state is not None and value is not None:
                state.highwater[partition] = value

    async def _poll_lags(self, admin: Admin) -> None:
        while self.board.groups:
            for group in self.board.groups:
                try:
                    self.board.committed[group] = await committed_offsets(admin, group, self._pairs)
                except DQError as exc:
                    self.board.problem = f"lag of group {group!r}: {exc}"
            await asyncio.sleep(LAG_REFRESH_S)
