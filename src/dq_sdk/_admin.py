"""Topic and consumer-group administration: create (with minimum partition counts), list,
describe and delete topics; list and describe groups and read their committed offsets."""

from __future__ import annotations

import logging
import ssl
from collections.abc import Iterable, Mapping
from types import TracebackType
from typing import Self

from ._exceptions import InvalidArgumentError, UnsupportedByBrokerError
from ._lifecycle import StartedInContext
from ._settings import (
    DEFAULT_CONNECT_TIMEOUT_S,
    SaslMechanism,
    SecurityProtocol,
    check_topic,
    checked_keywords,
    connection_from,
    topic_list,
)
from ._settings import client_options as client_options_for
from ._transport import GroupInfo, GroupMember, TopicInfo, TransportName, admin_client

__all__ = ["Admin", "ConfigValue", "GroupInfo", "GroupMember", "TopicInfo", "TopicSpec"]

log = logging.getLogger("dq_sdk.admin")

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
    if isinstance(topics, str):
        topics = [topics]  # one name, not its characters
    for spec in topics:
        if isinstance(spec, tuple) and len(spec) == 2:
            name, minimum = spec
        elif isinstance(spec, str):
            name, minimum = spec, None
        else:
            raise InvalidArgumentError(
                f"create_topics: {spec!r} is not a topic name or (name, minimum_partitions)"
            )
        check_topic(name)
        if minimum is not None and (type(minimum) is not int or minimum < 1):
            raise InvalidArgumentError(
                f"topic {name!r}: minimum partitions must be an int >= 1, not {minimum!r}"
            )
        previous = wanted.get(name)
        wanted[name] = max(previous or 0, minimum or 0) or None
    return wanted


class Admin(StartedInContext):
    """Kafka topic administration, as an async context manager.

    ``create_topics`` treats a partition count as a minimum: a missing topic is created with it,
    an existing topic with fewer partitions is raised to it, one with enough is left alone, and
    an existing topic is never an error.
    """

    @checked_keywords
    def __init__(
        self,
        server: str | None = None,
        *,
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
        transport: TransportName = "aiokafka",
    ) -> None:
        # client_options are the chosen transport's own: aiokafka's, or librdkafka properties.
        self.connection = connection_from(server, locals())
        self.server = self.connection.server
        self._client = admin_client(
            self.server, self.connection.transport, **client_options_for(self.connection)
        )
        self._resource = self._client

    async def __aenter__(self) -> Self:
        await super().__aenter__()
        log.info("admin client connected to %s", self.server)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            await super().__aexit__(exc_type, exc, tb)
        finally:
            log.info("admin client left %s", self.server)

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
        Apache Kafka with a :class:`BrokerError` naming the topic and the setting.
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
        wanted = None if names is None else topic_list(names, what="names")
        existing = await self._client.list_topics()
        chosen = existing if wanted is None else [n for n in wanted if n in set(existing)]
        return await self._client.describe_topics(chosen)

    async def delete_topics(self, names: Iterable[str]) -> None:
        """Delete these topics; names that do not exist are ignored."""
        wanted = topic_list(names, what="names") or []
        existing = set(await self._client.list_topics())
        present = [n for n in wanted if n in existing]
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
