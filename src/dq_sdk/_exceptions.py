"""The one error tree of dq-sdk.

Every error dq-sdk raises is a :class:`DQError`. Where a message was involved, the error says
where it happened (``topic``, ``partition``, ``offset``) and, for validation, every problem
with its field path::

    DQError
    ├── CodecError (ValueError)
    │   ├── EncodeError ........... a value the encoding cannot take
    │   └── DecodeError ........... bytes that do not decode (never unpickled)
    ├── InvalidArgumentError (ValueError, TypeError) ... an argument refused where it enters
    ├── MessageValidationError (TypeError, ValueError) ... every schema issue, listed together
    ├── SchemaMismatchError ....... a received message of another model, version or encoding
    ├── SchemaToolError (ValueError)  a schema, folder, git ref or option schema tools cannot use
    ├── IncompleteMessageError .... a chunked message whose chunks never all arrived
    ├── MessageTooLargeError ...... over the producer's request limit, refused before sending
    ├── BrokerError ............... the broker or the client failed (client error as __cause__)
    │   ├── BrokerUnavailableError  nothing answers at the bootstrap address in time
    │   ├── CommitFailedError ..... the group rebalanced before a commit: not committed
    │   └── UnsupportedByBrokerError  the broker lacks the API (e.g. CreatePartitions on tansu)
    ├── ConsumerStoppedError ...... the consumer is not running (not entered, or already left)
    ├── ProducerStoppedError ...... the producer is not running (not entered, or already left)
    ├── ReceiveTimeoutError (TimeoutError)  nothing arrived within ``receive(timeout_s=...)``
    └── MissingDependencyError (ImportError) ... an optional extra is not installed

``MessageValidationError`` is also a ``TypeError`` because the SKA data-queue library raised
``TypeError`` for schema problems; code written against it keeps catching them. It is also a
``ValueError``, as pydantic's ``ValidationError`` (raised by model constructors) is: one
``except ValueError`` catches invalid data on every path, construction, validation and decoding.

``InvalidArgumentError`` is raised where an argument enters (a constructor, ``send``,
``update_topics``...), before any connection: an unknown option, a value out of range, a
malformed bootstrap address, a topic name Kafka refuses, an unknown encoding name, a class that is
not a message model. It is a ``ValueError`` and a ``TypeError`` so that either habit catches it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = [
    "BrokerUnavailableError",
    "CodecError",
    "CommitFailedError",
    "ConsumerStoppedError",
    "ProducerStoppedError",
    "ReceiveTimeoutError",
    "DQError",
    "DecodeError",
    "EncodeError",
    "IncompleteMessageError",
    "InvalidArgumentError",
    "BrokerError",
    "MessageTooLargeError",
    "MessageValidationError",
    "MissingDependencyError",
    "SchemaIssue",
    "SchemaMismatchError",
    "SchemaToolError",
    "UnsupportedByBrokerError",
]


class DQError(Exception):
    """Base of every dq-sdk error.

    ``topic``, ``partition`` and ``offset`` say where in Kafka the failing message was (or was
    going); they are ``None`` when unknown, e.g. for a codec used on its own.
    """

    def __init__(
        self,
        message: str,
        *,
        topic: str | None = None,
        partition: int | None = None,
        offset: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.topic = topic
        self.partition = partition
        self.offset = offset

    def located(
        self, *, topic: str | None, partition: int | None = None, offset: int | None = None
    ) -> DQError:
        """Fill in where the error happened (kept if already known) and return ``self``."""
        self.topic = self.topic if self.topic is not None else topic
        self.partition = self.partition if self.partition is not None else partition
        self.offset = self.offset if self.offset is not None else offset
        return self

    @property
    def location(self) -> str:
        parts = []
        if self.topic is not None:
            parts.append(f"topic={self.topic!r}")
        if self.partition is not None:
            parts.append(f"partition={self.partition}")
        if self.offset is not None:
            parts.append(f"offset={self.offset}")
        return ", ".join(parts)

    def __str__(self) -> str:
        where = self.location
        return f"{self.message} [{where}]" if where else self.message


class CodecError(DQError, ValueError):
    """A value could not be encoded, or bytes could not be decoded."""


class EncodeError(CodecError):
    """The value cannot be carried by the chosen encoding."""


class DecodeError(CodecError):
    """The bytes are not valid for the chosen encoding (or exceed a decoder bound)."""


@dataclass(frozen=True)
class SchemaIssue:
    """One problem found by validation.

    ``path`` is the field path (``"data[2].power"``, ``"coords.time"``, ``"dtype.antenna_name"``).
    """

    path: str
    message: str
    found: object = None
    expected: object = None

    def __str__(self) -> str:
        text = f"{self.path or '<root>'}: {self.message}"
        if self.expected is not None or self.found is not None:
            text += f" (expected {self.expected!r}, found {self.found!r})"
        return text


class InvalidArgumentError(DQError, ValueError, TypeError):
    """An argument dq-sdk cannot use, refused where it enters and before any connection.

    The message names the argument, the value given and what is allowed.
    """


class MessageValidationError(DQError, TypeError, ValueError):
    """The data does not match its schema. ``issues`` lists every problem found."""

    def __init__(
        self,
        schema_name: str,
        issues: Iterable[SchemaIssue],
        *,
        topic: str | None = None,
        partition: int | None = None,
        offset: int | None = None,
    ) -> None:
        self.schema_name = schema_name
        self.issues: Sequence[SchemaIssue] = tuple(issues)
        lines = "\n".join(f"  - {issue}" for issue in self.issues)
        count = len(self.issues)
        super().__init__(
            f"{count} schema issue{'s' if count != 1 else ''} for {schema_name}:\n{lines}",
            topic=topic,
            partition=partition,
            offset=offset,
        )


class SchemaMismatchError(DQError):
    """A received message announces another model, schema version or encoding."""


class SchemaToolError(DQError, ValueError):
    """A schema tool (``dq_sdk.schema_tools``) got input it cannot use: a schema file that is not
    JSON, a version that is not ``MAJOR.MINOR.PATCH``, a folder or git ref that does not exist,
    an unknown compatibility mode, a channel map naming an unknown model..."""


class IncompleteMessageError(DQError):
    """A chunked message could not be reassembled (missing chunks, timeout, buffer bound)."""


class MessageTooLargeError(DQError):
    """The encoded message is over the producer's ``max_request_size``; it was not sent."""

    def __init__(self, size: int, limit: int, *, topic: str | None = None) -> None:
        self.size = size
        self.limit = limit
        super().__init__(
            f"message of {size} bytes is over the producer limit max_request_size={limit}. "
            "To send it, raise all three: the producer's max_request_size "
            "(Producer(..., max_request_size=N)), the topic's max.message.bytes "
            "(DataQueueAdmin.create_topics(..., config={'max.message.bytes': str(N)})) and the "
            "consumer's max_partition_fetch_bytes / fetch_max_bytes; or send it in chunks "
            "(see docs/reliability.md)",
            topic=topic,
        )


class BrokerError(DQError):
    """The broker or the Kafka client failed; the original error is ``__cause__``.

    Formerly ``KafkaError`` (the name of aiokafka's and confluent-kafka's own errors);
    ``dq_sdk.KafkaError`` remains as a deprecated alias of this class."""


class BrokerUnavailableError(BrokerError):
    """No broker answered at the bootstrap address within the bounded wait."""


class CommitFailedError(BrokerError):
    """The consumer group rebalanced before offsets were committed; they were not.

    The messages concerned are delivered again (to this consumer or to the partition's new
    owner): at-least-once. Automatic commits log this and go on; an explicit
    ``consumer.commit()`` raises it.
    """


class UnsupportedByBrokerError(BrokerError):
    """The connected broker does not implement the Kafka API this call needs."""


class ConsumerStoppedError(DQError):
    """The consumer is not running: enter it with ``async with`` first."""


class ProducerStoppedError(DQError):
    """The producer is not running: enter it with ``async with`` first."""


class ReceiveTimeoutError(DQError, TimeoutError):
    """Nothing arrived within the ``timeout_s`` a receive was given.

    Also a built-in ``TimeoutError``, so ``except TimeoutError`` keeps working."""


class MissingDependencyError(DQError, ImportError):
    """An optional dependency is missing; the message names the extra to install."""

    def __init__(self, module: str, extra: str, purpose: str) -> None:
        self.module = module
        self.extra = extra
        super().__init__(
            f"{purpose} needs the optional package {module!r}; "
            f"install it with: pip install 'dq-sdk[{extra}]'"
        )
