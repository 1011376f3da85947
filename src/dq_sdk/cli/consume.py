"""``dq-sdk consume``: read messages, decoded by their own headers, as previews, JSON or raw."""

from __future__ import annotations

import datetime as dt
import json
import sys
import time
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated

import typer
from rich.console import Group
from rich.text import Text

from .._admin import Admin
from .._exceptions import DQError
from .._message import WireMessage
from .._transport import FetchedRecord
from ..codecs import Encoding
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
    err_console,
    out_console,
    run,
    topics_or_url,
)
from ._models import model_named
from ._records import Decoded, RecordStream, decode_record
from ._render import json_value, preview, timestamp_text

__all__ = ["StartAt", "consume", "parse_start"]

#: How long a consumer that joins a group may wait for its partitions.
_ASSIGNMENT_WAIT_S = 120.0


class OutputFormat(StrEnum):
    table = "table"
    json = "json"
    raw = "raw"


@dataclass(frozen=True)
class StartAt:
    """Where ``--from`` says to start: one of the three fields, or ``end``."""

    beginning: bool = False
    end: bool = False
    offset: int | None = None
    time: dt.datetime | None = None


def parse_start(text: str) -> StartAt:
    """``beginning``, ``end``, an offset (``42``) or ``@`` and an ISO-8601 time."""
    value = text.strip()
    if value.lower() in ("beginning", "earliest", "start"):
        return StartAt(beginning=True)
    if value.lower() in ("end", "latest"):
        return StartAt(end=True)
    if value.isdigit():
        return StartAt(offset=int(value))
    if value.startswith("@"):
        try:
            when = dt.datetime.fromisoformat(value[1:].replace("Z", "+00:00"))
        except ValueError:
            when = None
        if when is not None:
            return StartAt(time=when if when.tzinfo else when.replace(tzinfo=dt.UTC))
    raise UsageError(
        f"--from {text!r}: expected beginning, end, an offset (e.g. 42) or "
        "@ISO-TIME (e.g. @2026-12-01T12:00:00Z; without a zone it is UTC)"
    )


def consume(
    topics: Annotated[list[str] | None, typer.Argument(help="Topics to read.")] = None,
    start: Annotated[
        str | None,
        typer.Option(
            "--from",
            help="beginning | end | OFFSET | @ISO-TIME. Default: beginning, or the group's "
            "committed offsets with --group.",
            show_default=False,
        ),
    ] = None,
    count: Annotated[
        int | None, typer.Option("--count", "-n", min=1, help="Stop after N messages.")
    ] = None,
    follow: Annotated[
        bool,
        typer.Option("--follow/--no-follow", help="Wait for new messages, or stop at the end."),
    ] = True,
    group: Annotated[
        str | None,
        typer.Option("--group", "-g", help="Consumer group: resume from and commit its offsets."),
    ] = None,
    partition: Annotated[
        int | None, typer.Option("--partition", "-p", min=0, help="Read only this partition.")
    ] = None,
    output: Annotated[
        OutputFormat, typer.Option("--format", "-f", help="table | json (one per line) | raw.")
    ] = OutputFormat.table,
    encoding: Annotated[
        Encoding | None,
        typer.Option("--encoding", "-e", help="Decode every message so (ignore its headers)."),
    ] = None,
    model: Annotated[
        str | None, typer.Option("--model", "-m", help="Decode and validate as this model.")
    ] = None,
    delimiter: Annotated[
        str, typer.Option("--delimiter", help="--format raw: bytes written after each value.")
    ] = "\n",
    bootstrap: BootstrapOption = None,
    transport: TransportOption = Transport.aiokafka,
    connect_timeout: ConnectTimeoutOption = 15.0,
    debug: DebugOption = False,
) -> int:
    """Read messages and print them: a preview per message (table), one JSON object per line
    (json: topic, partition, offset, timestamp, key, headers, value) or the value bytes (raw).

    Each message is decoded by its own headers (encoding and schema) unless --encoding or
    --model says otherwise; one that does not decode is reported on stderr and skipped.
    """
    if encoding is not None and model is not None:
        raise UsageError("give --encoding or --model, not both (a model has its encoding)")
    chosen_model = model_named(model) if model is not None else None
    start_at = parse_start(start) if start is not None else None
    conn = connection(bootstrap, transport, connect_timeout)
    names = topics_or_url(topics, conn, what="consume")
    reader = _Reader(conn, names, start_at, count, follow, group, partition)
    printer = _Printer(output, encoding, chosen_model, delimiter.encode())
    run(reader.run(printer))
    if printer.bad:
        err_console().print(f"{printer.bad} message(s) could not be decoded (see above)")
    return 0


class _Printer:
    def __init__(
        self,
        output: OutputFormat,
        encoding: Encoding | None,
        model: type[WireMessage] | None,
        delimiter: bytes,
    ) -> None:
        self.output, self.encoding, self.model = output, encoding, model
        self.delimiter = delimiter
        self.console = out_console()
        self.errors = err_console()
        self.bad = 0

    def show(self, record: FetchedRecord) -> None:
        if self.output is OutputFormat.raw:
            sys.stdout.buffer.write(record.value + self.delimiter)
            sys.stdout.buffer.flush()
            return
        decoded = decode_record(record, self.encoding, self.model)
        where = f"{record.topic}[{record.partition}]@{record.offset}"
        if decoded.problem is not None:
            self.bad += 1
            print(f"dq-sdk: {where}: {decoded.problem}", file=sys.stderr, flush=True)
            if self.model is not None or decoded.encoding is None:
                return
        if self.output is OutputFormat.json:
            print(json.dumps(_json_object(record, decoded), ensure_ascii=False), flush=True)
            return
        kind = (
            decoded.model
            or decoded.encoding
            or ("text" if isinstance(decoded.value, str) else "bytes")
        )
        key = "" if record.key is None else f"  key={record.key.decode('utf-8', 'replace')!r}"
        headline = Text(
            f"{where}  {timestamp_text(record.timestamp) or '-'}  {kind}{key}", style="bold"
        )
        self.console.print(Group(headline, preview(decoded.value)))
        self.console.file.flush()


def _json_object(record: FetchedRecord, decoded: Decoded) -> dict[str, object]:
    key: str | None = None
    obj: dict[str, object] = {
        "topic": record.topic,
        "partition": record.partition,
        "offset": record.offset,
        "timestamp": timestamp_text(record.timestamp),
    }
    if record.key is not None:
        try:
            key = record.key.decode("utf-8")
        except UnicodeDecodeError:
            obj["key_base64"] = json_value(record.key)
    obj["key"] = key
    obj["headers"] = {k: v.decode("utf-8", "backslashreplace") for k, v in record.headers}
    obj["encoding"] = decoded.encoding
    obj["model"] = decoded.model
    obj["value"] = json_value(decoded.value)
    return obj


class _Reader:
    """Chooses partitions, positions the stream, and stops at --count or the end."""

    def __init__(
        self,
        conn: Connection,
        topics: list[str],
        start: StartAt | None,
        count: int | None,
        follow: bool,
        group: str | None,
        partition: int | None,
    ) -> None:
        self.conn, self.topics, self.start = conn, topics, start
        self.count, self.follow, self.group, self.partition = count, follow, group, partition
        # Without --from a group resumes where it was; everything else is assigned by hand.
        self.subscribe = group is not None and start is None and partition is None

    async def _pairs(self) -> list[tuple[str, int]]:
        async with Admin(self.conn.bootstrap, **self.conn.options()) as admin:
            infos = {i.name: i.partitions for i in await admin.describe_topics(self.topics)}
        missing = [t for t in self.topics if t not in infos]
        if missing:
            raise CliError(
                f"no such topic on {self.conn.bootstrap}: {', '.join(map(repr, missing))}"
            )
        if self.partition is not None:
            short = [t for t in self.topics if infos[t] <= self.partition]
            if short:
                counts = ", ".join(f"{t!r} has {infos[t]}" for t in short)
                raise UsageError(f"--partition {self.partition} does not exist ({counts})")
            return [(t, self.partition) for t in self.topics]
        return [(t, p) for t in self.topics for p in range(infos[t])]

    async def _position(self, stream: RecordStream) -> None:
        start = self.start
        if start is None or start.beginning:
            await stream.seek_to_beginning()
        elif start.end:
            await stream.seek_to_end()
        elif start.time is not None:
            await stream.seek_to_time(start.time)
        elif start.offset is not None:
            marks = await stream.high_watermarks(max_age_s=0.0)
            # Past the end means "from the next new message", as kcat does.
            await stream.seek_many({pair: min(start.offset, mark) for pair, mark in marks.items()})

    async def run(self, printer: _Printer) -> None:
        pairs = await self._pairs()
        stream = RecordStream(
            self.conn,
            topics=self.topics if self.subscribe else None,
            group_id=self.group,
            auto_offset_reset="earliest",
        )
        if not self.subscribe:
            stream.assign_topics(pairs)
        async with stream:
            ends: dict[tuple[str, int], int] | None = None
            if not self.subscribe:
                await self._position(stream)
                if not self.follow:
                    ends = await stream.high_watermarks(max_age_s=0.0)
            done: dict[tuple[str, int], int] = {}
            shown = 0
            joined_by = time.monotonic() + _ASSIGNMENT_WAIT_S
            idle = True  # nothing received since the last look: ask for positions
            while self.count is None or shown < self.count:
                if ends is None and not self.follow and stream.assignment():
                    ends = await stream.high_watermarks(max_age_s=0.0)
                if ends is not None and await _at_end(stream, ends, done, ask=idle):
                    return
                if ends is None and not self.follow and time.monotonic() > joined_by:
                    raise CliError(
                        f"group {self.group!r} assigned no partition to this consumer within "
                        f"{_ASSIGNMENT_WAIT_S:g} s (more members than partitions?)"
                    )
                try:
                    record = await stream.receive(timeout_s=0.5)
                except TimeoutError:
                    idle = True
                    continue
                except DQError as exc:  # e.g. a chunked message that never completed
                    printer.bad += 1
                    print(f"dq-sdk: {exc}", file=sys.stderr, flush=True)
                    continue
                idle = False
                done[(record.topic, record.partition)] = record.offset + 1
                printer.show(record)
                shown += 1


async def _at_end(
    stream: RecordStream,
    ends: dict[tuple[str, int], int],
    done: dict[tuple[str, int], int],
    *,
    ask: bool,
) -> bool:
    """Whether every partition has been read up to the high-water mark seen at the start."""
    waiting = {pair for pair, end in ends.items() if done.get(pair, -1) < end}
    if not waiting:
        return True
    if not ask:
        return False
    # Offsets without a message (an empty partition, transaction markers) end no record:
    # ask where the stream stands.
    positions = await stream.positions()
    return all(positions.get(pair, 0) >= ends[pair] for pair in waiting)
