"""``dq-sdk broker``: a local Kafka-protocol broker (tansu, in memory) until Ctrl-C."""

from __future__ import annotations

import signal
import sys
import threading
from typing import Annotated

import typer

__all__ = ["broker"]


def broker(
    port: Annotated[
        int | None,
        typer.Option(min=1, max=65535, help="Port on 127.0.0.1 (default: a free one)."),
    ] = None,
) -> int:
    """Run a local Kafka-protocol broker in the foreground until Ctrl-C."""
    from ..testing import start_broker

    local = start_broker(port=port)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    print(f"Kafka-protocol broker (tansu, in memory) on {local.bootstrap}, pid {local.pid}")
    print(f"Try: DQ_SDK_BOOTSTRAP={local.bootstrap} dq-sdk demo    (Ctrl-C stops the broker)")
    sys.stdout.flush()
    try:
        while not stop.wait(0.5):
            if local.process.poll() is not None:
                print(
                    f"the broker exited with code {local.process.returncode}{local.stderr_tail()}",
                    file=sys.stderr,
                )
                return 1
    finally:
        local.stop()
    return 0
