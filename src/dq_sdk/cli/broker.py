"""``dq-sdk broker``: a local Kafka-protocol broker (noida-db or tansu) until Ctrl-C."""

from __future__ import annotations

import signal
import sys
import threading
from typing import Annotated

import typer

from ..testing._engines import DEFAULT_ENGINE, ENGINE_ENV, BrokerEngine

__all__ = ["broker"]


def broker(
    port: Annotated[
        int | None,
        typer.Option(min=1, max=65535, help="Port on 127.0.0.1 (default: a free one)."),
    ] = None,
    engine: Annotated[
        BrokerEngine | None,
        typer.Option(help=f"Broker engine (default: {ENGINE_ENV} or {DEFAULT_ENGINE})."),
    ] = None,
) -> int:
    """Run a local Kafka-protocol broker in the foreground until Ctrl-C."""
    from ..testing import start_broker

    local = start_broker(engine=engine, port=port)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    print(f"Kafka-protocol broker ({local.engine}) on {local.bootstrap}, pid {local.pid}")
    print(f"Try: DQ_SDK_BOOTSTRAP={local.bootstrap} dq-sdk demo    (Ctrl-C stops the broker)")
    sys.stdout.flush()
    try:
        while not stop.wait(0.5):
            if local.process.poll() is not None:
                tail = local.log_tail()
                print(
                    f"the broker exited with code {local.process.returncode}"
                    + (f"; its last output:\n{tail}" if tail else ""),
                    file=sys.stderr,
                )
                return 1
    finally:
        local.stop()
    return 0
