"""What both confluent-kafka clients share: librdkafka settings for aiokafka-style options,
librdkafka errors as dq-sdk errors, and running librdkafka's blocking calls off the loop.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from confluent_kafka import KafkaError as LibKafkaError
from confluent_kafka import KafkaException

from ..._exceptions import BrokerError, BrokerUnavailableError, DQError, InvalidArgumentError
from .._sizes import DEFAULT_MAX_REQUEST_SIZE

__all__ = [
    "LIBRDKAFKA_LOG",
    "blocking",
    "check_reachable",
    "consumer_config",
    "dq_error",
    "producer_config",
]

_T = TypeVar("_T")

# aiokafka option name -> librdkafka property, for both clients.
_COMMON = {
    "client_id": "client.id",
    "metadata_max_age_ms": "metadata.max.age.ms",
    "retry_backoff_ms": "retry.backoff.ms",
    "connections_max_idle_ms": "connections.max.idle.ms",
    "security_protocol": "security.protocol",
    "sasl_mechanism": "sasl.mechanism",
    "sasl_plain_username": "sasl.username",
    "sasl_plain_password": "sasl.password",
    "sasl_kerberos_service_name": "sasl.kerberos.service.name",
}
_PRODUCER = {
    "acks": "acks",
    "compression_type": "compression.type",
    "linger_ms": "linger.ms",
    "max_batch_size": "batch.size",
    "max_request_size": "message.max.bytes",
    "request_timeout_ms": "request.timeout.ms",
    "enable_idempotence": "enable.idempotence",
}
_CONSUMER = {
    "group_id": "group.id",
    "group_instance_id": "group.instance.id",
    "auto_offset_reset": "auto.offset.reset",
    "enable_auto_commit": "enable.auto.commit",
    "auto_commit_interval_ms": "auto.commit.interval.ms",
    "session_timeout_ms": "session.timeout.ms",
    "heartbeat_interval_ms": "heartbeat.interval.ms",
    "max_poll_interval_ms": "max.poll.interval.ms",
    "fetch_max_wait_ms": "fetch.wait.max.ms",
    "fetch_min_bytes": "fetch.min.bytes",
    "fetch_max_bytes": "fetch.max.bytes",
    "max_partition_fetch_bytes": "max.partition.fetch.bytes",
    "isolation_level": "isolation.level",
    "check_crcs": "check.crcs",
    "client_rack": "client.rack",
    "request_timeout_ms": "socket.timeout.ms",
}
# aiokafka options that take Python objects librdkafka cannot use.
_UNMAPPABLE = {
    "ssl_context": "give client_options={'ssl.ca.location': ..., 'ssl.certificate.location': "
    "..., 'ssl.key.location': ...} instead of an ssl.SSLContext",
    "sasl_oauth_token_provider": "give client_options={'oauth_cb': ...} instead",
    "partitioner": "give client_options={'partitioner': ...} (a librdkafka partitioner name)",
}
_RECEIVE_MAX_DEFAULT = 100_000_000  # librdkafka's receive.message.max.bytes default
# A fetch the broker holds because some partitions are empty delays the others' first
# records by this much: librdkafka's 500 ms made every consumer's first message 0.5 s late.
_FETCH_WAIT_MS = 100


#: Where librdkafka's own log lines go (instead of straight to stderr), so applications and the
#: dq-sdk command decide what to show with ``logging``.
LIBRDKAFKA_LOG = logging.getLogger("dq_sdk.librdkafka")


def _mapped(options: Mapping[str, Any], table: Mapping[str, str], what: str) -> dict[str, Any]:
    config: dict[str, Any] = {}
    for name, value in options.items():
        if name in _UNMAPPABLE:
            raise InvalidArgumentError(
                f'{what} option {name!r} has no transport="confluent" form: {_UNMAPPABLE[name]}'
            )
        prop = table.get(name) or _COMMON.get(name)
        if prop is None:
            raise InvalidArgumentError(
                f'unknown {what} option {name!r} for transport="confluent"; pass librdkafka '
                f"properties as client_options={{...}}"
            )
        if value is not None:
            config[prop] = value
    return config


def producer_config(bootstrap: str, options: Mapping[str, Any]) -> dict[str, Any]:
    """librdkafka producer properties for aiokafka-style ``options``."""
    options = dict(options)
    extra = dict(options.pop("librdkafka_config", None) or {})
    if options.get("compression_type", "") is None:
        options["compression_type"] = "none"
    config: dict[str, Any] = {
        "bootstrap.servers": bootstrap,
        # aiokafka's defaults, so switching transport changes speed, not behaviour: no wait
        # before sending (librdkafka's default is 5 ms, a 5 ms floor on every awaited send),
        # its request limit, and murmur2 keys (Java's and aiokafka's key -> partition map).
        "linger.ms": 0,
        "message.max.bytes": DEFAULT_MAX_REQUEST_SIZE,
        "partitioner": "murmur2_random",
        **_mapped(options, _PRODUCER, "producer"),
        "logger": LIBRDKAFKA_LOG,
    }
    config.update(extra)
    return config


def consumer_config(bootstrap: str, options: Mapping[str, Any]) -> dict[str, Any]:
    """librdkafka consumer properties for aiokafka-style ``options``."""
    options = dict(options)
    extra = dict(options.pop("librdkafka_config", None) or {})
    options.pop("max_poll_records", None)  # the client's batch size, not a librdkafka setting
    if options.get("auto_offset_reset") == "none":
        options["auto_offset_reset"] = "error"
    config: dict[str, Any] = {
        "bootstrap.servers": bootstrap,
        "fetch.wait.max.ms": _FETCH_WAIT_MS,
        **_mapped(options, _CONSUMER, "consumer"),
        "logger": LIBRDKAFKA_LOG,
    }
    if "group.id" not in config:
        # librdkafka needs a group id even to assign partitions by hand. Without a group the
        # client assigns every partition itself and never commits or joins, as aiokafka does.
        config["group.id"] = f"dq-sdk-no-group-{uuid.uuid4().hex}"
    fetch_max = int(config.get("fetch.max.bytes", 0))
    if fetch_max + 512 > _RECEIVE_MAX_DEFAULT:
        # librdkafka refuses a fetch limit its own receive buffer cannot hold.
        config["receive.message.max.bytes"] = fetch_max + 512
    config.update(extra)
    return config


def _is_unreachable(error: LibKafkaError) -> bool:
    return error.code() in (
        LibKafkaError._TRANSPORT,
        LibKafkaError._ALL_BROKERS_DOWN,
        LibKafkaError._MSG_TIMED_OUT,
        LibKafkaError._TIMED_OUT,
        LibKafkaError._RESOLVE,
    )


def dq_error(error: object, what: str, bootstrap: str, **where: Any) -> DQError:
    """A dq-sdk error for a librdkafka error (its ``KafkaError`` or ``KafkaException``)."""
    if isinstance(error, KafkaException) and error.args:
        error = error.args[0]
    if isinstance(error, LibKafkaError) and _is_unreachable(error):
        return BrokerUnavailableError(
            f"{what}: no Kafka broker answered at {bootstrap!r} ({error.str()})", **where
        )
    text = error.str() if isinstance(error, LibKafkaError) else str(error)
    return BrokerError(f"{what} failed against {bootstrap!r}: {text}", **where)


async def blocking(
    call: Callable[[], _T], what: str, bootstrap: str, executor: ThreadPoolExecutor | None = None
) -> _T:
    """Run a blocking librdkafka call off the event loop, with dq-sdk errors."""
    try:
        return await asyncio.get_running_loop().run_in_executor(executor, call)
    except KafkaException as exc:
        raise dq_error(exc, what, bootstrap) from exc


async def check_reachable(
    list_topics: Callable[..., Any], what: str, bootstrap: str, timeout_s: float
) -> None:
    """A metadata request: how librdkafka clients learn that the bootstrap address is alive."""
    try:
        await asyncio.to_thread(list_topics, None, timeout_s)
    except KafkaException as exc:
        raise BrokerUnavailableError(
            f"{what}: no Kafka broker answered at {bootstrap!r} within {timeout_s:g} s "
            f"({exc.args[0].str() if exc.args else exc})"
        ) from exc
