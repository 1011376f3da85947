"""The confluent-kafka (librdkafka) transport, chosen with ``transport="confluent"`` (the
``confluent`` extra).

librdkafka batches, compresses and talks to the brokers in its own C threads, so Python does
little per message: this is why the transport is faster than aiokafka. Its Python API blocks:
:mod:`.producer` and :mod:`.consumer` bridge the clients to asyncio, :mod:`.admin` awaits
librdkafka's futures, and :mod:`._common` maps options and errors for all of them. dq-sdk's
options (aiokafka's names: ``linger_ms``, ``max_request_size``, ``group_id``, SSL/SASL
names...) are mapped to librdkafka's; ``client_options={...}`` passes anything else through
and wins over the mapped values.

Importing this package without confluent-kafka installed raises
:class:`~dq_sdk.MissingDependencyError` naming the extra; ``dq_sdk._transport`` imports it
only when a confluent client is asked for.
"""

from __future__ import annotations

try:
    import confluent_kafka  # noqa: F401  (checked before any module here needs it)
except ImportError as exc:  # pragma: no cover - depends on the installed extras
    from ..._exceptions import MissingDependencyError

    raise MissingDependencyError(
        "confluent-kafka", "confluent", 'the transport="confluent" option'
    ) from exc

from .admin import ConfluentAdminClient
from .consumer import ConfluentConsumerClient
from .producer import ConfluentProducerClient

__all__ = ["ConfluentAdminClient", "ConfluentConsumerClient", "ConfluentProducerClient"]
