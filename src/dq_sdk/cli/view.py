"""``dq-sdk view``: serve the live, read-only page of the data queues and print its URL."""

from __future__ import annotations

from typing import Annotated

import typer

from .._exceptions import DQError

__all__ = ["command", "view"]


def view(
    bootstrap: Annotated[
        str | None,
        typer.Option(help="Kafka bootstrap servers (default: DQ_SDK_BOOTSTRAP)."),
    ] = None,
    topics: Annotated[
        list[str] | None,
        typer.Option("--topics", "--topic", help="Only these topics (repeat; default: all)."),
    ] = None,
    groups: Annotated[
        list[str] | None,
        typer.Option("--group", help="Show this consumer group's lag (repeat)."),
    ] = None,
    host: Annotated[
        str, typer.Option(help="Interface to listen on; anything but loopback exposes the page.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on (0: any free port).")] = 8765,
) -> None:
    """Serve a live page of the topics (rates, lag, latest messages, plots) until Ctrl-C."""
    from ..testing import bootstrap_from_env

    chosen = bootstrap or bootstrap_from_env()
    if not chosen:
        raise typer.BadParameter(
            "no Kafka to read: pass --bootstrap HOST:PORT or set DQ_SDK_BOOTSTRAP",
            param_hint="--bootstrap",
        )
    try:
        from ..view import serve
        from ..view._server import check_address

        check_address(host, port)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    except DQError as exc:  # the view extra is missing
        typer.echo(f"dq-sdk: {exc}", err=True)
        raise typer.Exit(1) from exc
    raise typer.Exit(serve(chosen, topics=topics, groups=groups or (), host=host, port=port))


#: What the root app registers as ``dq-sdk view``.
command = view
