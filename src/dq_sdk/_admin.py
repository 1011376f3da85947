"""Topic and consumer-group administration: create (with minimum partition counts), list,
describe and delete topics; list and describe groups and read their committed offsets."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ._exceptions import UnsupportedByBrokerError
from ._lifecycle import StartedInContext
from ._transport import GroupInfo, GroupMember, TopicInfo, TransportName, admin_client

__all__ = ["Admin", "ConfigValue", "GroupInfo", "GroupMember", "TopicInfo", "TopicSpec"]

#: A topic name, or ``(name, minimum_partitions)``.
TopicSpec = str | tuple[str, int]


#: Topic configuration values as users may give them; integers are sent as their decimal text.
ConfigValue = str | int


def _checked_config(config: Mapping[str, ConfigValue] | None) -> dict[str, str]:
    """``config`` as Kafka's string map, every key and value checked where it enters."""
    if config is None:
        return {}
    if not isinstance(config, Mapping):
        raise TypeError(f"config must be a mapping of names to values, not {config!r}")
    checked: dict[str, str] = {}
    for key, value in config.items():
        if not isinstance(key, str) or not key or key != key.strip():
            raise ValueError(
                f"topic config: {key!r} is not a config name (a non-empty string such as "
                "'max.message.bytes')"
            )
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise TypeError(
                f"topic config {key!r}: value {value!r} must be a str or an int "
                "(Kafka topic configs are text; booleans as 'true'/'false')"
            )
        checked[key] = str(value)
    return checked


def _wanted(topics: Iterable[TopicSpec]) -> dict[str, int | None]:
    wanted: dict[str, int | None] = {}
    for spec in topics:
        name, minimum = (spec, None) if isinstance(spec, str) else spec
        if minimum is not None and minimum < 1:
            raise ValueError(f"topic {name!r}: minimum partitions must be >= 1, not {minimum}")
        previous = wanted.get(name)
        wanted[name] = max(previous or 0, minimum or 0) or None
    return wanted


class Admin(StartedInContext):
    """Kafka topic administration, as an async context manager.

    ``create_topics`` treats a partition count as a minimum: a missing topic is created with it,
    an existing topic with fewer partitions is raised to it, one with enough is left alone, and
    an existing topic is never an error.
    """

    def __init__(
        self, server: str, *, transport: TransportName = "aiokafka", **kafka_options: Any
    ) -> None:
        self.server = server
        self._client = admin_client(server, transport, **kafka_options)
        self._resource = self._client

    async def create_topics(
        self,
        topics: Iterable[TopicSpec],
        *,
        default_partitions: int = 1,
        replication_factor: int = 1,
        config: Mapping[str, ConfigValue] | None = None,
    ) -> None:
        """Make sure every topic exists with at least its partition count.

        ``default_partitions`` applies to names given without a count. ``config`` is topic
        configuration for the topics this call creates, e.g. ``{"max.message.bytes": 33554432,
        "retention.ms": 3_600_000, "cleanup.policy": "delete"}`` (ints become text); an existing
        topic's configuration is left as it is. A name the broker does not know is refused by
        Apache Kafka with a :class:`KafkaError` naming the topic and the setting.
        """
        topic_config = _checked_config(config)
        wanted = _wanted(topics)
        existing = set(await self._client.list_topics())
        missing = {
            name: minimum or default_partitions
            for name, minimum in wanted.items()
            if name not in existing
        }
        if missing:
            await self._client.create_topics(missing, replication_factor, topic_config)
        minimums = {n: m for n, m in wanted.items() if n in existing and m is not None}
        current = {t.name: t.partitions for t in await self._client.describe_topics(list(minimums))}
        raise_to = {n: m for n, m in minimums.items() if current.get(n, m) < m}
        if raise_to:
            try:
                await self._client.create_partitions(raise_to)
            except UnsupportedByBrokerError as exc:
                details = ", ".join(
                    f"{n!r} has {current[n]}, needs {m}" for n, m in raise_to.items()
                )
                raise UnsupportedByBrokerError(
                    f"cannot raise partition counts ({details}): the broker at {self.server!r} "
                    "has no CreatePartitions API; recreate the topics or raise them with the "
                    "cluster's own tools"
                ) from exc

    async def list_topics(self) -> list[str]:
        """Names of all topics, sorted."""
        return await self._client.list_topics()

    async def describe_topics(self, names: Iterable[str] | None = None) -> list[TopicInfo]:
        """Name, partition count, internal flag and configuration of existing topics (all when
        ``None``); ``TopicInfo.config`` is what the broker reports (see :class:`TopicInfo`).

        Topics that do not exist are left out (and, unlike a plain metadata request, not
        auto-created).
        """
        existing = await self._client.list_topics()
        chosen = existing if names is None else [n for n in names if n in set(existing)]
        return await self._client.describe_topics(chosen)

    async def delete_topics(self, names: Iterable[str]) -> None:
        """Delete these topics; names that do not exist are ignored."""
        existing = set(await self._client.list_topics())
        present = [n for n in names if n in existing]
        if present:
            await self._client.delete_topics(present)

    async def list_groups(self) -> list[str]:
        """Ids of the consumer groups the cluster knows (with members or committed offsets),
        sorted."""
        return await self._client.list_groups()

    async def describe_groups(self, group_ids: Iterable[str]) -> list[GroupInfo]:
        """State, protocol and members (with their partitions) of each group, in the order
        given. A group the broker does not know comes back with state ``"Dead"``."""
        ids = list(group_ids)
        for group_id in ids:
            _check_group(group_id)
        return await self._client.describe_groups(ids)

    async def group_offsets(self, group_id: str) -> dict[tuple[str, int], int]:
        """The committed offset (the next one the group will read) per ``(topic, partition)``
        of ``group_id``; partitions without a commit are left out."""
        _check_group(group_id)
        return await self._client.group_offsets(group_id)


def _check_group(group_id: object) -> None:
    if not isinstance(group_id, str) or not group_id:
        raise ValueError(f"a consumer group id is a non-empty str, not {group_id!r}")
