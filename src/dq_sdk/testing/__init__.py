"""What users' tests need: a real local Kafka-protocol broker and hypothesis strategies.

- :func:`local_broker` — ``async with local_broker() as bootstrap:`` starts tansu on a free
  127.0.0.1 port and stops it (by pid) on exit. Needs the ``broker`` extra.
- The pytest plugin (:mod:`dq_sdk.testing.pytest_plugin`, registered on install) provides the
  ``dq_bootstrap``, ``dq_topic`` and ``dq_topic_factory`` fixtures.
- :mod:`dq_sdk.testing.strategies` — hypothesis strategies per message model (``testing`` extra).
"""

from ._broker import (
    BOOTSTRAP_ENV,
    BrokerProcess,
    bootstrap_from_env,
    local_broker,
    running_broker,
    start_broker,
)

__all__ = [
    "BOOTSTRAP_ENV",
    "BrokerProcess",
    "bootstrap_from_env",
    "local_broker",
    "running_broker",
    "start_broker",
]
