"""The ASGI app: two pages, their JSON, and server-sent events. Read-only: only GET routes.

Live updates are server-sent events: one stream per page, each event the newest state, sent
at most ``UPDATES_PER_S`` times a second however fast the topic runs (a slow page skips
states, it never queues them). Every string from Kafka reaches the page as JSON data and is
put in the DOM as text; the Content-Security-Policy below also forbids inline script.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

from .._exceptions import MissingDependencyError

try:
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.middleware.trustedhost import TrustedHostMiddleware
    from starlette.requests import Request
    from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
    from starlette.routing import Mount, Route
    from starlette.staticfiles import StaticFiles
    from starlette.types import ASGIApp, Message, Receive, Scope, Send
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise MissingDependencyError("starlette", "view", "dq-sdk view") from exc

from ._state import Board

__all__ = ["UPDATES_PER_S", "create_app", "static_dir"]

#: Events per second a page gets at most (per topic page; the overview gets 2).
UPDATES_PER_S = 10
OVERVIEW_UPDATES_PER_S = 2
#: A page hears from the server at least this often, changed or not (stats, liveness).
HEARTBEAT_S = 1.0

SECURITY_HEADERS = {
    "content-security-policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
        "frame-ancestors 'none'; form-action 'none'"
    ),
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
}
LOOPBACK_NAMES = ["127.0.0.1", "localhost"]


def static_dir() -> Path:
    """The packaged front end: pages, scripts, and the vendored chart library."""
    return Path(str(resources.files("dq_sdk.view") / "static"))


class _SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [(k.encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


def _json(data: Any) -> str:
    return json.dumps(data, separators=(",", ":"), allow_nan=False)


class _Changing(Protocol):
    version: int

    async def changed(self, seen: int, timeout_s: float) -> None: ...


async def _events(
    request: Request,
    make: Callable[[], dict[str, Any] | None],
    source: _Changing,
    per_second: float,
) -> AsyncIterator[str]:
    """``make()`` as server-sent events: on change, at most ``per_second``, at least every
    ``HEARTBEAT_S``; ends when the client goes or ``make()`` gives ``None``."""
    yield "retry: 2000\n\n"
    while not await request.is_disconnected():
        started = time.monotonic()
        seen = source.version
        data = make()
        if data is None:
            yield "event: gone\ndata: {}\n\n"
            return
        yield f"data: {_json(data)}\n\n"
        await asyncio.sleep(max(0.0, 1 / per_second - (time.monotonic() - started)))
        await source.changed(seen, HEARTBEAT_S)


def _stream(body: AsyncIterator[str]) -> StreamingResponse:
    headers = {"x-accel-buffering": "no"}
    return StreamingResponse(body, media_type="text/event-stream", headers=headers)


def create_app(
    board: Board, *, bootstrap: str, trusted_hosts: list[str] | None = None
) -> Starlette:
    """The view's app over ``board``; ``trusted_hosts`` limits Host headers (DNS rebinding)."""
    pages = static_dir()

    async def index(request: Request) -> Response:
        return FileResponse(pages / "index.html")

    async def topic_page(request: Request) -> Response:
        return FileResponse(pages / "topic.html")

    async def overview(request: Request) -> Response:
        return JSONResponse({"bootstrap": bootstrap, **board.overview()})

    async def overview_events(request: Request) -> Response:
        def make() -> dict[str, Any]:
            return {"bootstrap": bootstrap, **board.overview()}

        return _stream(_events(request, make, board, OVERVIEW_UPDATES_PER_S))

    def _since(request: Request) -> int:
        raw = request.query_params.get("since", "0")
        return int(raw) if raw.isdigit() else 0

    async def topic(request: Request) -> Response:
        name = request.path_params["name"]
        update = board.topic_update(name, _since(request))
        if update is None:
            return JSONResponse({"error": f"topic {name!r} is not shown"}, status_code=404)
        return JSONResponse(update)

    async def topic_events(request: Request) -> Response:
        name = request.path_params["name"]
        state = board.topics.get(name)
        if state is None:
            return JSONResponse({"error": f"topic {name!r} is not shown"}, status_code=404)
        since = _since(request)

        def make() -> dict[str, Any] | None:
            nonlocal since
            update = board.topic_update(name, since)
            if update is not None:
                since = update["seq"]
            return update

        return _stream(_events(request, make, state, UPDATES_PER_S))

    routes = [
        Route("/", index),
        Route("/topic/{name}", topic_page),
        Route("/api/overview", overview),
        Route("/api/overview/events", overview_events),
        Route("/api/topics/{name}", topic),
        Route("/api/topics/{name}/events", topic_events),
        Mount("/static", StaticFiles(directory=pages), name="static"),
    ]
    middleware = [Middleware(_SecurityHeaders)]
    if trusted_hosts:
        middleware.append(Middleware(TrustedHostMiddleware, allowed_hosts=trusted_hosts))
    return Starlette(routes=routes, middleware=middleware)
