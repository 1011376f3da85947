"""Rules for dq-sdk's own schema keywords, which plain JSON Schema tools cannot judge.

- ``x-encoding``: the wire format. Any change breaks, in both directions: a consumer decodes
  with its model's encoding and refuses a message announcing another (SchemaMismatchError).
- ``$id``: consumers refuse messages whose ``dq-schema-id`` header names another schema.
- ``customBasePath``: the model family (structured row, Dataset, record) decides the wire value.
- ``x-dtype``: a structured numpy dtype is closed and ordered, so a field added, removed,
  moved or of another dtype (kind, size or shape) breaks both ways.
- ``x-xarray``: like xradio, extra variables and coords are accepted; a reader requiring a
  variable or coordinate the writer may lack breaks, and so does another dtype or dims.
- ``x-items-by``: the item model a tag selects; a tag removed breaks readers of old data.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from ._jsonschema_rules import SchemaWalker
from ._report import Difference

__all__ = ["extension_differences"]


def extension_differences(walker: SchemaWalker) -> Iterator[Difference]:
    """Every difference in dq-sdk's keywords between the walker's writer and reader schemas."""
    writer, reader = walker.writer_root, walker.reader_root
    yield from _root_identity(writer, reader)
    yield from _dtype(writer, reader)
    yield from _xarray(walker)
    yield from _items_by(walker)


def _root_identity(writer: Mapping[str, Any], reader: Mapping[str, Any]) -> Iterator[Difference]:
    if writer.get("x-encoding") != reader.get("x-encoding"):
        yield Difference(
            "ENCODING_CHANGED",
            "#/x-encoding",
            f"wire encoding changed from {writer.get('x-encoding')!r} to "
            f"{reader.get('x-encoding')!r}: bytes of one cannot be decoded as the other",
        )
    if writer.get("$id") != reader.get("$id"):
        yield Difference(
            "SCHEMA_ID_CHANGED",
            "#/$id",
            f"$id changed from {writer.get('$id')!r} to {reader.get('$id')!r}: consumers "
            "refuse messages whose dq-schema-id header names another schema",
        )
    if writer.get("customBasePath") != reader.get("customBasePath"):
        yield Difference(
            "MODEL_FAMILY_CHANGED",
            "#/customBasePath",
            f"model base changed from {writer.get('customBasePath')!r} to "
            f"{reader.get('customBasePath')!r}: the wire value has another shape",
        )


def _dtype_fields(schema: Mapping[str, Any]) -> list[tuple[str, str]]:
    properties: Mapping[str, Any] = schema.get("properties", {})
    return [
        (name, str(field["x-dtype"]))
        for name, field in properties.items()
        if isinstance(field, Mapping) and "x-dtype" in field
    ]


def _dtype(writer: Mapping[str, Any], reader: Mapping[str, Any]) -> Iterator[Difference]:
    written, read = _dtype_fields(writer), _dtype_fields(reader)
    if written == read:
        return
    written_map, read_map = dict(written), dict(read)
    closed = (
        "a structured numpy dtype is closed: arrays of one version do not validate as the other"
    )
    for name, dtype in read:
        if name not in written_map:
            yield Difference(
                "DTYPE_FIELD_ADDED",
                f"#/properties/{name}",
                f"dtype field {name!r} ({dtype}) is in the reader's dtype only; {closed}",
            )
        elif written_map[name] != dtype:
            yield Difference(
                "DTYPE_FIELD_CHANGED",
                f"#/properties/{name}/x-dtype",
                f"dtype of field {name!r} changed from {written_map[name]!r} to {dtype!r}",
            )
    for name, _ in written:
        if name not in read_map:
            yield Difference(
                "DTYPE_FIELD_REMOVED",
                f"#/properties/{name}",
                f"dtype field {name!r} is in the writer's dtype only; {closed}",
            )
    shared_written = [n for n, _ in written if n in read_map]
    shared_read = [n for n, _ in read if n in written_map]
    if shared_written != shared_read:
        yield Difference(
            "DTYPE_ORDER_CHANGED",
            "#/properties",
            f"dtype field order changed from {shared_written} to {shared_read}",
        )


def _xarray(walker: SchemaWalker) -> Iterator[Difference]:
    writer: Mapping[str, Any] = walker.writer_root.get("x-xarray", {})
    reader: Mapping[str, Any] = walker.reader_root.get("x-xarray", {})
    if not writer and not reader:
        return
    for section, label in (("coords", "coordinate"), ("data_vars", "data variable")):
        written: Mapping[str, Any] = writer.get(section, {})
        read: Mapping[str, Any] = reader.get(section, {})
        for name in sorted(read.keys() | written.keys()):
            where = f"#/x-xarray/{section}/{name}"
            old, new = written.get(name), read.get(name)
            if new is None:
                yield Difference(
                    "XARRAY_VARIABLE_REMOVED",
                    where,
                    f"{label} {name!r} removed (extra variables are accepted)",
                )
                continue
            required = not new.get("optional", False)
            if old is None or (required and old.get("optional", False)):
                if required:
                    yield Difference(
                        "XARRAY_REQUIRED_VARIABLE_ADDED",
                        where,
                        f"{label} {name!r} is required by the reader, and writer data may lack it",
                    )
                else:
                    yield Difference(
                        "XARRAY_OPTIONAL_VARIABLE_ADDED", where, f"optional {label} {name!r} added"
                    )
                if old is None:
                    continue
            elif not required and not old.get("optional", False):
                yield Difference(
                    "XARRAY_VARIABLE_MADE_OPTIONAL", where, f"{label} {name!r} made optional"
                )
            if old.get("dtype") != new.get("dtype"):
                yield Difference(
                    "XARRAY_DTYPE_CHANGED",
                    f"{where}/dtype",
                    f"dtype of {label} {name!r} changed from {old.get('dtype')!r} to "
                    f"{new.get('dtype')!r}",
                )
            if list(old.get("dims", [])) != list(new.get("dims", [])):
                yield Difference(
                    "XARRAY_DIMS_CHANGED",
                    f"{where}/dims",
                    f"dims of {label} {name!r} changed from {old.get('dims')} to {new.get('dims')}",
                )
    if "attrs" in writer or "attrs" in reader:
        yield from walker.compare(
            writer.get("attrs", {}), reader.get("attrs", {}), "#/x-xarray/attrs"
        )


def _items_by(walker: SchemaWalker) -> Iterator[Difference]:
    writer: Mapping[str, Any] = walker.writer_root.get("x-items-by", {})
    reader: Mapping[str, Any] = walker.reader_root.get("x-items-by", {})
    if not writer and not reader:
        return
    if (writer.get("field"), writer.get("tag")) != (reader.get("field"), reader.get("tag")):
        yield Difference(
            "ITEMS_BY_CHANGED",
            "#/x-items-by",
            f"items are selected by {_show(reader.get('tag'))} for {_show(reader.get('field'))}, "
            f"were by {_show(writer.get('tag'))} for {_show(writer.get('field'))}",
        )
        return
    written: Mapping[str, str] = writer.get("items", {})
    read: Mapping[str, str] = reader.get("items", {})
    for tag in sorted(written.keys() - read.keys()):
        yield Difference(
            "ITEMS_BY_TAG_REMOVED",
            f"#/x-items-by/items/{tag}",
            f"tag {tag!r} no longer selects an item model: readers refuse such data",
        )
    for tag in sorted(read.keys() - written.keys()):
        yield Difference("ITEMS_BY_TAG_ADDED", f"#/x-items-by/items/{tag}", f"tag {tag!r} added")
    for tag in sorted(written.keys() & read.keys()):
        yield from walker.compare(
            {"$ref": f"#/$defs/{written[tag]}"},
            {"$ref": f"#/$defs/{read[tag]}"},
            f"#/x-items-by/items/{tag}",
        )


def _show(value: object) -> str:
    return json.dumps(value)
