"""``dq-sdk produce``: one message per stdin line (text, or JSON for the structured encodings
and models), or one ``.npy`` array from ``--file``; invalid lines are reported and not sent."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
import sys
import time
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from pydantic import ValidationError

from .._exceptions import DQError, MessageValidationError, SchemaIssue
from .._headers import describing_headers
from .._message import WireMessage
from .._models._base import issues_from_pydantic
from .._models._dataset import DatasetMessage
from .._models._structured import StructuredRow
from .._models._xarray_layout import require_xarray
from .._sender import PayloadSender
from .._settings import ProducerSettings, connection_from
from .._transport import RecordMetadata
from ..codecs import Encoding, encode
from ._common import (
    BootstrapOption,
    CliError,
    ConnectTimeoutOption,
    DebugOption,
    Transport,
    TransportOption,
    UsageError,
    connection,
    run,
    topics_or_url,
)
from ._models import array_of, model_named

__all__ = ["line_value", "model_value", "produce"]

#: Deliveries awaited together: enough to keep the producer's batches full.
_IN_FLIGHT = 2000


class LineError(Exception):
    """A stdin line that cannot become a message: reported with its line number, not sent."""


def _header_pairs(values: list[str] | None) -> list[tuple[str, bytes]]:
    pairs = []
    for item in values or []:
        key, eq, value = item.partition("=")
        if not eq or not key:
            raise UsageError(f"--header {item!r}: expected KEY=VALUE, e.g. origin=pointing-test")
        if key.startswith("dq-"):
            raise UsageError(
                f"--header {item!r}: dq-* headers describe the message and are set by dq-sdk"
            )
        pairs.append((key, value.encode("utf-8")))
    return pairs


def line_value(line: str, encoding: Encoding) -> object:
    """The value a stdin line stands for under ``encoding``: text as it is for utf-8 and ascii,
    JSON for the others (an array for npy, ``Dataset.to_dict()`` form for xarray)."""
    if encoding in (Encoding.UTF8, Encoding.ASCII):
        return line
    try:
        parsed = json.loads(line)
    except json.JSONDecodeError as exc:
        raise LineError(f"not JSON ({exc.msg} at column {exc.colno})") from None
    if encoding is Encoding.NPY:
        array = np.asarray(parsed)
        if array.dtype.kind not in "biuf":
            raise LineError(f"npy takes a JSON array of numbers, not {type(parsed).__name__}")
        return array
    if encoding is Encoding.XARRAY:
        return _dataset(parsed)
    return parsed


def _dataset(parsed: object) -> object:
    xarray = require_xarray("sending xarray Datasets")
    if not isinstance(parsed, dict):
        raise LineError("an xarray Dataset line is a JSON object in Dataset.to_dict() form")
    for group in ("coords", "data_vars"):
        for variable in (parsed.get(group) or {}).values():
            if isinstance(variable, dict) and _has_null(variable.get("data")):
                # null is how dq-sdk writes NaN in JSON (consume --format json): read it back.
                # Not numbers: left as they are, for xarray and the codec to refuse clearly.
                with contextlib.suppress(TypeError, ValueError):
                    variable["data"] = np.asarray(variable["data"], dtype=np.float64)
    try:
        return xarray.Dataset.from_dict(parsed)
    except (ValueError, KeyError, TypeError) as exc:
        raise LineError(f"not a Dataset in Dataset.to_dict() form: {exc}") from None


def _has_null(data: object) -> bool:
    if isinstance(data, list):
        return any(_has_null(item) for item in data)
    return data is None


def _issue_text(issue: SchemaIssue) -> str:
    text = f"{issue.path or '<root>'}: {issue.message}"
    if issue.found is not None:
        text += f" (found {issue.found!r})"
    return text


def _issues_text(model: str, issues: list[SchemaIssue]) -> str:
    return f"not a valid {model}: " + "; ".join(_issue_text(issue) for issue in issues)


def model_value(parsed: object, model: type[WireMessage]) -> object:
    """The wire value of ``model`` for one parsed JSON line, validated; ``LineError`` lists
    every field that is wrong."""
    name = model.__name__
    try:
        if isinstance(model, type) and issubclass(model, StructuredRow):
            rows = parsed if isinstance(parsed, list) else [parsed]
            built, issues = [], []
            for index, row in enumerate(rows):
                if not isinstance(row, dict):
                    issues.append(
                        SchemaIssue(
                            f"[{index}]", "a row is a JSON object", type(row).__name__, "object"
                        )
                    )
                    continue
                try:
                    built.append(model.model_validate(row))
                except ValidationError as exc:
                    prefix = f"[{index}]." if isinstance(parsed, list) else ""
                    issues.extend(
                        SchemaIssue(prefix + i.path, i.message, i.found, i.expected)
                        for i in issues_from_pydantic(exc)
                    )
            if issues:
                raise LineError(_issues_text(name, issues))
            return array_of(model).from_rows(built).to_wire()
        if isinstance(model, type) and issubclass(model, DatasetMessage):
            return model.from_wire(_dataset(parsed)).to_wire()
        return model.from_wire(parsed).to_wire()
    except MessageValidationError as exc:
        raise LineError(_issues_text(name, list(exc.issues))) from None
    except ValidationError as exc:
        raise LineError(_issues_text(name, issues_from_pydantic(exc))) from None


def _file_value(path: Path, model: type[WireMessage] | None) -> object:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"--file {str(path)!r}: {exc.strerror}") from None
    try:
        array = np.load(io.BytesIO(data), allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise UsageError(f"--file {str(path)!r} is not an .npy array ({exc})") from None
    if not isinstance(array, np.ndarray):
        raise UsageError(f"--file {str(path)!r}: an .npy file with one array, not an archive")
    if model is None:
        return array
    if not (isinstance(model, type) and issubclass(model, StructuredRow)):
        raise UsageError(f"--file takes an array; --model {model.__name__} is not an array model")
    try:
        return array_of(model).from_wire(array).to_wire()
    except MessageValidationError as exc:
        problems = _issues_text(model.__name__, list(exc.issues))
        raise CliError(f"--file {str(path)!r}: {problems}") from None


def produce(
    topic: Annotated[str | None, typer.Argument(help="Topic to send to.")] = None,
    encoding: Annotated[
        Encoding | None,
        typer.Option(
            "--encoding",
            "-e",
            help="How to encode each line [default: utf-8; npy with --file].",
            show_default=False,
        ),
    ] = None,
    model: Annotated[
        str | None,
        typer.Option("--model", "-m", help="Validate each JSON line as this model, then send."),
    ] = None,
    key: Annotated[str | None, typer.Option("--key", "-k", help="Message key.")] = None,
    header: Annotated[
        list[str] | None, typer.Option("--header", "-H", help="KEY=VALUE; repeat for more.")
    ] = None,
    file: Annotated[
        Path | None, typer.Option("--file", help="Send this .npy array as one message.")
    ] = None,
    partition: Annotated[int | None, typer.Option("--partition", "-p", min=0)] = None,
    bootstrap: BootstrapOption = None,
    transport: TransportOption = Transport.aiokafka,
    connect_timeout: ConnectTimeoutOption = 15.0,
    debug: DebugOption = False,
) -> int:
    """Send one message per stdin line (or one .npy array with --file).

    utf-8 and ascii send each line as text; json, msgpack_numpy, npy and xarray read each line
    as JSON. With --model each JSON line is validated first: an invalid line is reported with
    its line number and fields, is not sent, and the exit code is 1 at the end.
    """
    if encoding is not None and model is not None:
        raise UsageError("give --encoding or --model, not both (a model has its encoding)")
    chosen = model_named(model) if model is not None else None
    if chosen is not None:
        wire_encoding = chosen.encoding
    else:
        wire_encoding = encoding or (Encoding.NPY if file is not None else Encoding.UTF8)
    extra = _header_pairs(header)
    conn = connection(bootstrap, transport, connect_timeout)
    (target,) = topics_or_url([topic] if topic else None, conn, what="produce")
    headers = describing_headers(wire_encoding, chosen, extra)

    if file is not None:
        values = _listed([(1, _file_value(file, chosen))])
    else:
        if sys.stdin.isatty():
            print("dq-sdk produce: one message per line; Ctrl-D ends", file=sys.stderr)
        values = _stdin_values(wire_encoding, chosen)

    started = time.perf_counter()
    sent, size, bad = run(
        _send(
            conn.bootstrap, conn.options(), target, values, wire_encoding, key, headers, partition
        )
    )
    elapsed = max(time.perf_counter() - started, 1e-9)
    print(
        f"sent {sent} message(s), {size / 2**20:.2f} MiB, to {target!r} in {elapsed:.2f} s "
        f"({sent / elapsed:.0f} msg/s)",
        file=sys.stderr,
    )
    if bad:
        raise CliError(f"{bad} line(s) were invalid and not sent (listed above)")
    return 0


async def _stdin_lines() -> AsyncIterator[bytes]:
    """stdin's lines as they come: read in a thread, so deliveries go on while it waits."""
    buffered = b""
    while True:
        chunk = await asyncio.to_thread(os.read, sys.stdin.fileno(), 1 << 16)
        if not chunk:
            break
        buffered += chunk
        *lines, buffered = buffered.split(b"\n")
        for line in lines:
            yield line
    if buffered:
        yield buffered


async def _stdin_values(
    encoding: Encoding, model: type[WireMessage] | None
) -> AsyncIterator[tuple[int, object]]:
    """(line number, value) per non-empty stdin line; a bad line yields its LineError."""
    number = 0
    async for raw in _stdin_lines():
        number += 1
        try:
            line = raw.rstrip(b"\r").decode("utf-8")
        except UnicodeDecodeError as exc:
            yield number, LineError(f"not UTF-8 text (byte {exc.start})")
            continue
        if not line.strip():
            continue
        try:
            if model is None:
                yield number, line_value(line, encoding)
            else:
                yield number, model_value(line_value(line, Encoding.JSON), model)
        except LineError as exc:
            yield number, exc


async def _listed(values: Iterable[tuple[int, object]]) -> AsyncIterator[tuple[int, object]]:
    for item in values:
        yield item


async def _send(
    bootstrap: str,
    options: dict[str, Any],
    topic: str,
    values: AsyncIterator[tuple[int, object]],
    encoding: Encoding,
    key: str | None,
    headers: list[tuple[str, bytes]],
    partition: int | None,
) -> tuple[int, int, int]:
    """Send every good value; report bad ones on stderr. Returns (sent, bytes, bad)."""
    sent = size = bad = 0
    pending: list[asyncio.Future[RecordMetadata]] = []
    # The path of every library producer: typed settings (checked, with dq-sdk's defaults).
    sender = PayloadSender(connection_from(bootstrap, options), ProducerSettings())
    await sender.start()
    try:
        async for number, value in values:
            if isinstance(value, LineError):
                bad += 1
                print(f"dq-sdk produce: line {number}: {value}", file=sys.stderr, flush=True)
                continue
            try:
                payload = encode(value, encoding)
            except DQError as exc:
                bad += 1
                print(f"dq-sdk produce: line {number}: {exc}", file=sys.stderr, flush=True)
                continue
            future = await sender.enqueue(
                topic, payload, key=key, headers=headers, partition=partition, timestamp_ms=None
            )
            pending.append(future)
            size += len(payload)
            if len(pending) >= _IN_FLIGHT:
                for done in pending:
                    await sender.delivered(done, topic)
                sent += len(pending)
                pending = []
        for done in pending:
            await sender.delivered(done, topic)
        sent += len(pending)
    finally:
        await sender.stop()
    return sent, size, bad
