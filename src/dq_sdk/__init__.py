"""dq-sdk: typed Kafka data queues for the SKA Science Data Processor.

Two layers over one core:

- the typed layer: ``Producer[M]`` / ``Consumer[M]`` for message models generated from
  ``schemas/`` (:mod:`dq_sdk.schemas`), each model carrying its encoding and validation;
- the SKA Data Queue Library's API: ``DataQueueProducer``, ``DataQueueConsumer``,
  ``DataQueueAdmin`` and ``Encoding``, for untyped values.

Codecs are public on their own in :mod:`dq_sdk.codecs`; test helpers in :mod:`dq_sdk.testing`.
"""

import warnings as _warnings
from importlib.metadata import PackageNotFoundError, version
from typing import Any as _Any

from ._admin import Admin, GroupInfo, GroupMember, TopicInfo, TopicSpec
from ._batches import RowBatch
from ._consumer import Consumer, Received
from ._exceptions import (
    BrokerError,
    BrokerUnavailableError,
    CodecError,
    CommitFailedError,
    ConsumerStoppedError,
    DecodeError,
    DQError,
    EncodeError,
    IncompleteMessageError,
    InvalidArgumentError,
    MessageTooLargeError,
    MessageValidationError,
    MissingDependencyError,
    ProducerStoppedError,
    ReceiveTimeoutError,
    SchemaIssue,
    SchemaMismatchError,
    SchemaToolError,
    UnsupportedByBrokerError,
)
from ._message import WireMessage
from ._models import StructuredArray
from ._policy import OnError
from ._producer import Producer
from ._run import run
from ._settings import (
    AutoOffsetReset,
    Connection,
    ConsumerSettings,
    ProducerSettings,
    Security,
    TransportName,
)
from ._transport import RecordMetadata
from .codecs import Encoding
from .dataqueues import DataQueueAdmin, DataQueueConsumer, DataQueueProducer

try:
    #: The installed dq-sdk version; ``"0+unknown"`` when run from a source tree not installed.
    __version__ = version("dq-sdk")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0+unknown"

__all__ = [
    "Admin",
    "AutoOffsetReset",
    "BrokerError",
    "BrokerUnavailableError",
    "CodecError",
    "CommitFailedError",
    "Connection",
    "Consumer",
    "ConsumerSettings",
    "ConsumerStoppedError",
    "DQError",
    "DataQueueAdmin",
    "DataQueueConsumer",
    "DataQueueProducer",
    "DecodeError",
    "EncodeError",
    "Encoding",
    "GroupInfo",
    "GroupMember",
    "IncompleteMessageError",
    "InvalidArgumentError",
    "MessageTooLargeError",
    "MessageValidationError",
    "MissingDependencyError",
    "OnError",
    "Producer",
    "ProducerSettings",
    "ProducerStoppedError",
    "ReceiveTimeoutError",
    "Received",
    "RecordMetadata",
    "RowBatch",
    "SchemaIssue",
    "SchemaMismatchError",
    "SchemaToolError",
    "Security",
    "StructuredArray",
    "TopicInfo",
    "TopicSpec",
    "TransportName",
    "UnsupportedByBrokerError",
    "WireMessage",
    "run",
    "__version__",
]


#: Old public names still importable, each with the name that replaced it. Kept out of
#: ``__all__`` (a star import brings only current names); using one warns once per place.
_DEPRECATED_ALIASES = {"KafkaError": "BrokerError"}


def __getattr__(name: str) -> _Any:
    new_name = _DEPRECATED_ALIASES.get(name)
    if new_name is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    _warnings.warn(
        f"dq_sdk.{name} is deprecated: use dq_sdk.{new_name} (the same class)",
        DeprecationWarning,
        stacklevel=2,
    )
    return globals()[new_name]
