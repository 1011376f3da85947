"""SSL and SASL options reach aiokafka, on every client dq-sdk makes (the confluent
transport's mapping is tested in tests/unit/test_transport_confluent.py).

What tansu 0.6.0 allows end to end, and what it does not (docs/reliability.md): with
``--authentication`` it speaks SASL/SCRAM but offers no PLAIN, and ``tansu user create``
stores nothing with memory or S3 storage, so no login can succeed; its ``--cert`` and
``--key`` flags cannot be given together, so TLS cannot be switched on. The broker test
below therefore proves that the SASL settings travel to the broker and that a refused login
is a clear dq-sdk error; the successful handshake needs a real Kafka cluster.
"""

from __future__ import annotations

import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import pytest
from _reliability_support import Seq

from dq_sdk import (
    Admin,
    BrokerError,
    BrokerUnavailableError,
    Consumer,
    DataQueueConsumer,
    DataQueueProducer,
    Producer,
)
from dq_sdk.testing._broker import free_port, tansu_binary

SCRAM: dict[str, Any] = {
    "security_protocol": "SASL_PLAINTEXT",
    "sasl_mechanism": "SCRAM-SHA-512",
    "sasl_plain_username": "alice",
    "sasl_plain_password": "not-her-password",
}


@pytest.fixture
def auth_broker() -> Iterator[str]:
    """tansu requiring SASL authentication, on 127.0.0.1, stopped by its pid."""
    port = free_port()
    url = f"tcp://127.0.0.1:{port}"
    command = [str(tansu_binary()), "broker", "--listener-url", url]
    command += ["--advertised-listener-url", url, "--storage-engine", "memory://tansu/"]
    process = subprocess.Popen(
        [*command, "--authentication"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        # It refuses unauthenticated Metadata requests, so "ready" is "accepts TCP".
        deadline = time.monotonic() + 10
        while True:
            assert process.poll() is None, f"tansu exited with {process.returncode}"
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "tansu did not listen within 10 s"
                time.sleep(0.02)
        yield f"127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


async def test_sasl_settings_reach_the_broker_and_a_refused_login_is_clear(
    auth_broker: str,
) -> None:
    started = time.monotonic()
    # Without SASL settings the broker just hangs up: not reachable as configured.
    with pytest.raises(BrokerUnavailableError):
        async with Producer(Seq, auth_broker, topic="t", connect_timeout_s=5):
            pass
    # With them, the SCRAM exchange happens and the broker refuses the user: every client
    # kind reports that as a dq-sdk error naming the broker, not a bare aiokafka exception.
    refused = f"{auth_broker}.*refused the SASL login"
    with pytest.raises(BrokerError, match=refused):
        async with Producer(Seq, auth_broker, topic="t", connect_timeout_s=5, **SCRAM):
            pass
    with pytest.raises(BrokerError, match=refused):
        async with Consumer(Seq, auth_broker, topics=["t"], connect_timeout_s=5, **SCRAM):
            pass
    with pytest.raises(BrokerError, match=refused):
        async with Admin(auth_broker, connect_timeout_s=5, **SCRAM):
            pass
    assert time.monotonic() - started < 20


def _security(client: Any) -> dict[str, object]:
    """The security settings an aiokafka client (AIOKafkaClient) holds."""
    return {
        "security_protocol": client._security_protocol,
        "ssl_context": client._ssl_context,
        "sasl_mechanism": client._sasl_mechanism,
        "sasl_plain_username": client._sasl_plain_username,
        "sasl_plain_password": client._sasl_plain_password,
    }


async def test_ssl_and_sasl_options_arrive_in_every_aiokafka_client() -> None:
    context = ssl.create_default_context()
    options: dict[str, Any] = {
        "security_protocol": "SASL_SSL",
        "ssl_context": context,
        "sasl_mechanism": "SCRAM-SHA-256",
        "sasl_plain_username": "dq",
        "sasl_plain_password": "secret",
    }
    # Nothing listens there: each client is built on entry, fails to connect, and is closed;
    # the aiokafka objects it built stay behind for inspection.
    server = f"127.0.0.1:{free_port()}"
    producer = Producer(Seq, server, topic="t", **options)
    consumer = Consumer(Seq, server, topics=["t"], **options)
    # Its dead-letter producer starts first, fails, and stops the consumer from being built.
    dead_lettering = Consumer(
        Seq, server, topics=["t"], on_error="dead_letter", dead_letter_topic="dlq", **options
    )
    seed_producer = DataQueueProducer(server, **options)
    seed_consumer = DataQueueConsumer(server, topics=["t"], **options)
    admin = Admin(server, **options)
    for endpoint in (producer, consumer, dead_lettering, seed_producer, seed_consumer, admin):
        with pytest.raises(BrokerUnavailableError):
            async with endpoint:
                pass
    producers = {
        "Producer": producer._sender._client._producer,  # type: ignore[attr-defined]
        # The dead-letter producer inherits the consumer's security settings.
        "dead letters": dead_lettering.policy._sender._client._producer,  # type: ignore[union-attr]
        "DataQueueProducer": seed_producer._sender._client._producer,  # type: ignore[attr-defined]
    }
    consumers = {
        "Consumer": consumer._fetcher._client._consumer,  # type: ignore[attr-defined]
        "DataQueueConsumer": seed_consumer._fetcher._client._consumer,  # type: ignore[attr-defined]
    }
    for name, kafka in producers.items():
        assert _security(kafka.client) == options, name
    for name, kafka in consumers.items():
        assert _security(kafka._client) == options, name
    assert _security(admin._client._admin._client) == options, "Admin"  # type: ignore[attr-defined]
