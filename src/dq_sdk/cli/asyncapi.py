"""``dq-sdk asyncapi``: write the AsyncAPI 3.0 document of the schemas' topics."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from .. import __version__
from ..schema_tools import asyncapi_document, load_channels
from .schemas import schema_documents

__all__ = ["command"]


def command(
    channels: Annotated[
        Path | None,
        typer.Option(
            "--channels",
            help='JSON or TOML file mapping topics to models: {"pointing_offset": '
            '"PointingNumpyArray"}. Default: one channel per schema, topic left open.',
        ),
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")
    ] = None,
    server: Annotated[
        list[str] | None,
        typer.Option("--server", help="Kafka bootstrap host:port or kafka://host:port (repeat)."),
    ] = None,
    title: Annotated[str, typer.Option("--title", help="info.title")] = "dq-sdk data queues",
    schemas: Annotated[
        Path | None,
        typer.Option(
            "--schemas",
            help="Folder of *.json schemas. Default: the schemas this dq-sdk was generated from.",
        ),
    ] = None,
) -> None:
    """Write an AsyncAPI 3.0 document: channels, messages, payload schemas and headers."""
    document = asyncapi_document(
        schema_documents(schemas),
        load_channels(channels) if channels is not None else None,
        title=title,
        version=__version__,
        servers=server or (),
    )
    text = json.dumps(document, indent=2) + "\n"
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {output}", err=True)
