"""``dq-sdk lag --group G [TOPIC...]``: how far a consumer group is behind, per partition."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
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
    connection,
    out_console,
    run,
)
from ._records import high_watermarks

__all__ = ["PartitionLag", "group_lag", "lag"]


class LagFormat(StrEnum):
    table = "table"
    json = "json"


@dataclass(frozen=True)
class PartitionLag:
    """One partition: the group's committed offset (None: never committed), the high-water
    mark, and the difference (None without a commit)."""

    topic: str
    partition: int
    committed: int | None
    high_water: int
    lag: int | None


async def group_lag(conn: Connection, group: str, topics: list[str]) -> list[PartitionLag]:
    """Lag of ``group`` on ``topics`` (default: the topics it has committed offsets on)."""
    async with Admin(conn.bootstrap, **conn.options()) as admin:
        committed = await admin.group_offsets(group)
        chosen = topics or sorted({topic for topic, _ in committed})
        if not chosen:
            known = await admin.list_groups()
            hint = f"; groups with offsets: {', '.join(known)}" if known else ""
            raise CliError(f"group {group!r} has no committed offsets on {conn.bootstrap}{hint}")
        infos = {i.name: i.partitions for i in await admin.describe_topics(chosen)}
    missing = [t for t in chosen if t not in infos]
    if missing:
        raise CliError(f"no such topic on {conn.bootstrap}: {', '.join(map(repr, missing))}")
    pairs = [(t, p) for t in chosen for p in range(infos[t])]
    marks = await high_watermarks(conn, pairs)
    rows = []
    for pair in pairs:
        done = committed.get(pair)
        behind = None if done is None else max(0, marks[pair] - done)
        rows.append(PartitionLag(pair[0], pair[1], done, marks[pair], behind))
    return rows


def lag(
    group: Annotated[str, typer.Option("--group", "-g", help="Consumer group id.")],
    topics: Annotated[
        list[str] | None, typer.Argument(help="Topics (default: those the group committed on).")
    ] = None,
    output: Annotated[LagFormat, typer.Option("--format", "-f")] = LagFormat.table,
    bootstrap: BootstrapOption = None,
    transport: TransportOption = Transport.aiokafka,
    connect_timeout: ConnectTimeoutOption = 15.0,
    debug: DebugOption = False,
) -> None:
    """Per partition: the group's committed offset, the high-water mark and the lag; the total.

    The high-water mark comes from Fetch responses, which every broker answers correctly.
    """
    conn = connection(bootstrap, transport, connect_timeout)
    chosen = list(topics or ([conn.topic] if conn.topic else []))
    rows = run(group_lag(conn, group, chosen))
    total = sum(r.lag or 0 for r in rows)
    if output is LagFormat.json:
        print(json.dumps({"group": group, "partitions": [asdict(r) for r in rows], "total": total}))
        return
    table = Table(
        "topic",
        "partition",
        "committed",
        "high-water",
        "lag",
        box=None,
        header_style="bold",
        title=f"group {group}",
        title_justify="left",
        title_style="",
    )
    for r in rows:
        table.add_row(
            r.topic,
            str(r.partition),
            "-" if r.committed is None else str(r.committed),
            str(r.high_water),
            "-" if r.lag is None else str(r.lag),
        )
    table.add_section()
    table.add_row("total", "", "", "", str(total))
    out_console().print(table)
