"""Shared test set-up. The broker fixtures (dq_bootstrap, dq_topic, dq_topic_factory) come from
dq-sdk's own pytest plugin, exactly as users' suites get them."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "dq-sdk",
    deadline=None,
    max_examples=int(os.environ.get("DQ_SDK_HYPOTHESIS_EXAMPLES", "100")),
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("dq-sdk")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that uses the session broker ``kafka`` (tests starting a broker of their
    own carry the mark by hand), so ``pytest -m kafka`` runs exactly the broker-backed tests:
    scripts/test.sh runs them a second time on the other engine."""
    for item in items:
        if "dq_bootstrap" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.kafka)
