"""Typed settings: every option of every endpoint, checked once at construction and mapped once
per transport.

The endpoints (``Producer``, ``Consumer``, ``Admin`` and the ``DataQueue*`` shells) take these
options as typed keyword arguments, so ``inspect.signature`` and the docs show each with its
default, and mypy refuses a misspelled one. The constructor groups them into frozen settings
objects (in the spirit of httpx's ``Timeout`` / ``Limits``), whose ``__post_init__`` checks every
value; :func:`client_options` then turns them into the chosen transport's options, once.

- :class:`Security` — TLS and SASL;
- :class:`Connection` — the bootstrap address, transport, timeouts, security and the raw
  ``client_options`` escape hatch;
- :class:`ProducerSettings` / :class:`ConsumerSettings` — what each role adds.

The bootstrap address may come from the environment (:class:`EnvironmentSettings`,
pydantic-settings): ``DQ_SDK_BOOTSTRAP``, else SKA's ``SDP_KAFKA_HOST``; an explicit argument
wins. Addresses, topic names and options are all refused with an
:class:`~dq_sdk.InvalidArgumentError` naming the value and what is allowed, before any
connection is attempted.
"""

from __future__ import annotations

import functools
import inspect
import math
import re
import ssl
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal, ParamSpec, get_args

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from ._exceptions import InvalidArgumentError
from ._transport._base import DEFAULT_CONNECT_TIMEOUT_S, TransportName
from ._transport._sizes import DEFAULT_MAX_BATCH_SIZE, DEFAULT_MAX_REQUEST_SIZE

__all__ = [
    "DEFAULT_CONNECT_TIMEOUT_S",
    "DEFAULT_MAX_BATCH_SIZE",
    "DEFAULT_MAX_REQUEST_SIZE",
    "Acks",
    "AutoOffsetReset",
    "Bootstrap",
    "CompressionType",
    "Connection",
    "ConsumerSettings",
    "EnvironmentSettings",
    "ProducerSettings",
    "SaslMechanism",
    "Security",
    "SecurityProtocol",
    "TransportName",
    "check_topic",
    "checked_keywords",
    "client_options",
    "connection_from",
    "consumer_parts",
    "consumer_settings_from",
    "parse_bootstrap",
    "producer_settings_from",
    "resolve_bootstrap",
    "topic_list",
]

P = ParamSpec("P")

#: Where a consumer without a committed offset starts: the oldest message, the next new one,
#: or nowhere (an error).
AutoOffsetReset = Literal["earliest", "latest", "none"]
SecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
SaslMechanism = Literal["PLAIN", "GSSAPI", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER"]
CompressionType = Literal["gzip", "snappy", "lz4", "zstd"]
Acks = Literal[0, 1, "all"]


# --- checks ---------------------------------------------------------------------------------


def _refuse(name: str, value: object, allowed: str) -> InvalidArgumentError:
    return InvalidArgumentError(f"{name}={value!r} is not allowed: {allowed}")


def _one_of(name: str, value: object, options: tuple[object, ...]) -> None:
    # `True == 1`: a bool is not a number of acks, nor is 1.0.
    if type(value) not in (str, int, type(None)) or value not in options:
        raise _refuse(name, value, "one of " + ", ".join(repr(o) for o in options))


def _int(name: str, value: object, *, minimum: int, optional: bool = False) -> None:
    if value is None and optional:
        return
    if type(value) is not int or value < minimum:
        raise _refuse(name, value, f"an int >= {minimum}" + (" or None" if optional else ""))


def _seconds(name: str, value: object, *, zero_ok: bool = False) -> None:
    number = value if type(value) in (int, float) else math.nan
    assert isinstance(number, int | float)
    if not math.isfinite(number) or number < 0 or (number == 0 and not zero_ok):
        raise _refuse(name, value, "a finite number of seconds " + (">= 0" if zero_ok else "> 0"))


def _text(name: str, value: object) -> None:
    if value is not None and type(value) is not str:
        raise _refuse(name, value, "a str or None")


# --- bootstrap addresses ------------------------------------------------------------------------

_HOST = re.compile(
    r"(?:\[[0-9A-Fa-f:.]+\]"  # [IPv6]
    r"|[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?"  # a DNS label (or IPv4 part)...
    r"(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*)"  # ...dot-separated
)
_ADDRESS = re.compile(rf"(?P<host>{_HOST.pattern}):(?P<port>[0-9]{{1,5}})")
_FORMS = "'host:port[,host:port...]' or 'kafka://host:port[,host:port...][/topic]'"


@dataclass(frozen=True, slots=True)
class Bootstrap:
    """A checked bootstrap address: the brokers, and the topic a ``kafka://`` URL named."""

    servers: tuple[str, ...]
    topic: str | None = None

    @property
    def text(self) -> str:
        """``host:port,host:port``, as both Kafka clients take it."""
        return ",".join(self.servers)


@functools.lru_cache(maxsize=64)
def parse_bootstrap(value: str) -> Bootstrap:
    """Check a bootstrap address: ``host:port[,host:port...]`` or
    ``kafka://host:port[,host:port...][/topic]``; refuse anything else naming the forms."""
    if type(value) is not str:
        raise InvalidArgumentError(
            f"bootstrap address {value!r} is a {type(value).__name__}: give a str, {_FORMS}"
        )
    text = value.strip()
    topic: str | None = None
    if text.lower().startswith("kafka://"):
        text, _, path = text[len("kafka://") :].partition("/")
        topic = path.strip("/") or None
        if topic is not None:
            check_topic(topic, what=f"the topic of bootstrap address {value!r}")
    servers = []
    for part in text.split(","):
        address = part.strip()
        match = _ADDRESS.fullmatch(address)
        if match is None or not 0 < int(match["port"]) < 65536:
            problem = "it is empty" if not value.strip() else f"{address!r} is not host:port"
            raise InvalidArgumentError(
                f"bootstrap address {value!r} is malformed ({problem}): expected {_FORMS}, "
                "with a port from 1 to 65535"
            )
        servers.append(address)
    return Bootstrap(tuple(servers), topic)


class EnvironmentSettings(BaseSettings):
    """What dq-sdk reads from the environment (pydantic-settings), when no argument says it.

    ``DQ_SDK_BOOTSTRAP`` wins over SKA's ``SDP_KAFKA_HOST``; an explicit ``server`` argument
    wins over both.
    """

    model_config = SettingsConfigDict(extra="ignore", case_sensitive=True)

    dq_sdk_bootstrap: str | None = Field(default=None, validation_alias="DQ_SDK_BOOTSTRAP")
    sdp_kafka_host: str | None = Field(default=None, validation_alias="SDP_KAFKA_HOST")

    def bootstrap(self) -> tuple[str, str] | None:
        """``(value, variable name)`` of the first variable set and not blank."""
        for name, value in (
            ("DQ_SDK_BOOTSTRAP", self.dq_sdk_bootstrap),
            ("SDP_KAFKA_HOST", self.sdp_kafka_host),
        ):
            if value and value.strip():
                return value, name
        return None


def resolve_bootstrap(server: str | None) -> Bootstrap:
    """The checked bootstrap address: ``server``, else the environment, else an error."""
    if server is not None:
        return parse_bootstrap(server)
    found = EnvironmentSettings().bootstrap()
    if found is None:
        raise InvalidArgumentError(
            "no bootstrap address: pass server= (e.g. 'localhost:9092') or set "
            "DQ_SDK_BOOTSTRAP or SDP_KAFKA_HOST"
        )
    value, variable = found
    try:
        return parse_bootstrap(value)
    except InvalidArgumentError as exc:
        raise InvalidArgumentError(f"{exc.message} (from the environment: {variable})") from None


# --- topic names --------------------------------------------------------------------------------

_TOPIC = re.compile(r"[A-Za-z0-9._-]{1,249}")


@functools.lru_cache(maxsize=1024)
def _checked_topic(name: str, what: str) -> str:
    if not _TOPIC.fullmatch(name) or name in (".", ".."):
        if not name:
            problem = "it is empty"
        elif len(name) > 249:
            problem = f"it has {len(name)} characters, over Kafka's 249"
        elif name in (".", ".."):
            problem = "Kafka reserves '.' and '..'"
        else:
            bad = sorted({c for c in name if not re.fullmatch(r"[A-Za-z0-9._-]", c)})
            problem = f"it contains {''.join(bad)!r}"
        shown = name if len(name) <= 60 else name[:57] + "..."
        raise InvalidArgumentError(
            f"{what} {shown!r} is not a Kafka topic name ({problem}): use 1 to 249 of "
            "[a-zA-Z0-9._-], not '.' or '..'"
        )
    return name


def check_topic(name: object, *, what: str = "topic") -> str:
    """``name`` if Kafka accepts it as a topic name; else an error naming the rule."""
    if type(name) is not str:
        raise InvalidArgumentError(f"{what} {name!r} is a {type(name).__name__}, not a str")
    return _checked_topic(name, what)


def topic_list(topics: str | Iterable[str] | None, *, what: str = "topics") -> list[str] | None:
    """Checked topic names; a single ``str`` is one topic (never its characters)."""
    if topics is None:
        return None
    if isinstance(topics, str):
        return [check_topic(topics, what=what)]
    if isinstance(topics, bytes | bytearray) or not isinstance(topics, Iterable):
        raise InvalidArgumentError(
            f"{what}={topics!r} is not allowed: a list of topic names (or one name as a str)"
        )
    return [check_topic(topic, what=f"a name in {what}") for topic in topics]


# --- settings objects ---------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class Security:
    """TLS and SASL settings, shared by every client an endpoint makes."""

    security_protocol: SecurityProtocol = "PLAINTEXT"
    ssl_context: ssl.SSLContext | None = None
    sasl_mechanism: SaslMechanism = "PLAIN"
    sasl_plain_username: str | None = None
    sasl_plain_password: str | None = field(default=None, repr=False)
    sasl_kerberos_service_name: str = "kafka"
    sasl_kerberos_domain_name: str | None = None

    def __post_init__(self) -> None:
        _one_of("security_protocol", self.security_protocol, get_args(SecurityProtocol))
        _one_of("sasl_mechanism", self.sasl_mechanism, get_args(SaslMechanism))
        if self.ssl_context is not None and not isinstance(self.ssl_context, ssl.SSLContext):
            raise _refuse("ssl_context", self.ssl_context, "an ssl.SSLContext or None")
        for name in (
            "sasl_plain_username",
            "sasl_plain_password",
            "sasl_kerberos_service_name",
            "sasl_kerberos_domain_name",
        ):
            _text(name, getattr(self, name))

    def options(self) -> dict[str, Any]:
        """The aiokafka-named options that differ from aiokafka's defaults."""
        defaults = Security()
        return {
            name: getattr(self, name)
            for name in self.__slots__
            if getattr(self, name) != getattr(defaults, name)
        }


@dataclass(frozen=True, kw_only=True, slots=True)
class Connection:
    """Where and how an endpoint connects: checked address, transport, timeouts, security."""

    bootstrap: Bootstrap
    transport: TransportName = "aiokafka"
    connect_timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S
    request_timeout_ms: int = 40_000
    client_id: str | None = None
    security: Security = field(default_factory=Security)
    #: Passed as they are to the chosen client (aiokafka keyword arguments, or librdkafka
    #: properties with ``transport="confluent"``), over dq-sdk's mapped values.
    client_options: Mapping[str, object] = field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self) -> None:
        _one_of("transport", self.transport, get_args(TransportName))
        _seconds("connect_timeout_s", self.connect_timeout_s)
        _int("request_timeout_ms", self.request_timeout_ms, minimum=1)
        _text("client_id", self.client_id)
        if not isinstance(self.client_options, Mapping) or not all(
            type(key) is str for key in self.client_options
        ):
            raise _refuse(
                "client_options", self.client_options, "a mapping of option names (str) to values"
            )
        object.__setattr__(self, "client_options", MappingProxyType(dict(self.client_options)))

    @property
    def server(self) -> str:
        return self.bootstrap.text

    def options(self) -> dict[str, Any]:
        """aiokafka-named options every client of this connection takes."""
        options: dict[str, Any] = {
            "connect_timeout_s": self.connect_timeout_s,
            "request_timeout_ms": self.request_timeout_ms,
            **self.security.options(),
        }
        if self.client_id is not None:
            options["client_id"] = self.client_id
        return options


@dataclass(frozen=True, kw_only=True, slots=True)
class ProducerSettings:
    """What a producer adds to its :class:`Connection`."""

    linger_ms: int = 0
    #: ``None``: 1,000,000 bytes (librdkafka's ``batch.size``), capped at ``max_request_size``.
    max_batch_size: int | None = None
    max_request_size: int = DEFAULT_MAX_REQUEST_SIZE
    #: Payloads over this many bytes go as chunks a consumer reassembles (``None``: never).
    chunk_size: int | None = None
    compression_type: CompressionType | None = None
    #: ``None``: the client's default (aiokafka 1, or "all" with idempotence; librdkafka "all").
    acks: Acks | None = None
    enable_idempotence: bool = False

    def __post_init__(self) -> None:
        _int("linger_ms", self.linger_ms, minimum=0)
        _int("max_request_size", self.max_request_size, minimum=1)
        _int("max_batch_size", self.max_batch_size, minimum=1, optional=True)
        if self.max_batch_size is None:
            default = min(DEFAULT_MAX_BATCH_SIZE, self.max_request_size)
            object.__setattr__(self, "max_batch_size", default)
        _int("chunk_size", self.chunk_size, minimum=1, optional=True)
        if self.chunk_size is not None and self.chunk_size >= self.max_request_size:
            raise _refuse(
                "chunk_size",
                self.chunk_size,
                f"between 1 and max_request_size ({self.max_request_size}) minus room for headers",
            )
        _one_of("compression_type", self.compression_type, (*get_args(CompressionType), None))
        _one_of("acks", self.acks, (*get_args(Acks), None))
        if type(self.enable_idempotence) is not bool:
            raise _refuse("enable_idempotence", self.enable_idempotence, "True or False")

    def options(self) -> dict[str, Any]:
        """aiokafka-named producer options (``chunk_size`` is dq-sdk's own, not among them)."""
        options: dict[str, Any] = {
            "linger_ms": self.linger_ms,
            "max_batch_size": self.max_batch_size,
            "max_request_size": self.max_request_size,
        }
        for name in ("compression_type", "acks"):
            if getattr(self, name) is not None:
                options[name] = getattr(self, name)
        if self.enable_idempotence:
            options["enable_idempotence"] = True
        return options


@dataclass(frozen=True, kw_only=True, slots=True)
class ConsumerSettings:
    """What a consumer adds to its :class:`Connection`."""

    auto_offset_reset: AutoOffsetReset = "earliest"
    #: How often processed offsets are committed (also on leaving ``async with``).
    commit_interval_s: float = 1.0
    #: ``True`` gives aiokafka's commit-on-fetch; dq-sdk commits after processing otherwise.
    enable_auto_commit: bool = False
    session_timeout_ms: int = 10_000
    heartbeat_interval_ms: int = 3_000
    max_poll_interval_ms: int = 300_000
    #: Records one fetch may return (``None``: aiokafka's no limit; 1000 on confluent).
    max_poll_records: int | None = None
    fetch_max_bytes: int = 52_428_800
    max_partition_fetch_bytes: int = 1_048_576
    #: Bound on the bytes of chunked messages held while their chunks arrive.
    max_reassembly_bytes: int = 512 * 1024 * 1024
    #: How long an incomplete chunked message may wait for its other chunks.
    chunk_timeout_s: float = 120.0
    #: How long entering may wait to join the group, apart from ``connect_timeout_s``
    #: (``None``: session plus rebalance timeout plus connect timeout).
    group_join_timeout_s: float | None = None

    def __post_init__(self) -> None:
        _one_of("auto_offset_reset", self.auto_offset_reset, get_args(AutoOffsetReset))
        _seconds("commit_interval_s", self.commit_interval_s, zero_ok=True)
        if type(self.enable_auto_commit) is not bool:
            raise _refuse("enable_auto_commit", self.enable_auto_commit, "True or False")
        _int("session_timeout_ms", self.session_timeout_ms, minimum=1)
        _int("heartbeat_interval_ms", self.heartbeat_interval_ms, minimum=1)
        if self.heartbeat_interval_ms >= self.session_timeout_ms:
            raise _refuse(
                "heartbeat_interval_ms",
                self.heartbeat_interval_ms,
                f"less than session_timeout_ms ({self.session_timeout_ms})",
            )
        _int("max_poll_interval_ms", self.max_poll_interval_ms, minimum=1)
        _int("max_poll_records", self.max_poll_records, minimum=1, optional=True)
        _int("fetch_max_bytes", self.fetch_max_bytes, minimum=1)
        _int("max_partition_fetch_bytes", self.max_partition_fetch_bytes, minimum=1)
        _int("max_reassembly_bytes", self.max_reassembly_bytes, minimum=1)
        _seconds("chunk_timeout_s", self.chunk_timeout_s)
        if self.group_join_timeout_s is not None:
            _seconds("group_join_timeout_s", self.group_join_timeout_s)

    def options(self) -> dict[str, Any]:
        """aiokafka-named consumer options (the commit, chunk and reassembly settings are
        dq-sdk's own, not among them)."""
        options: dict[str, Any] = {
            name: getattr(self, name)
            for name in (
                "auto_offset_reset",
                "enable_auto_commit",
                "session_timeout_ms",
                "heartbeat_interval_ms",
                "max_poll_interval_ms",
                "fetch_max_bytes",
                "max_partition_fetch_bytes",
            )
        }
        if self.max_poll_records is not None:
            options["max_poll_records"] = self.max_poll_records
        if self.group_join_timeout_s is not None:
            options["group_join_timeout_s"] = float(self.group_join_timeout_s)
        return options


def _fields(cls: type[Any], values: Mapping[str, Any]) -> dict[str, Any]:
    return {name: values[name] for name in cls.__dataclass_fields__ if name in values}


def connection_from(server: str | None, values: Mapping[str, Any]) -> Connection:
    """The :class:`Connection` an endpoint's keyword arguments describe.

    ``values`` is the endpoint's ``locals()``: its signature lists every option by name, and
    this picks the ones each settings object has, so the names are written once.
    """
    bootstrap = resolve_bootstrap(server)
    fields = _fields(Connection, values)
    fields.pop("bootstrap", None)
    fields["security"] = Security(**_fields(Security, values))
    fields["client_options"] = values.get("client_options") or MappingProxyType({})
    return Connection(bootstrap=bootstrap, **fields)


def producer_settings_from(values: Mapping[str, Any]) -> ProducerSettings:
    return ProducerSettings(**_fields(ProducerSettings, values))


def consumer_settings_from(values: Mapping[str, Any]) -> ConsumerSettings:
    return ConsumerSettings(**_fields(ConsumerSettings, values))


def consumer_parts(
    server: str | None, options: Mapping[str, Any]
) -> tuple[Connection, ConsumerSettings]:
    """A consumer's settings from a mapping of option names (for tools built on
    ``BaseConsumer`` that forward options); a name that is no option is refused."""
    known = (
        set(Connection.__dataclass_fields__)
        | set(Security.__dataclass_fields__)
        | set(ConsumerSettings.__dataclass_fields__)
    ) - {"bootstrap", "security"}
    unknown = sorted(set(options) - known)
    if unknown:
        raise InvalidArgumentError(
            f"unknown consumer option(s) {', '.join(map(repr, unknown))}; valid options: "
            f"{', '.join(sorted(known))}. Options dq-sdk does not model go in client_options"
        )
    return connection_from(server, options), consumer_settings_from(options)


def client_options(
    connection: Connection, role: ProducerSettings | ConsumerSettings | None = None
) -> dict[str, Any]:
    """The options of the client ``connection.transport`` builds, mapped once.

    aiokafka takes the aiokafka names with ``client_options`` merged over them; the confluent
    transport maps the same names to librdkafka properties (``_transport/confluent/_common.py``)
    and takes ``client_options`` as librdkafka properties that win over the mapped ones.
    """
    options = {**connection.options(), **(role.options() if role is not None else {})}
    if connection.transport == "confluent":
        if connection.client_options:
            options["librdkafka_config"] = dict(connection.client_options)
        return options
    options.update(connection.client_options)
    return options


# --- keyword checking ---------------------------------------------------------------------------


def checked_keywords(init: Callable[P, None]) -> Callable[P, None]:
    """Make an ``__init__`` refuse an unknown keyword with an error listing the valid ones
    (Python's own ``TypeError`` names only the wrong one). The signature, for mypy and for
    ``inspect.signature``, stays the decorated function's."""
    signature = inspect.signature(init)
    valid = [
        name
        for name, parameter in signature.parameters.items()
        if name != "self" and parameter.kind is not inspect.Parameter.VAR_POSITIONAL
    ]
    owner = init.__qualname__.rsplit(".", 1)[0]

    @functools.wraps(init)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> None:
        unknown = [name for name in kwargs if name not in signature.parameters]
        if unknown:
            close = {n: _closest(n, valid) for n in unknown}
            hints = "".join(f" (did you mean {c!r}?)" for c in close.values() if c)
            raise InvalidArgumentError(
                f"{owner}() got unknown option{'s' if len(unknown) > 1 else ''} "
                f"{', '.join(map(repr, unknown))}{hints}; valid options: {', '.join(valid)}. "
                "Options dq-sdk does not model go in client_options={...}"
            )
        init(*args, **kwargs)

    return wrapper


def _closest(name: str, valid: list[str]) -> str | None:
    import difflib

    matches = difflib.get_close_matches(name, valid, n=1)
    return matches[0] if matches else None
