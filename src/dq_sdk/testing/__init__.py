"""What users' tests need: a real local Kafka-protocol broker and hypothesis strategies.

- :func:`local_broker` — ``async with local_broker() as bootstrap:`` starts a Kafka-protocol
  broker (noida-db by default, or tansu: ``engine=`` or ``DQ_SDK_BROKER_ENGINE``) on a free
  127.0.0.1 port and stops it (by pid) on exit. Needs the ``broker`` extra.
- The pytest plugin (:mod:`dq_sdk.testing.pytest_plugin`, registered on install) provides the
  ``dq_bootstrap``, ``dq_broker_engine``, ``dq_topic`` and ``dq_topic_factory`` fixtures.
- :mod:`dq_sdk.testing.strategies` — hypothesis strategies per message model (``testing`` extra).
"""

from ._broker import (
    BOOTSTRAP_ENV,
    DEFAULT_ENGINE,
    ENGINE_ENV,
    ENGINES,
    BrokerEngine,
    BrokerProcess,
    bootstrap_from_env,
    engine_from_env,
    local_broker,
    running_broker,
    start_broker,
)

__all__ = [
    "BOOTSTRAP_ENV",
    "BrokerEngine",
    "BrokerProcess",
    "DEFAULT_ENGINE",
    "ENGINES",
    "ENGINE_ENV",
    "bootstrap_from_env",
    "engine_from_env",
    "local_broker",
    "running_broker",
    "start_broker",
]
