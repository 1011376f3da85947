"""What every ``dq-sdk`` subcommand shares: ``--bootstrap``, ``--transport``, ``--debug``, the
``kafka://`` address form, output consoles and running a coroutine with clean exits.

Errors meant for the user are :class:`CliError` (exit 1) or :class:`UsageError` (exit 2):
``_app.main`` prints them as one line on stderr, never a traceback unless ``--debug``.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
from collections.abc import Coroutine
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console

from .. import _settings as settings
from .._exceptions import InvalidArgumentError

__all__ = [
    "BOOTSTRAP_ENVS",
    "BootstrapOption",
    "CliError",
    "ConnectTimeoutOption",
    "Connection",
    "DebugOption",
    "Transport",
    "TransportOption",
    "UsageError",
    "connection",
    "err_console",
    "out_console",
    "parse_bootstrap",
    "run",
    "state",
    "topics_or_url",
]

_T = TypeVar("_T")

#: Where ``--bootstrap`` comes from when not given, in this order (SKA SDP sets the second).
BOOTSTRAP_ENVS = ("DQ_SDK_BOOTSTRAP", "SDP_KAFKA_HOST")


class CliError(Exception):
    """A failure to report as one line on stderr, exit code 1."""

    exit_code = 1


class UsageError(CliError):
    """A bad argument or option value, exit code 2 (as for any usage error)."""

    exit_code = 2


@dataclass
class _State:
    debug: bool = False


#: Process-wide flags set by options (``--debug`` can be given before or after the command).
state = _State()


class Transport(StrEnum):
    """Which Kafka client library the command uses."""

    aiokafka = "aiokafka"
    confluent = "confluent"


def _set_debug(value: bool) -> bool:
    if value:
        state.debug = True
    return value


DebugOption = Annotated[
    bool,
    typer.Option(
        "--debug",
        help="On an error, show the full traceback.",
        callback=_set_debug,
        is_eager=True,
    ),
]
BootstrapOption = Annotated[
    str | None,
    typer.Option(
        "--bootstrap",
        "-b",
        help="Kafka bootstrap servers: host:port[,host:port] or kafka://host:port[/topic] "
        "(default: $DQ_SDK_BOOTSTRAP, then $SDP_KAFKA_HOST).",
        show_default=False,
    ),
]
TransportOption = Annotated[
    Transport,
    typer.Option("--transport", help="Kafka client library.", case_sensitive=False),
]
ConnectTimeoutOption = Annotated[
    float,
    typer.Option(
        "--connect-timeout",
        min=0.1,
        envvar="DQ_SDK_CONNECT_TIMEOUT",
        help="Seconds to wait for the broker before reporting it unreachable.",
    ),
]


@dataclass(frozen=True)
class Connection:
    """Where and how to reach Kafka, resolved from the options and the environment."""

    bootstrap: str
    topic: str | None
    transport: Transport
    connect_timeout_s: float

    def options(self) -> dict[str, Any]:
        """Keyword options for dq-sdk's producers, consumers and admin."""
        return {"transport": self.transport.value, "connect_timeout_s": self.connect_timeout_s}


def parse_bootstrap(value: str, source: str) -> tuple[str, str | None]:
    """``host:port[,host:port]`` or ``kafka://host:port[,...][/topic]`` -> (servers, topic),
    checked by the library's own rules; a bad value is a usage error naming ``source``."""
    try:
        address = settings.parse_bootstrap(value)
    except InvalidArgumentError as exc:
        raise UsageError(f"{source}: {exc}") from None
    return address.text, address.topic


def connection(
    bootstrap: str | None, transport: Transport, connect_timeout_s: float = 15.0
) -> Connection:
    """Resolve ``--bootstrap`` (or the environment) into a :class:`Connection`."""
    if bootstrap is not None:
        servers, topic = parse_bootstrap(bootstrap, "--bootstrap")
        return Connection(servers, topic, transport, connect_timeout_s)
    for name in BOOTSTRAP_ENVS:
        value = os.environ.get(name, "").strip()
        if value:
            servers, topic = parse_bootstrap(value, f"${name}")
            return Connection(servers, topic, transport, connect_timeout_s)
    raise UsageError(
        "no Kafka broker given: pass --bootstrap host:port, or set DQ_SDK_BOOTSTRAP "
        "(or SKA's SDP_KAFKA_HOST), e.g. export DQ_SDK_BOOTSTRAP=localhost:9092"
    )


def topics_or_url(topics: list[str] | None, conn: Connection, *, what: str) -> list[str]:
    """The topics named on the command line, else the one in a kafka://.../topic address."""
    chosen = list(topics or [])
    if not chosen and conn.topic:
        chosen = [conn.topic]
    if not chosen:
        raise UsageError(f"{what}: name a topic (TOPIC, or --bootstrap kafka://host:port/TOPIC)")
    for name in chosen:
        if not name or len(name) > 249:
            raise UsageError(f"{what}: topic name {name!r} must be 1 to 249 characters")
    return chosen


def _console(stream: Any) -> Console:
    # Piped output keeps whole lines: rich would wrap at 80 columns when it sees no terminal.
    width = None if stream.isatty() else max(shutil.get_terminal_size((200, 24)).columns, 200)
    return Console(file=stream, width=width, highlight=False, soft_wrap=False)


def out_console() -> Console:
    """A rich console on stdout (tables, previews)."""
    return _console(sys.stdout)


def err_console() -> Console:
    """A rich console on stderr (progress, counts)."""
    return _console(sys.stderr)


def run(coro: Coroutine[Any, Any, _T]) -> _T:
    """Run a command's coroutine; Ctrl-C arrives as ``KeyboardInterrupt`` (exit 130)."""
    return asyncio.run(coro)
