"""What the aiokafka clients share: aiokafka errors as dq-sdk errors, and starting a client
within the connect timeout."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar

import aiokafka.errors as kafka_errors

from ..._exceptions import BrokerError, BrokerUnavailableError, DQError, UnsupportedByBrokerError

__all__ = ["guarded", "start_client"]

_T = TypeVar("_T")


async def guarded(
    action: Awaitable[_T],
    what: str,
    *,
    bootstrap: str,
    timeout_s: float | None = None,
    sasl: bool = False,
) -> _T:
    """Await an aiokafka call, turning its errors and overlong waits into dq-sdk errors."""
    try:
        if timeout_s is None:
            # Every send and delivery comes here without a deadline: skip asyncio.timeout,
            # whose set-up cost more per message than aiokafka's own bookkeeping.
            return await action
        async with asyncio.timeout(timeout_s):
            return await action
    except TimeoutError as exc:
        raise BrokerUnavailableError(
            f"{what}: no Kafka broker answered at {bootstrap!r} within {timeout_s:g} s"
        ) from exc
    except kafka_errors.KafkaConnectionError as exc:
        raise BrokerUnavailableError(
            f"{what}: cannot connect to a Kafka broker at {bootstrap!r} ({exc})"
        ) from exc
    except kafka_errors.IncompatibleBrokerVersion as exc:
        raise UnsupportedByBrokerError(
            f"{what}: the broker at {bootstrap!r} does not support this request ({exc})"
        ) from exc
    except kafka_errors.KafkaError as exc:
        raise BrokerError(f"{what} failed against {bootstrap!r}: {exc}") from exc
    except (KeyError, ValueError) as exc:
        if not sasl:
            raise
        # aiokafka's SCRAM client fails this way when a broker refuses the login with an
        # RFC 5802 error ("e=unknown-user", as tansu does) rather than a Kafka error code.
        raise BrokerError(
            f"{what}: the broker at {bootstrap!r} refused the SASL login "
            f"({type(exc).__name__}: {exc}); check sasl_mechanism and the credentials"
        ) from exc


class _Starting(Protocol):
    bootstrap: str
    connect_timeout_s: float
    _sasl: bool


async def start_client(
    start: Callable[[], Awaitable[object]],
    close: Callable[[], Awaitable[object]],
    what: str,
    client: _Starting,
) -> None:
    """Start an aiokafka client within the connect timeout; close it again if that fails
    (aiokafka leaves half-open connections behind when start fails)."""
    try:
        await guarded(
            start(),
            f"starting {what}",
            bootstrap=client.bootstrap,
            timeout_s=client.connect_timeout_s,
            sasl=client._sasl,
        )
    except DQError:
        with contextlib.suppress(Exception):
            await close()
        raise
