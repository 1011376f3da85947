"""Topic and group administration on confluent-kafka's ``AdminClient`` (``transport="confluent"``).

librdkafka answers with ``concurrent.futures`` that resolve in its own threads; they are awaited
through ``asyncio.wrap_future`` so the event loop never blocks.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

import confluent_kafka
from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient, ConfigResource, ResourceType
from confluent_kafka.cimpl import NewPartitions, NewTopic

from ..._exceptions import BrokerError, UnsupportedByBrokerError
from .._base import GroupInfo, GroupMember, TopicInfo, split_options
from ._common import check_reachable, dq_error
from ._common import consumer_config as _consumer_config

__all__ = ["ConfluentAdminClient"]

_T = TypeVar("_T")

_OK_CREATE = {confluent_kafka.KafkaError.TOPIC_ALREADY_EXISTS}


class ConfluentAdminClient:
    """Topic and group administration with typed results, on librdkafka."""

    def __init__(self, bootstrap: str, **options: Any) -> None:
        self.bootstrap = bootstrap
        self.connect_timeout_s, kafka_options = split_options(options)
        config = _consumer_config(bootstrap, kafka_options)
        # Only the connection and security settings are an admin client's business.
        self._config = {
            k: v
            for k, v in config.items()
            if k in ("bootstrap.servers", "logger")
            or k.startswith(("security.", "sasl.", "ssl.", "client.", "socket.", "metadata."))
        }
        self._admin: AdminClient | None = None

    async def start(self) -> None:
        admin = AdminClient(self._config)
        await check_reachable(
            admin.list_topics, "starting the admin client", self.bootstrap, self.connect_timeout_s
        )
        self._admin = admin

    async def stop(self) -> None:
        self._admin = None  # librdkafka's admin client has no close; it goes with the object

    def _require(self) -> AdminClient:
        if self._admin is None:
            raise BrokerError("the admin client is not running: use it inside 'async with'")
        return self._admin

    async def _wait(self, future: concurrent.futures.Future[_T], what: str) -> _T:
        try:
            async with asyncio.timeout(self.connect_timeout_s * 2):
                return await asyncio.wrap_future(future)
        except KafkaException as exc:
            raise dq_error(exc, what, self.bootstrap) from exc
        except TimeoutError as exc:
            raise BrokerError(f"{what}: no answer from {self.bootstrap!r}") from exc

    async def _metadata(self, topic: str | None = None) -> Any:
        admin = self._require()
        try:
            return await asyncio.to_thread(admin.list_topics, topic, self.connect_timeout_s)
        except KafkaException as exc:
            raise dq_error(exc, "reading cluster metadata", self.bootstrap) from exc

    async def list_topics(self) -> list[str]:
        metadata = await self._metadata()
        return sorted(str(name) for name in metadata.topics)

    async def describe_topics(self, names: Sequence[str]) -> list[TopicInfo]:
        if not names:
            return []
        metadata = await self._metadata()
        present = [name for name in names if name in metadata.topics]
        return [
            TopicInfo(
                name=name,
                partitions=len(metadata.topics[name].partitions),
                # librdkafka's metadata has no internal flag: Kafka's internal topics start "__".
                internal=name.startswith("__"),
                config=await self._topic_config(name),
            )
            for name in present
        ]

    async def _topic_config(self, name: str) -> dict[str, str]:
        """The topic's configuration as the broker describes it (sensitive values left out)."""
        resource = ConfigResource(ResourceType.TOPIC, name)
        [future] = self._require().describe_configs([resource]).values()
        entries = await self._wait(future, f"describing the configuration of topic {name!r}")
        return {
            str(key): str(entry.value)
            for key, entry in entries.items()
            if entry.value is not None and not entry.is_sensitive
        }

    async def create_topics(
        self, topics: Mapping[str, int], replication_factor: int, config: Mapping[str, str]
    ) -> None:
        new = [
            NewTopic(name, partitions, replication_factor, config=dict(config))
            for name, partitions in topics.items()
        ]
        futures = self._require().create_topics(new, operation_timeout=self.connect_timeout_s)
        await self._each(futures, "creating", ok=_OK_CREATE)

    async def create_partitions(self, topics: Mapping[str, int]) -> None:
        request = [NewPartitions(name, total) for name, total in topics.items()]
        try:
            futures = self._require().create_partitions(request)
            await self._each(futures, "adding partitions to")
        except BrokerError as exc:
            if "UNSUPPORTED_VERSION" in str(exc) or "not supported" in str(exc).lower():
                raise UnsupportedByBrokerError(
                    f"raising the partition count of {sorted(topics)!r}: the broker at "
                    f"{self.bootstrap!r} does not support CreatePartitions"
                ) from exc
            raise

    async def delete_topics(self, names: Sequence[str]) -> None:
        futures = self._require().delete_topics(
            list(names), operation_timeout=self.connect_timeout_s
        )
        await self._each(futures, "deleting")

    async def _each(
        self,
        futures: Mapping[str, concurrent.futures.Future[Any]],
        verb: str,
        ok: set[int] | None = None,
    ) -> None:
        problems = []
        for name, future in futures.items():
            try:
                await asyncio.wrap_future(future)
            except KafkaException as exc:
                error = exc.args[0] if exc.args else None
                if error is not None and ok and error.code() in ok:
                    continue
                problems.append(f"{name!r}: {error.str() if error is not None else exc}")
        if problems:
            raise BrokerError(
                f"{verb} topics failed against {self.bootstrap!r}: " + "; ".join(problems)
            )

    async def list_groups(self) -> list[str]:
        result = await self._wait(
            self._require().list_consumer_groups(request_timeout=self.connect_timeout_s),
            "listing consumer groups",
        )
        return sorted({str(listing.group_id) for listing in result.valid})

    async def describe_groups(self, group_ids: Sequence[str]) -> list[GroupInfo]:
        if not group_ids:
            return []
        futures = self._require().describe_consumer_groups(
            list(group_ids), request_timeout=self.connect_timeout_s
        )
        described = []
        for group_id in group_ids:
            found = await self._wait(futures[group_id], f"describing consumer group {group_id!r}")
            state = getattr(found.state, "name", str(found.state))
            described.append(
                GroupInfo(
                    group_id=str(found.group_id),
                    # librdkafka spells states in capitals (STABLE); Kafka's names are kept.
                    state=_STATES.get(state, state.title()),
                    protocol_type="" if found.is_simple_consumer_group else "consumer",
                    protocol=str(found.partition_assignor or ""),
                    members=tuple(
                        GroupMember(
                            member_id=str(m.member_id),
                            client_id=str(m.client_id),
                            host=str(m.host),
                            partitions=tuple(
                                sorted(
                                    (tp.topic, tp.partition)
                                    for tp in (
                                        m.assignment.topic_partitions if m.assignment else []
                                    )
                                )
                            ),
                        )
                        for m in found.members
                    ),
                )
            )
        return described

    async def group_offsets(self, group_id: str) -> dict[tuple[str, int], int]:
        from confluent_kafka import ConsumerGroupTopicPartitions

        futures = self._require().list_consumer_group_offsets(
            [ConsumerGroupTopicPartitions(group_id)], request_timeout=self.connect_timeout_s
        )
        result = await self._wait(
            futures[group_id], f"reading the committed offsets of consumer group {group_id!r}"
        )
        return {
            (tp.topic, tp.partition): int(tp.offset)
            for tp in sorted(result.topic_partitions, key=lambda t: (t.topic, t.partition))
            if tp.offset >= 0
        }


_STATES = {
    "STABLE": "Stable",
    "EMPTY": "Empty",
    "DEAD": "Dead",
    "PREPARING_REBALANCING": "PreparingRebalance",
    "COMPLETING_REBALANCING": "CompletingRebalance",
    "UNKNOWN": "Unknown",
}


def _assigned(assignment: Any) -> tuple[tuple[str, int], ...]:
    listed = assignment.topic_partitions if assignment is not None else []
    return tuple(sorted((str(tp.topic), int(tp.partition)) for tp in listed))
