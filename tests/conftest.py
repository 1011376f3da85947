"""Shared test set-up. The broker fixtures (dq_bootstrap, dq_topic, dq_topic_factory) come from
dq-sdk's own pytest plugin, exactly as users' suites get them.

The suite is laid out by subject (docs/testing.md): a folder per part of dq-sdk, never per kind
of test. What needs a broker carries the ``kafka`` marker instead of living in a folder of its
own, so ``pytest -m kafka`` (and ``-m "not kafka"``) selects it wherever it is."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

from dq_sdk import TransportName
from dq_sdk.testing import bootstrap_from_env, engine_from_env

settings.register_profile(
    "dq-sdk",
    deadline=None,
    max_examples=int(os.environ.get("DQ_SDK_HYPOTHESIS_EXAMPLES", "100")),
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("dq-sdk")

TRANSPORTS: tuple[TransportName, ...] = ("aiokafka", "confluent")


@pytest.fixture(params=TRANSPORTS)
def transport(request: pytest.FixtureRequest) -> TransportName:
    """The Kafka client library under test: a test taking this fixture runs with aiokafka and
    again with confluent-kafka (librdkafka) and passes ``transport=transport`` to the clients it
    builds, so both transports are held to the same behaviour against the same broker."""
    chosen: TransportName = request.param
    return chosen


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test that uses the session broker, or is marked ``fixed_engine``, ``kafka``
    (other tests starting a broker of their own carry the mark by hand), so ``pytest -m kafka``
    runs exactly the broker-backed tests and ``-m "not kafka"`` needs no broker. scripts/test.sh
    runs ``kafka and not fixed_engine`` a second time on the other engine: a ``fixed_engine``
    test starts the engine it is about itself, so a second pass would only repeat it.

    On a local noida-db, ``member_expiry`` tests are deselected, in the open: noida never drops
    a SIGKILLed group member, so a group with one can never rebalance (docs/testing.md).
    scripts/test.sh runs them on tansu, DQ_SDK_BOOTSTRAP on a real cluster, and
    tests/reliability/test_member_expiry.py asserts noida's behaviour itself."""
    for item in items:
        uses_session_broker = "dq_bootstrap" in getattr(item, "fixturenames", ())
        if uses_session_broker or item.get_closest_marker("fixed_engine") is not None:
            item.add_marker(pytest.mark.kafka)
    if not _local_noida():
        return
    kept = [item for item in items if item.get_closest_marker("member_expiry") is None]
    dropped = [item for item in items if item.get_closest_marker("member_expiry") is not None]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


def pytest_report_header(config: pytest.Config) -> str:
    if bootstrap_from_env() is not None:
        return f"dq-sdk: Kafka at {bootstrap_from_env()} (DQ_SDK_BOOTSTRAP)"
    engine = engine_from_env()
    note = " (member_expiry tests deselected: noida keeps dead group members)"
    return f"dq-sdk: local broker engine {engine}" + (note if engine == "noida" else "")


def _local_noida() -> bool:
    return bootstrap_from_env() is None and engine_from_env() == "noida"
