"""Integration set-up: the data-moving tests run once per transport.

A test that takes the ``transport`` fixture runs with aiokafka and again with confluent-kafka
(librdkafka), and passes ``transport=transport`` to the producers and consumers it builds, so
both transports are held to the same behaviour against the same broker.
"""

from __future__ import annotations

import pytest

from dq_sdk._transport import TransportName

TRANSPORTS: tuple[TransportName, ...] = ("aiokafka", "confluent")


@pytest.fixture(params=TRANSPORTS)
def transport(request: pytest.FixtureRequest) -> TransportName:
    """The Kafka client library under test."""
    chosen: TransportName = request.param
    return chosen
