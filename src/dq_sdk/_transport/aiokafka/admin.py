"""Topic administration on aiokafka's admin client, with typed results."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import aiokafka.errors as kafka_errors
from aiokafka.admin import AIOKafkaAdminClient, NewPartitions, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.coordinator.protocol import ConsumerProtocolMemberAssignment
from aiokafka.structs import TopicPartition

from ..._exceptions import BrokerError
from .._base import GroupInfo, GroupMember, TopicInfo, split_options, uses_sasl
from ._common import guarded, start_client

__all__ = ["AiokafkaAdminClient"]


class AiokafkaAdminClient:
    """Topic administration with typed results."""

    def __init__(self, bootstrap: str, **options: Any) -> None:
        self.bootstrap = bootstrap
        self.connect_timeout_s, kafka_options = split_options(options)
        self._options = kafka_options
        self._admin: Any = None
        self._sasl = uses_sasl(kafka_options)

    async def start(self) -> None:
        self._admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap, **self._options)
        await start_client(self._admin.start, self._admin.close, "the admin client", self)

    async def stop(self) -> None:
        await guarded(self._admin.close(), "closing the admin client", bootstrap=self.bootstrap)

    async def list_topics(self) -> list[str]:
        topics = await guarded(
            self._admin.list_topics(), "listing topics", bootstrap=self.bootstrap
        )
        return sorted(str(t) for t in topics)

    async def describe_topics(self, names: Sequence[str]) -> list[TopicInfo]:
        """Describe topics that exist (metadata requests would auto-create missing ones)."""
        if not names:
            return []
        raw = await guarded(
            self._admin.describe_topics(list(names)), "describing topics", bootstrap=self.bootstrap
        )
        configs = await self._topic_configs(names)
        return [
            TopicInfo(
                name=str(item["topic"]),
                partitions=len(item["partitions"]),
                internal=bool(item["is_internal"]),
                config=configs.get(str(item["topic"]), {}),
            )
            for item in raw
        ]

    async def _topic_configs(self, names: Sequence[str]) -> dict[str, dict[str, str]]:
        """Each topic's configuration from a DescribeConfigs request (all entries)."""
        resources = [ConfigResource(ConfigResourceType.TOPIC, name) for name in names]
        responses = await guarded(
            self._admin.describe_configs(resources),
            f"describing the configuration of topics {list(names)!r}",
            bootstrap=self.bootstrap,
        )
        configs: dict[str, dict[str, str]] = {}
        problems = []
        for response in responses:
            for code, message, _type, name, entries in response.resources:
                if code != 0:
                    error = kafka_errors.for_code(code)
                    problems.append(f"{name!r}: {error.__name__} ({message or error.description})")
                    continue
                # entry: (name, value, read_only, is_default | config_source, is_sensitive, ...)
                configs[str(name)] = {
                    str(entry[0]): str(entry[1])
                    for entry in entries
                    if entry[1] is not None and not entry[4]
                }
        if problems:
            raise BrokerError("describing topic configuration failed: " + "; ".join(problems))
        return configs

    async def create_topics(
        self, topics: Mapping[str, int], replication_factor: int, config: Mapping[str, str]
    ) -> None:
        new = [
            NewTopic(name, partitions, replication_factor, topic_configs=dict(config))
            for name, partitions in topics.items()
        ]
        response = await guarded(
            self._admin.create_topics(new), "creating topics", bootstrap=self.bootstrap
        )
        _raise_for_topic_errors(response.topic_errors, "creating", already_ok=True)

    async def create_partitions(self, topics: Mapping[str, int]) -> None:
        request = {name: NewPartitions(total) for name, total in topics.items()}
        response = await guarded(
            self._admin.create_partitions(request),
            f"raising the partition count of {sorted(topics)!r}",
            bootstrap=self.bootstrap,
        )
        _raise_for_topic_errors(response.topic_errors, "adding partitions to")

    async def delete_topics(self, names: Sequence[str]) -> None:
        response = await guarded(
            self._admin.delete_topics(list(names)), "deleting topics", bootstrap=self.bootstrap
        )
        _raise_for_topic_errors(response.topic_error_codes, "deleting")

    async def list_groups(self) -> list[str]:
        groups = await guarded(
            self._admin.list_consumer_groups(),
            "listing consumer groups",
            bootstrap=self.bootstrap,
            timeout_s=self.connect_timeout_s,
        )
        return sorted({str(entry[0]) for entry in groups})

    async def describe_groups(self, group_ids: Sequence[str]) -> list[GroupInfo]:
        if not group_ids:
            return []
        responses = await guarded(
            self._admin.describe_consumer_groups(list(group_ids)),
            f"describing consumer groups {list(group_ids)!r}",
            bootstrap=self.bootstrap,
            timeout_s=self.connect_timeout_s,
        )
        found: dict[str, GroupInfo] = {}
        for response in responses:
            for entry in response.groups:
                error_code, group_id, state, protocol_type, protocol, members = entry[:6]
                if error_code:
                    error = kafka_errors.for_code(error_code)
                    raise BrokerError(
                        f"describing consumer groups {list(group_ids)!r} failed: "
                        f"{error.__name__} ({error.description})"
                    )
                found[str(group_id)] = GroupInfo(
                    group_id=str(group_id),
                    state=str(state),
                    protocol_type=str(protocol_type),
                    protocol=str(protocol),
                    members=tuple(_member(raw) for raw in members),
                )
        return [found[g] for g in group_ids if g in found]

    async def group_offsets(self, group_id: str) -> dict[tuple[str, int], int]:
        # The partitions are named, not left out for "all": that form (OffsetFetch v2+ with
        # null topics) is answered by tansu 0.6 with a response aiokafka cannot parse, and
        # naming them is as correct on Kafka.
        topics = await self.describe_topics(await self.list_topics())
        partitions = [TopicPartition(t.name, p) for t in topics for p in range(t.partitions)]
        if not partitions:
            return {}
        offsets = await guarded(
            self._admin.list_consumer_group_offsets(group_id, partitions=partitions),
            f"reading the committed offsets of consumer group {group_id!r}",
            bootstrap=self.bootstrap,
            timeout_s=self.connect_timeout_s,
        )
        return {
            (tp.topic, tp.partition): int(meta.offset)
            for tp, meta in sorted(offsets.items())
            if meta.offset >= 0
        }


def _member(raw: Sequence[Any]) -> GroupMember:
    # DescribeGroups v0-v3: (member_id, client_id, host, metadata, assignment); v4+ adds
    # group_instance_id after member_id.
    member_id, client_id, host, _metadata, assignment = (
        raw if len(raw) == 5 else (raw[0], *raw[2:6])
    )
    partitions: tuple[tuple[str, int], ...] = ()
    if assignment:
        try:
            decoded = ConsumerProtocolMemberAssignment.decode(assignment)
            partitions = tuple(
                sorted((str(topic), int(p)) for topic, parts in decoded.assignment for p in parts)
            )
        except Exception:  # a non-consumer protocol (e.g. Kafka Connect): no partitions
            partitions = ()
    return GroupMember(str(member_id), str(client_id), str(host), partitions)


_TOPIC_ALREADY_EXISTS = 36


def _raise_for_topic_errors(
    entries: Iterable[Sequence[Any]], verb: str, *, already_ok: bool = False
) -> None:
    problems = []
    for entry in entries:
        name, code = entry[0], entry[1]
        if code == 0 or (already_ok and code == _TOPIC_ALREADY_EXISTS):
            continue
        error = kafka_errors.for_code(code)
        detail = entry[2] if len(entry) > 2 and entry[2] else error.description
        problems.append(f"{name!r}: {error.__name__} ({detail})")
    if problems:
        raise BrokerError(f"{verb} topics failed: " + "; ".join(problems))
