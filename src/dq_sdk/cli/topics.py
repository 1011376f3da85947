"""``dq-sdk topics list|describe|create|delete``."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from typing import Annotated

import typer
from rich.table import Table

from .._admin import Admin
from ._common import (
    BootstrapOption,
    CliError,
    Connection,
    ConnectTimeoutOption,
    DebugOption,
    Transport,
    TransportOption,
    UsageError,
    connection,
    out_console,
    run,
    topics_or_url,
)

__all__ = ["app"]

app = typer.Typer(help="List, describe, create and delete topics.", no_args_is_help=True)


class ListFormat(StrEnum):
    table = "table"
    json = "json"


FormatOption = Annotated[
    ListFormat, typer.Option("--format", "-f", help="table (for people) or json (one per line).")
]


@app.command("list")
def list_topics(
    internal: Annotated[
        bool, typer.Option("--internal", help="Also list internal topics (__consumer_offsets).")
    ] = False,
    output: FormatOption = ListFormat.table,
    bootstrap: BootstrapOption = None,
    transport: TransportOption = Transport.aiokafka,
    connect_timeout: ConnectTimeoutOption = 15.0,
    debug: DebugOption = False,
) -> None:
    """List the topics of the cluster with their partition counts."""
    conn = connection(bootstrap, transport, connect_timeout)

    async def go() -> None:
        async with Admin(conn.bootstrap, **conn.options()) as admin:
            infos = await admin.describe_topics()
        shown = [i for i in infos if internal or not (i.internal or i.name.startswith("__"))]
        if output is ListFormat.json:
            for info in shown:
                print(json.dumps({"topic": info.name, "partitions": info.partitions}))
            return
        table = Table("topic", "partitions", box=None, header_style="bold")
        for info in shown:
            table.add_row(info.name, str(info.partitions))
        out_console().print(table)

    run(go())


@app.command("describe")
def describe(
    topics: Annotated[list[str] | None, typer.Argument(help="Topics to describe.")] = None,
    output: FormatOption = ListFormat.table,
    bootstrap: BootstrapOption = None,
    transport: TransportOption = Transport.aiokafka,
    connect_timeout: ConnectTimeoutOption = 15.0,
    debug: DebugOption = False,
) -> None:
    """Partitions of each topic with their high-water marks (the offset after the last
    message)."""
    conn = connection(bootstrap, transport, connect_timeout)
    names = topics_or_url(topics, conn, what="topics describe")
    run(_describe(conn, names, output))


async def _describe(conn: Connection, names: list[str], output: ListFormat) -> None:
    from ._records import high_watermarks

    async with Admin(conn.bootstrap, **conn.options()) as admin:
        infos = {i.name: i for i in await admin.describe_topics(names)}
    missing = [n for n in names if n not in infos]
    if missing:
        raise UsageError(f"no such topic: {', '.join(map(repr, missing))}")
    pairs = [(n, p) for n in names for p in range(infos[n].partitions)]
    marks = await high_watermarks(conn, pairs)
    if output is ListFormat.json:
        for name in names:
            partitions = [
                {"partition": p, "high_water": marks[(name, p)]}
                for p in range(infos[name].partitions)
            ]
            print(
                json.dumps(
                    {
                        "topic": name,
                        "partitions": infos[name].partitions,
                        "internal": infos[name].internal,
                        "high_water": partitions,
                    }
                )
            )
        return
    table = Table("topic", "partition", "high-water", box=None, header_style="bold")
    for name in names:
        for p in range(infos[name].partitions):
            table.add_row(name, str(p), str(marks[(name, p)]))
    out_console().print(table)


def _config(values: list[str] | None) -> dict[str, str]:
    config: dict[str, str] = {}
    for item in values or []:
        key, eq, value = item.partition("=")
        if not eq or not key.strip():
            raise UsageError(f"--config {item!r}: expected KEY=VALUE, e.g. retention.ms=86400000")
        config[key.strip()] = value
    return config


@app.command("create")
def create(
    topics: Annotated[list[str] | None, typer.Argument(help="Topics to create.")] = None,
    partitions: Annotated[int, typer.Option("--partitions", "-p", min=1)] = 1,
    replication_factor: Annotated[int, typer.Option("--replication-factor", "-r", min=1)] = 1,
    config: Annotated[
        list[str] | None,
        typer.Option("--config", "-c", help="Topic config KEY=VALUE; repeat for more."),
    ] = None,
    bootstrap: BootstrapOption = None,
    transport: TransportOption = Transport.aiokafka,
    connect_timeout: ConnectTimeoutOption = 15.0,
    debug: DebugOption = False,
) -> None:
    """Create topics with at least --partitions partitions (an existing topic with fewer is
    raised to it where the broker can; one with enough is left alone)."""
    settings = _config(config)
    conn = connection(bootstrap, transport, connect_timeout)
    names = topics_or_url(topics, conn, what="topics create")

    async def go() -> None:
        async with Admin(conn.bootstrap, **conn.options()) as admin:
            existed = set(await admin.list_topics())
            await admin.create_topics(
                [(n, partitions) for n in names],
                replication_factor=replication_factor,
                config=settings,
            )
        for name in names:
            verb = "exists" if name in existed else "created"
            print(f"{verb}: {name}")

    run(go())


@app.command("delete")
def delete(
    topics: Annotated[list[str] | None, typer.Argument(help="Topics to delete.")] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    bootstrap: BootstrapOption = None,
    transport: TransportOption = Transport.aiokafka,
    connect_timeout: ConnectTimeoutOption = 15.0,
    debug: DebugOption = False,
) -> None:
    """Delete topics and every message in them (asks first unless --yes)."""
    conn = connection(bootstrap, transport, connect_timeout)
    names = topics_or_url(topics, conn, what="topics delete")

    async def existing() -> set[str]:
        async with Admin(conn.bootstrap, **conn.options()) as admin:
            return set(await admin.list_topics())

    present = run(existing())
    missing = [n for n in names if n not in present]
    if missing:
        raise UsageError(f"no such topic: {', '.join(map(repr, missing))}")
    if not yes:
        if not sys.stdin.isatty():
            raise UsageError("refusing to delete without --yes when stdin is not a terminal")
        asked = (
            f"Delete {len(names)} topic(s) and all their messages on {conn.bootstrap}: "
            f"{', '.join(names)}?"
        )
        if not typer.confirm(asked):
            raise CliError("nothing deleted")

    async def go() -> None:
        async with Admin(conn.bootstrap, **conn.options()) as admin:
            await admin.delete_topics(names)

    run(go())
    for name in names:
        print(f"deleted: {name}")
