"""Running the view: uvicorn serving the app, and the feed filling its board, in one loop."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import sys
from collections.abc import Callable, Sequence
from typing import Any, TextIO

from .._exceptions import MissingDependencyError
from ._app import LOOPBACK_NAMES, create_app
from ._feed import Feed
from ._state import Board

__all__ = ["DEFAULT_HOST", "DEFAULT_PORT", "check_address", "run_view", "serve"]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765


def check_address(host: str, port: int) -> None:
    """Refuse a port outside 0-65535 or an empty host, naming the value."""
    if not 0 <= port <= 65535:
        raise ValueError(f"--port must be 0 (any free port) to 65535, not {port}")
    if not host.strip():
        raise ValueError("--host must name an interface, e.g. 127.0.0.1")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


async def run_view(
    bootstrap: str,
    *,
    topics: Sequence[str] | None = None,
    groups: Sequence[str] = (),
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    on_ready: Callable[[str], None] | None = None,
    **kafka_options: Any,
) -> None:
    """Serve the view until the server is told to stop (SIGINT/SIGTERM)."""
    check_address(host, port)
    try:
        import uvicorn
    except ImportError as exc:
        raise MissingDependencyError("uvicorn", "view", "dq-sdk view") from exc
    board = Board(groups)
    # On loopback, only loopback Host headers: a web page elsewhere cannot reach the view
    # through DNS rebinding.
    trusted = LOOPBACK_NAMES if _is_loopback(host) else None
    app = create_app(board, bootstrap=bootstrap, trusted_hosts=trusted)
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        lifespan="off",
        # Event streams never end by themselves: give them a second, then close them.
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    feed = asyncio.create_task(Feed(board, bootstrap, topics, **kafka_options).run())

    async def announce() -> None:
        while not server.started:
            if feed.done() or server.should_exit:
                return
            await asyncio.sleep(0.02)
        bound = server.servers[0].sockets[0].getsockname()[1]
        shown = f"[{host}]" if ":" in host else host
        if on_ready is not None:
            on_ready(f"http://{shown}:{bound}/")

    announcer = asyncio.create_task(announce())
    try:
        await server.serve()
    finally:
        for task in (announcer, feed):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


def serve(
    bootstrap: str,
    *,
    topics: Sequence[str] | None = None,
    groups: Sequence[str] = (),
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    out: TextIO = sys.stdout,
) -> int:
    """Run the view in this thread until Ctrl-C; print its URL once it listens."""

    def ready(url: str) -> None:
        print(f"dq-sdk view: {url} (Kafka at {bootstrap}; read-only; Ctrl-C stops)", file=out)
        out.flush()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(
            run_view(bootstrap, topics=topics, groups=groups, host=host, port=port, on_ready=ready)
        )
    return 0
