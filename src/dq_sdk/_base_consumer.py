"""The base of every consumer: :class:`BaseConsumer` turns fetched records into values.

Flow: :class:`~dq_sdk._fetcher.RecordFetcher` (records, commits) -> chunk reassembly ->
``convert`` (a subclass's: header check, codec, validation) -> the value handed out. A record
that fails any step goes to the :class:`~dq_sdk._policy.BadMessagePolicy`; the stream goes on
after it. ``Consumer[M]``, ``DataQueueConsumer`` and the command-line and view readers are
subclasses; they differ only in what ``convert`` makes of a record.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterable, Mapping
from datetime import datetime
from types import TracebackType
from typing import Generic, Self, TypeVar

from ._exceptions import DQError, InvalidArgumentError, ReceiveTimeoutError
from ._fetcher import RecordFetcher
from ._policy import BadMessagePolicy, OnError
from ._settings import Connection, ConsumerSettings, check_topic, topic_list
from ._transport import FetchedRecord
from .telemetry._hooks import ConsumerHooks, consumer_hooks

__all__ = ["BaseConsumer"]

T = TypeVar("T")

_EXPIRY_CHECK_S = 0.1


class BaseConsumer(Generic[T]):
    """The base of every consumer: lifecycle, iteration and positions; records in, values out
    (:meth:`convert`, a subclass's), bad ones by the ``on_error`` policy."""

    def __init__(
        self,
        connection: Connection,
        settings: ConsumerSettings,
        *,
        topics: str | Iterable[str] | None,
        group_id: str | None,
        on_error: OnError,
        dead_letter_topic: str | None,
    ) -> None:
        self.connection = connection
        self.settings = settings
        chosen = topic_list(topics)
        if chosen is None and connection.bootstrap.topic is not None:
            chosen = [connection.bootstrap.topic]
        if group_id is not None and (type(group_id) is not str or not group_id):
            raise InvalidArgumentError(f"group_id={group_id!r} is not allowed: a non-empty str")
        if dead_letter_topic is not None:
            check_topic(dead_letter_topic, what="dead_letter_topic")
        # The typed settings travel whole; each part maps the options it needs, once.
        self._fetcher = RecordFetcher(connection, settings, topics=chosen, group_id=group_id)
        self.policy = BadMessagePolicy(on_error, dead_letter_topic, connection)
        # An error a batch met after some good messages: raised by the next receive call.
        self._raise_next: DQError | None = None
        # None unless dq_sdk.telemetry.instrument() was called. A typed Consumer has set
        # its model before calling this constructor; the seed's consumer has none.
        self.telemetry: ConsumerHooks | None = consumer_hooks(
            connection.transport,
            group_id,
            getattr(self, "model", None),
            self._fetcher.highwater,
        )
        self.policy.telemetry = self.telemetry

    def convert(self, record: FetchedRecord) -> T:
        """What the stream yields for one complete record (decoded and checked); a subclass's
        job. A :class:`DQError` raised here goes to the bad-message policy."""
        raise NotImplementedError

    async def __aenter__(self) -> Self:
        await self.policy.start()
        try:
            await self._fetcher.start()
        except BaseException:
            await self.policy.stop()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            # A batch cut short keeps its failure for the next call (_raise_next); leaving
            # before that call must not commit past the message that failed, or it would be
            # lost unseen: the batch is read again (at least once) by the next consumer.
            await self._fetcher.stop(finished_in_hand=exc_type is None and self._raise_next is None)
        finally:
            if self.telemetry is not None:
                self.telemetry.close()
            await self.policy.stop()

    def update_topics(self, topics: str | Iterable[str]) -> None:
        """Subscribe to these topics instead (a plain method: callable from another task).

        A ``str`` is one topic name."""
        self._fetcher.update_topics(topic_list(topics) or [])

    def assign_topics(self, partitions: Iterable[tuple[str, int]]) -> None:
        """Read exactly these (topic, partition) pairs, without a consumer-group assignment."""
        self._fetcher.assign_topics(_pairs(partitions))

    def assignment(self) -> list[tuple[str, int]]:
        """The ``(topic, partition)`` pairs assigned to this consumer now (with a ``group_id``,
        the group's share; it changes on a rebalance)."""
        return self._fetcher.assignment()

    async def commit(self) -> None:
        """Commit every processed message now (also done every ``commit_interval_s``, 1 s by
        default, and on exit). Raises :class:`CommitFailedError` if the group rebalanced
        first (those messages will be delivered again)."""
        await self._fetcher.commit()

    # -- positions and offsets -------------------------------------------------------------
    # A partition is a (topic, partition) pair, as in assign_topics; it must be assigned to
    # this consumer (after a group rebalance, assignment() lists them).

    async def seek(self, partition: tuple[str, int], offset: int) -> None:
        """Receive partition ``(topic, number)`` from ``offset`` on (next ``receive``)."""
        topic, number = _checked_partition(partition)
        await self._fetcher.seek({(topic, number): _checked_offset(topic, number, offset)})

    async def seek_many(self, offsets: Mapping[tuple[str, int], int]) -> None:
        """:meth:`seek` several partitions at once: ``{(topic, number): offset, ...}``."""
        checked = {}
        for partition, offset in offsets.items():
            topic, number = _checked_partition(partition)
            checked[(topic, number)] = _checked_offset(topic, number, offset)
        await self._fetcher.seek(checked)

    async def seek_to_beginning(self, *partitions: tuple[str, int]) -> None:
        """Start these partitions (default: every assigned one) at their first message."""
        await self._fetcher.seek_to_beginning([_checked_partition(p) for p in partitions])

    async def seek_to_end(self, *partitions: tuple[str, int]) -> None:
        """Start these partitions (default: every assigned one) after their last message, at
        the high-water mark, so only messages sent from now on are received."""
        await self._fetcher.seek_to_end([_checked_partition(p) for p in partitions])

    async def seek_to_time(self, when: datetime, *partitions: tuple[str, int]) -> None:
        """Start these partitions (default: every assigned one) at their first message with a
        timestamp at or after ``when`` (an aware datetime); at the end where there is none."""
        if not isinstance(when, datetime) or when.tzinfo is None:
            raise ValueError(f"when must be a timezone-aware datetime, not {when!r}")
        checked = [_checked_partition(p) for p in partitions]
        await self._fetcher.seek_to_time(checked, int(when.timestamp() * 1000))

    async def positions(self) -> dict[tuple[str, int], int]:
        """Offset of the next message ``receive`` will return, per assigned partition."""
        return await self._fetcher.positions()

    async def high_watermarks(
        self, *partitions: tuple[str, int], max_age_s: float = 1.0
    ) -> dict[tuple[str, int], int]:
        """The high-water mark (offset after the last message) per partition (default: every
        assigned one), from the broker's Fetch responses: this consumer's own when at most
        ``max_age_s`` old, else fetched now."""
        checked = [_checked_partition(p) for p in partitions]
        return await self._fetcher.high_watermarks(checked, max_age_s)

    async def lag(self, *, max_age_s: float = 1.0) -> dict[tuple[str, int], int]:
        """Messages not yet received, per assigned partition: high-water mark - position."""
        positions = await self.positions()
        marks = await self.high_watermarks(*positions, max_age_s=max_age_s)
        return {pair: max(0, marks[pair] - position) for pair, position in positions.items()}

    def __aiter__(self) -> AsyncIterator[T]:
        return self

    async def __anext__(self) -> T:
        return await self.receive()

    async def _next_wait(self, deadline: float | None, timeout_s: float | None) -> float | None:
        """Before each wait for records: hand chunk sets that expired to the policy, raise
        ``ReceiveTimeoutError`` once ``deadline`` has passed, and return how long the wait may
        take (``None``: no limit)."""
        reassembler = self._fetcher.reassembler
        # Only chunk sets in progress can expire; most streams never have any.
        for lost in reassembler.expired() if reassembler.pending else ():
            await self.policy.handle_lost(lost)
        remaining = None if deadline is None else deadline - time.monotonic()
        if remaining is not None and remaining <= 0:
            raise ReceiveTimeoutError(f"no message within {timeout_s} s{self._fetcher.idle_note()}")
        # While a chunk set is incomplete, wake up often enough to notice it expire.
        if reassembler.pending:
            return _EXPIRY_CHECK_S if remaining is None else min(remaining, _EXPIRY_CHECK_S)
        return remaining

    def _raise_kept_error(self) -> None:
        error, self._raise_next = self._raise_next, None
        if error is not None:
            raise error

    async def receive(self, *, timeout_s: float | None = None) -> T:
        """The next good message; raises ``TimeoutError`` after ``timeout_s`` without one."""
        self._raise_kept_error()
        telemetry = self.telemetry
        if telemetry is not None:
            telemetry.next_requested()
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        while True:
            step = await self._next_wait(deadline, timeout_s)
            try:
                record = await self._fetcher.next_record(step)
            except TimeoutError:
                continue
            try:
                whole = self._fetcher.reassembler.add(record)
                if whole is None:
                    continue  # a chunk of a message not yet complete
                record = whole  # a bad whole message is handled (dead-lettered) whole
                converted = self.convert(record)
                if telemetry is not None:
                    telemetry.handed_over(record)
                return converted
            except DQError as error:
                await self.policy.handle(record, error)


def _checked_partition(partition: object) -> tuple[str, int]:
    """A ``(topic, partition)`` pair as given by a user, checked."""
    if (
        not isinstance(partition, tuple)
        or len(partition) != 2
        or not isinstance(partition[0], str)
        or not partition[0]
        or isinstance(partition[1], bool)
        or not isinstance(partition[1], int)
        or partition[1] < 0
    ):
        raise ValueError(
            f"a partition is a (topic, number) pair such as ('pointing_offset', 0), "
            f"not {partition!r}"
        )
    return partition[0], partition[1]


def _checked_offset(topic: str, number: int, offset: object) -> int:
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
        raise ValueError(
            f"offset for partition {number} of topic {topic!r} must be an int >= 0, not {offset!r}"
        )
    return offset


def _pairs(partitions: Iterable[tuple[str, int]]) -> list[tuple[str, int]]:
    """Checked (topic, partition) pairs for ``assign_topics``."""
    if isinstance(partitions, str | bytes) or not isinstance(partitions, Iterable):
        raise InvalidArgumentError(
            f"assign_topics({partitions!r}): give a list of (topic, partition) pairs"
        )
    pairs = []
    for pair in partitions:
        if not (isinstance(pair, tuple) and len(pair) == 2):
            raise InvalidArgumentError(f"assign_topics: {pair!r} is not a (topic, partition) pair")
        topic, partition = pair
        check_topic(topic, what="assign_topics topic")
        if type(partition) is not int or partition < 0:
            raise InvalidArgumentError(
                f"assign_topics: partition {partition!r} of topic {topic!r} is not an int >= 0"
            )
        pairs.append((topic, partition))
    return pairs
