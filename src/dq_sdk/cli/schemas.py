"""``dq-sdk schemas``: list and show the schemas, check compatibility and version rules.

``compat`` and ``versions`` exit 1 when they find a breaking change or a version problem, so
CI can run them as they are.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Annotated, Any

import typer

from ..schema_tools import (
    CompatMode,
    CompatPolicy,
    SchemaDocument,
    check_against,
    check_versions_against,
    load_folder,
    load_shipped,
)

__all__ = ["app", "schema_documents"]

app = typer.Typer(
    help="JSON Schemas of the message models: list, show, compatibility, version rules.",
    no_args_is_help=True,
)

SchemasOption = Annotated[
    Path, typer.Option("--schemas", help="Folder of *.json schemas.", show_default=True)
]
# list/show/json-schema read what the installed dq-sdk speaks unless given a folder, so they
# work anywhere; compat/versions compare a checkout's folder with git history, so it stays there.
ShippedOrFolderOption = Annotated[
    Path | None,
    typer.Option(
        "--schemas",
        help="Folder of *.json schemas. Default: the schemas this dq-sdk was generated from.",
    ),
]


def schema_documents(schemas: Path | None) -> dict[str, SchemaDocument]:
    """The folder's schemas, or without one those this dq-sdk was generated from."""
    return load_shipped() if schemas is None else load_folder(schemas)


ModeOption = Annotated[
    CompatMode,
    typer.Option(
        "--mode",
        case_sensitive=False,
        help="backward: new consumers read old data; forward: old consumers read new data; "
        "full: both.",
    ),
]
PolicyOption = Annotated[
    CompatPolicy,
    typer.Option(
        "--policy",
        case_sensitive=False,
        help="strict: Schema Registry's rule, adding a property to an open content model "
        "breaks; lenient: it does not (dq-sdk writers send only declared properties).",
    ),
]


def _find(name: str, schemas: Path | None) -> SchemaDocument:
    documents = schema_documents(schemas)
    for document in documents.values():
        if name in (document.name, document.content.get("title")):
            return document
    known = ", ".join(sorted(documents)) or "none"
    where = "dq-sdk's schemas" if schemas is None else str(schemas)
    raise typer.BadParameter(f"no schema {name!r} in {where} (known: {known})")


@app.command("list")
def list_schemas(schemas: ShippedOrFolderOption = None) -> None:
    """One line per schema: file name, model, version, encoding, $id."""
    rows = [
        (
            doc.name,
            str(doc.content.get("title", "")),
            doc.version or "?",
            str(doc.content.get("x-encoding", "")),
            str(doc.content.get("$id", "")),
        )
        for doc in schema_documents(schemas).values()
    ]
    header = ("NAME", "MODEL", "VERSION", "ENCODING", "ID")
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header) - 1)]
    for row in [header, *rows]:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        typer.echo("  ".join([*cells, row[-1]]).rstrip())


@app.command("show")
def show(
    name: Annotated[str, typer.Argument(help="Schema file name or model name.")],
    schemas: ShippedOrFolderOption = None,
) -> None:
    """A summary of one schema: identity, encoding and fields."""
    document = _find(name, schemas)
    content = document.content
    typer.echo(f"{content.get('title', document.name)} {document.version or '?'}")
    typer.echo(f"  file:     {document.source}")
    typer.echo(f"  id:       {content.get('$id', '')}")
    typer.echo(f"  encoding: {content.get('x-encoding', '')}")
    required = set(content.get("required", []))
    properties: dict[str, Any] = content.get("properties", {})
    if properties:
        typer.echo("  fields:")
        for field, schema in properties.items():
            kind = _kind(schema)
            mark = "" if field in required else " (optional)"
            dtype = f" dtype {schema['x-dtype']}" if "x-dtype" in schema else ""
            typer.echo(f"    {field}: {kind}{dtype}{mark}")
    layout: dict[str, Any] = content.get("x-xarray", {})
    for section in ("coords", "data_vars"):
        for variable, spec in layout.get(section, {}).items():
            mark = " (optional)" if spec.get("optional") else ""
            typer.echo(f"    {section}.{variable}: {spec.get('dtype')} {spec.get('dims')}{mark}")


def _kind(schema: dict[str, Any]) -> str:
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    if "const" in schema:
        return json.dumps(schema["const"])
    if "enum" in schema:
        return " | ".join(json.dumps(v) for v in schema["enum"])
    if "anyOf" in schema:
        return " | ".join(_kind(option) for option in schema["anyOf"])
    if "customTypePath" in schema:  # the Python type dq-sdk gives it (FloatArray...)
        return str(schema["customTypePath"]).rsplit(".", 1)[-1]
    if schema.get("type") == "array" and isinstance(schema.get("items"), dict):
        return f"array of {_kind(schema['items'])}"
    return str(schema.get("type", "any"))


@app.command("json-schema")
def json_schema(
    name: Annotated[str, typer.Argument(help="Schema file name or model name.")],
    schemas: ShippedOrFolderOption = None,
) -> None:
    """Print one schema's JSON Schema document."""
    typer.echo(json.dumps(_find(name, schemas).content, indent=2))


@app.command("compat")
def compat(
    against: Annotated[
        str, typer.Option("--against", help="A git ref (main, v1.2.0, a commit) or a folder.")
    ],
    mode: ModeOption = CompatMode.BACKWARD,
    policy: PolicyOption = CompatPolicy.LENIENT,
    transitive: Annotated[
        bool,
        typer.Option(
            "--transitive", help="Check against every earlier version in the ref's history."
        ),
    ] = False,
    schemas: SchemasOption = Path("schemas"),
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the reports as JSON (for scripts).")
    ] = False,
) -> None:
    """Check every schema against the same schema in AGAINST; exit 1 on a breaking change."""
    reports = check_against(
        against, schemas_dir=schemas, mode=mode, policy=policy, transitive=transitive
    )
    if as_json:
        typer.echo(json.dumps([dataclasses.asdict(report) for report in reports], indent=2))
        if any(report.breaking for report in reports):
            raise typer.Exit(1)
        return
    broken = 0
    for report in reports:
        if report.note:
            typer.echo(f"{report.schema} {report.version}: {report.note}")
            continue
        versions = ", ".join(report.compared_with)
        if report.compatible:
            typer.echo(
                f"{report.schema} {report.version}: compatible ({mode.value}) with {versions}"
            )
            continue
        broken += len(report.breaking)
        typer.echo(
            f"{report.schema} {report.version}: {len(report.breaking)} breaking change(s) "
            f"({mode.value}) against {versions}"
        )
        for change in report.breaking:
            typer.echo(f"  - {change.path}: {change.reason}")
            typer.echo(
                f"    [{change.kind}; {change.direction}: version {change.reader} reading "
                f"version {change.writer} data]"
            )
    if broken:
        raise typer.Exit(1)


@app.command("versions")
def versions(
    against: Annotated[
        str | None,
        typer.Option(
            "--against",
            help="A git ref or a folder (default: the merge base of HEAD with main).",
        ),
    ] = None,
    mode: ModeOption = CompatMode.BACKWARD,
    policy: PolicyOption = CompatPolicy.LENIENT,
    schemas: SchemasOption = Path("schemas"),
) -> None:
    """Check that every changed schema raised its x-version (major for a breaking change)."""
    compared, problems = check_versions_against(
        against, schemas_dir=schemas, mode=mode, policy=policy
    )
    where = compared or "nothing (no merge base with main): version syntax only"
    for problem in problems:
        typer.echo(str(problem))
    if problems:
        typer.echo(f"{len(problems)} version problem(s) against {where}")
        raise typer.Exit(1)
    typer.echo(f"schema versions follow their changes (against {where})")
