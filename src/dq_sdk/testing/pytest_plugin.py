"""pytest plugin: a real Kafka-protocol broker for your tests, registered on install.

Installing ``dq-sdk[testing]`` (or ``dq-sdk[broker]``) gives every test suite these fixtures:

``dq_bootstrap`` (session)
    ``"127.0.0.1:PORT"`` of a local broker started once per session (about 50 ms) and stopped by
    its pid afterwards, or the value of ``DQ_SDK_BOOTSTRAP`` to use an existing cluster. The
    engine is ``DQ_SDK_BROKER_ENGINE`` (``noida``, the default, or ``tansu``).
``dq_broker_engine`` (session)
    Which engine ``dq_bootstrap`` runs (``"noida"`` or ``"tansu"``), or ``None`` for an existing
    cluster named by ``DQ_SDK_BOOTSTRAP``; tests asserting an engine's documented difference from
    Apache Kafka branch on it.
``dq_topic`` (function)
    A fresh, empty topic with one partition, unique to the test.
``dq_topic_factory`` (function)
    ``dq_topic_factory(partitions=3, config={"max.message.bytes": 33554432})`` makes more such
    topics (``config``: topic configuration, as for ``Admin.create_topics``); all are deleted
    after the test.

No broker means an error, never a skip: a test that needs Kafka must not pass without it.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar

import pytest

from ._broker import bootstrap_from_env, start_broker
from ._engines import BrokerEngine, engine_from_env

__all__ = ["dq_bootstrap", "dq_broker_engine", "dq_topic", "dq_topic_factory"]

_T = TypeVar("_T")


def _run_blocking(coro_factory: Callable[[], Any]) -> Any:
    """Run a coroutine to completion from sync code, even if this thread has a loop running."""
    result: dict[str, Any] = {}

    def target() -> None:
        try:
            result["value"] = asyncio.run(coro_factory())
        except BaseException as exc:  # handed back to the caller's thread
            result["error"] = exc

    thread = threading.Thread(target=target, name="dq-sdk-fixture")
    thread.start()
    thread.join(timeout=60)
    if thread.is_alive():
        raise TimeoutError("topic administration did not finish within 60 s")
    if "error" in result:
        raise result["error"]
    return result.get("value")


@pytest.fixture(scope="session")
def dq_broker_engine() -> BrokerEngine | None:
    """The local engine behind ``dq_bootstrap``; ``None`` when ``DQ_SDK_BOOTSTRAP`` is set."""
    return None if bootstrap_from_env() is not None else engine_from_env()


@pytest.fixture(scope="session")
def dq_bootstrap(dq_broker_engine: BrokerEngine | None) -> Iterator[str]:
    """Bootstrap address of a real Kafka-protocol broker for this test session."""
    existing = bootstrap_from_env()
    if existing is not None:
        yield existing
        return
    broker = start_broker(engine=dq_broker_engine)
    try:
        yield broker.bootstrap
    finally:
        broker.stop()


@pytest.fixture
def dq_topic_factory(
    dq_bootstrap: str, request: pytest.FixtureRequest
) -> Iterator[Callable[..., str]]:
    """Make fresh topics (``partitions=1`` by default); they are deleted after the test."""
    from .._admin import Admin

    created: list[str] = []
    stem = "".join(c if c.isalnum() else "-" for c in request.node.name)[:80]

    def make(partitions: int = 1, config: Mapping[str, str | int] | None = None) -> str:
        name = f"dq-test-{stem}-{uuid.uuid4().hex[:8]}"

        async def create() -> None:
            async with Admin(dq_bootstrap) as admin:
                await admin.create_topics([(name, partitions)], config=config)

        _run_blocking(create)
        created.append(name)
        return name

    yield make

    async def delete() -> None:
        async with Admin(dq_bootstrap) as admin:
            await admin.delete_topics(created)

    if created:
        _run_blocking(delete)


@pytest.fixture
def dq_topic(dq_topic_factory: Callable[..., str]) -> str:
    """A fresh, empty single-partition topic for this test."""
    return dq_topic_factory()
