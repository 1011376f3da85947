"""``dq-sdk stats TOPIC...``: a live table of msg/s, MiB/s and (with --group) lag per topic."""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Annotated

import typer
from rich.live import Live
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
    topics_or_url,
)
from ._records import RecordStream

__all__ = ["stats"]


class StatsFormat(StrEnum):
    table = "table"
    json = "json"


@dataclass
class _Window:
    """What one topic did since the last update."""

    messages: int = 0
    size: int = 0
    marks: dict[int, int] = field(default_factory=dict)


def stats(
    topics: Annotated[list[str] | None, typer.Argument(help="Topics to watch.")] = None,
    group: Annotated[
        str | None, typer.Option("--group", "-g", help="Show this consumer group's lag.")
    ] = None,
    interval: Annotated[
        float, typer.Option("--interval", "-i", min=0.1, help="Seconds between updates.")
    ] = 1.0,
    updates: Annotated[
        int | None, typer.Option("--updates", min=1, help="Stop after N updates (default: Ctrl-C).")
    ] = None,
    output: Annotated[
        StatsFormat, typer.Option("--format", "-f", help="table (live) or json (one per line).")
    ] = StatsFormat.table,
    bootstrap: BootstrapOption = None,
    transport: TransportOption = Transport.aiokafka,
    connect_timeout: ConnectTimeoutOption = 15.0,
    debug: DebugOption = False,
) -> None:
    """Watch topics: messages and MiB per second arriving, and with --group how far that group
    is behind, updated every --interval seconds until Ctrl-C.

    Rates count what arrives from now on (read from the end, like a consumer would see it).
    """
    conn = connection(bootstrap, transport, connect_timeout)
    names = topics_or_url(topics, conn, what="stats")
    run(_watch(conn, names, group, interval, updates, output))


async def _watch(
    conn: Connection,
    names: list[str],
    group: str | None,
    interval: float,
    updates: int | None,
    output: StatsFormat,
) -> None:
    async with Admin(conn.bootstrap, **conn.options()) as admin:
        infos = {i.name: i.partitions for i in await admin.describe_topics(names)}
        missing = [t for t in names if t not in infos]
        if missing:
            raise CliError(f"no such topic on {conn.bootstrap}: {', '.join(map(repr, missing))}")
        pairs = [(t, p) for t in names for p in range(infos[t])]
        stream = RecordStream(conn)
        stream.assign_topics(pairs)
        async with stream:
            await stream.seek_to_end()
            previous = await stream.high_watermarks(max_age_s=0.0)
            live = _Display(output, names, group)
            with live:
                shown = 0
                while updates is None or shown < updates:
                    windows = {t: _Window() for t in names}
                    started = time.monotonic()
                    deadline = started + interval
                    while (left := deadline - time.monotonic()) > 0:
                        try:
                            record = await stream.receive(timeout_s=left)
                        except TimeoutError:
                            break
                        window = windows[record.topic]
                        window.messages += 1
                        window.size += len(record.value) + len(record.key or b"")
                    elapsed = max(time.monotonic() - started, 1e-6)
                    marks = await stream.high_watermarks(max_age_s=interval)
                    committed = await admin.group_offsets(group) if group else {}
                    rows = []
                    for topic in names:
                        topic_pairs = [p for p in pairs if p[0] == topic]
                        arrived = sum(marks[p] - previous.get(p, marks[p]) for p in topic_pairs)
                        behind = (
                            sum(
                                max(0, marks[p] - committed[p])
                                for p in topic_pairs
                                if p in committed
                            )
                            if group
                            else None
                        )
                        rows.append(
                            {
                                "topic": topic,
                                "msg_per_s": round(
                                    max(arrived, windows[topic].messages) / elapsed, 1
                                ),
                                "mib_per_s": round(windows[topic].size / 2**20 / elapsed, 3),
                                "lag": behind,
                            }
                        )
                    previous = marks
                    live.update(rows)
                    shown += 1


class _Display:
    """A rich Live table on a terminal; otherwise a plain table or JSON lines per update."""

    def __init__(self, output: StatsFormat, names: list[str], group: str | None) -> None:
        self.output, self.names, self.group = output, names, group
        self.console = out_console()
        self.live: Live | None = None
        if output is StatsFormat.table and sys.stdout.isatty():
            self.live = Live(self._table([]), console=self.console, auto_refresh=False)

    def __enter__(self) -> _Display:
        if self.live is not None:
            self.live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.live is not None:
            self.live.__exit__(None, None, None)

    def _table(self, rows: list[dict[str, object]]) -> Table:
        lag_title = f"lag ({self.group})" if self.group else "lag"
        table = Table(
            "topic",
            "msg/s",
            "MiB/s",
            lag_title,
            header_style="bold",
            caption="Ctrl-C stops",
            caption_justify="left",
        )
        for row in rows:
            lag = row["lag"]
            table.add_row(
                str(row["topic"]),
                f"{row['msg_per_s']:.1f}",
                f"{row['mib_per_s']:.3f}",
                "-" if lag is None else str(lag),
            )
        return table

    def update(self, rows: list[dict[str, object]]) -> None:
        if self.output is StatsFormat.json:
            stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            for row in rows:
                print(json.dumps({"time": stamp, **row}), flush=True)
        elif self.live is not None:
            self.live.update(self._table(rows), refresh=True)
        else:
            self.console.print(self._table(rows))
            self.console.file.flush()
