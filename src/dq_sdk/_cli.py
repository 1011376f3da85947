"""The ``dq-sdk`` command: ``dq-sdk broker`` runs a local broker, ``dq-sdk demo`` the demo."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Callable, Sequence

from ._exceptions import DQError
from .testing._engines import DEFAULT_ENGINE, ENGINE_ENV, ENGINES

__all__ = ["main"]


def _broker(args: argparse.Namespace) -> int:
    from .testing import start_broker

    broker = start_broker(engine=args.engine, port=args.port)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    print(f"Kafka-protocol broker ({broker.engine}) on {broker.bootstrap}, pid {broker.pid}")
    print(f"Try: DQ_SDK_BOOTSTRAP={broker.bootstrap} dq-sdk demo    (Ctrl-C stops the broker)")
    sys.stdout.flush()
    try:
        while not stop.wait(0.5):
            if broker.process.poll() is not None:
                print(f"the broker exited with code {broker.process.returncode}", file=sys.stderr)
                return 1
    finally:
        broker.stop()
    return 0


def _demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    return run_demo(antennas=args.antennas, rounds=args.rounds, bootstrap=args.bootstrap)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dq-sdk", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    broker = commands.add_parser("broker", help="run a local Kafka-protocol broker until Ctrl-C")
    broker.add_argument("--port", type=int, default=None, help="port on 127.0.0.1 (default: free)")
    broker.add_argument(
        "--engine",
        choices=ENGINES,
        default=None,
        help=f"broker engine (default: {ENGINE_ENV} or {DEFAULT_ENGINE})",
    )
    broker.set_defaults(run=_broker)
    demo = commands.add_parser("demo", help="move pointing and metrics data through Kafka")
    demo.add_argument("--antennas", type=int, default=200)
    demo.add_argument("--rounds", type=int, default=50, help="messages per stream")
    demo.add_argument(
        "--bootstrap",
        default=None,
        help="existing broker (default: DQ_SDK_BOOTSTRAP or a local one)",
    )
    demo.set_defaults(run=_demo)
    args = parser.parse_args(argv)
    try:
        run: Callable[[argparse.Namespace], int] = args.run
        return run(args)
    except DQError as exc:
        print(f"dq-sdk: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
