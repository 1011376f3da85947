"""Schema Registry's compatibility rules for plain JSON Schema, with the path of every change.

The walk follows Confluent Schema Registry's ``SchemaDiff``: each difference between a writer
schema (``original``) and a reader schema (``update``) gets one of its ``Difference.Type`` names,
and a fixed set of those names is compatible. ``additionalProperties`` decides whether a schema
has an open, closed or partially open content model, and that decides whether adding or removing
a property is compatible. No library does this with paths and reasons (docs/decisions.md), so
it is written here; keywords our schemas do not use are compared conservatively (any change to
them is reported as incompatible).

Local ``$ref``s (``#/...``) are followed; a change inside a referenced definition is reported
once, at the definition's own path (``#/$defs/SpectralWindow/...``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

from ._report import CompatPolicy, Difference

__all__ = ["COMPATIBLE_KINDS", "LENIENT_KINDS", "SchemaWalker", "is_compatible"]

#: Schema Registry's compatible difference types (and dq-sdk's compatible extension kinds).
COMPATIBLE_KINDS = frozenset(
    {
        "ID_CHANGED",
        "DESCRIPTION_CHANGED",
        "TITLE_CHANGED",
        "DEFAULT_CHANGED",
        "SCHEMA_REMOVED",
        "TYPE_EXTENDED",
        "MAX_LENGTH_INCREASED",
        "MAX_LENGTH_REMOVED",
        "MIN_LENGTH_DECREASED",
        "MIN_LENGTH_REMOVED",
        "PATTERN_REMOVED",
        "FORMAT_REMOVED",
        "MAXIMUM_INCREASED",
        "MAXIMUM_REMOVED",
        "MINIMUM_DECREASED",
        "MINIMUM_REMOVED",
        "EXCLUSIVE_MAXIMUM_INCREASED",
        "EXCLUSIVE_MAXIMUM_REMOVED",
        "EXCLUSIVE_MINIMUM_DECREASED",
        "EXCLUSIVE_MINIMUM_REMOVED",
        "MULTIPLE_OF_REDUCED",
        "MULTIPLE_OF_REMOVED",
        "REQUIRED_ATTRIBUTE_WITH_DEFAULT_ADDED",
        "REQUIRED_ATTRIBUTE_REMOVED",
        "MAX_PROPERTIES_INCREASED",
        "MAX_PROPERTIES_REMOVED",
        "MIN_PROPERTIES_DECREASED",
        "MIN_PROPERTIES_REMOVED",
        "ADDITIONAL_PROPERTIES_ADDED",
        "ADDITIONAL_PROPERTIES_EXTENDED",
        "PROPERTY_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL",
        "REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_UNOPEN_CONTENT_MODEL",
        "OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL",
        "PROPERTY_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL",
        "PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL",
        "PROPERTY_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
        "PROPERTY_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
        "MAX_ITEMS_INCREASED",
        "MAX_ITEMS_REMOVED",
        "MIN_ITEMS_DECREASED",
        "MIN_ITEMS_REMOVED",
        "UNIQUE_ITEMS_REMOVED",
        "ENUM_ARRAY_EXTENDED",
        "SUM_TYPE_EXTENDED",
        "PRODUCT_TYPE_NARROWED",
        # dq-sdk's extension keywords (see _extension_rules)
        "XARRAY_VARIABLE_REMOVED",
        "XARRAY_OPTIONAL_VARIABLE_ADDED",
        "XARRAY_VARIABLE_MADE_OPTIONAL",
        "ITEMS_BY_TAG_ADDED",
    }
)

#: Compatible too under ``CompatPolicy.LENIENT``: writers send only the properties they declare.
LENIENT_KINDS = frozenset(
    {
        "PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL",
        "PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
    }
)

# Keywords that only annotate: changing them never changes which data is valid.
_ANNOTATIONS = frozenset(
    {"title", "description", "default", "examples", "$comment", "deprecated", "readOnly"}
    | {"writeOnly", "$schema", "$id", "$defs", "definitions", "customTypePath"}
    | {"customBasePath"}
)
# Keywords this module compares; any other non-``x-`` keyword is compared by value.
_HANDLED = frozenset(
    {"type", "enum", "const", "anyOf", "oneOf", "allOf", "$ref", "properties", "required"}
    | {"additionalProperties", "patternProperties", "items", "prefixItems"}
    | {"maxLength", "minLength", "pattern", "format", "maximum", "minimum"}
    | {"exclusiveMaximum", "exclusiveMinimum", "multipleOf", "maxItems", "minItems"}
    | {"uniqueItems", "maxProperties", "minProperties", "not"}
)
_ALL_TYPES = frozenset({"null", "boolean", "object", "array", "number", "integer", "string"})


def is_compatible(kind: str, policy: CompatPolicy) -> bool:
    return kind in COMPATIBLE_KINDS or (policy is CompatPolicy.LENIENT and kind in LENIENT_KINDS)


def _pointer(path: str, *parts: str | int) -> str:
    escaped = [str(p).replace("~", "~0").replace("/", "~1") for p in parts]
    return "/".join([path, *escaped])


def _show(value: object) -> str:
    return json.dumps(value, sort_keys=True)


class SchemaWalker:
    """Compares a writer schema document with a reader schema document."""

    def __init__(
        self, writer_root: Mapping[str, Any], reader_root: Mapping[str, Any], policy: CompatPolicy
    ) -> None:
        self.writer_root = writer_root
        self.reader_root = reader_root
        self.policy = policy
        self._seen: set[tuple[str, str]] = set()

    # -- entry points -----------------------------------------------------------------------

    def compare(self, writer: object, reader: object, path: str = "#") -> list[Difference]:
        """Every difference at ``path`` and below, compatible ones included."""
        return list(self._compare(writer, reader, path))

    def accepts(self, writer: object, reader: object, path: str = "#") -> bool:
        """Whether every value valid for ``writer`` is read by ``reader`` (no breaking change)."""
        saved = set(self._seen)
        try:
            return all(
                is_compatible(d.kind, self.policy) for d in self._compare(writer, reader, path)
            )
        finally:
            self._seen = saved

    def resolve(self, schema: object, root: Mapping[str, Any], path: str) -> tuple[object, str]:
        """Follow local ``$ref`` chains; return the target and its JSON Pointer."""
        for _ in range(32):  # bounded: a $ref cycle without content is not a schema
            if not (isinstance(schema, Mapping) and isinstance(schema.get("$ref"), str)):
                return schema, path
            ref: str = schema["$ref"]
            if not ref.startswith("#"):
                return schema, path  # remote refs are compared as values
            target: object = root
            for part in [p for p in ref[1:].split("/") if p]:
                part = part.replace("~1", "/").replace("~0", "~")
                if not isinstance(target, Mapping) or part not in target:
                    return schema, path
                target = target[part]
            siblings = {k: v for k, v in schema.items() if k != "$ref"}
            schema = {**target, **siblings} if siblings and isinstance(target, Mapping) else target
            path = ref
        return schema, path

    # -- the walk ---------------------------------------------------------------------------

    def _compare(self, writer: object, reader: object, path: str) -> Iterator[Difference]:
        writer, writer_path = self.resolve(writer, self.writer_root, path)
        reader, reader_path = self.resolve(reader, self.reader_root, path)
        if writer_path != path or reader_path != path:
            key = (writer_path, reader_path)
            if key in self._seen:
                return  # this pair of definitions is (being) compared at its own path
            self._seen.add(key)
            path = reader_path if reader_path != path else writer_path
        if writer is True or writer == {}:
            writer = {}
        if reader is True or reader == {}:
            if writer != {}:
                yield Difference("TYPE_EXTENDED", path, "the reader accepts any value here")
            return
        if writer is False:
            return  # nothing was ever written here
        if reader is False:
            yield Difference("SCHEMA_ADDED", path, "the reader accepts no value here")
            return
        if not isinstance(writer, Mapping) or not isinstance(reader, Mapping):
            if writer != reader:
                yield Difference("TYPE_CHANGED", path, "the schema is not an object or boolean")
            return
        writer, reader = _flatten_all_of(writer), _flatten_all_of(reader)
        if _alternatives(writer) or _alternatives(reader):
            yield from self._combined(writer, reader, path)
            return
        yield from self._plain(writer, reader, path)

    def _combined(
        self, writer: Mapping[str, Any], reader: Mapping[str, Any], path: str
    ) -> Iterator[Difference]:
        """``anyOf`` / ``oneOf``: every writer alternative must be read by a reader alternative."""
        writer_rest = {k: v for k, v in writer.items() if k not in ("anyOf", "oneOf")}
        reader_rest = {k: v for k, v in reader.items() if k not in ("anyOf", "oneOf")}
        writer_options = [{**writer_rest, **_as_dict(o)} for o in _alternatives(writer)] or [
            writer_rest
        ]
        reader_key = "anyOf" if "anyOf" in reader else "oneOf"
        reader_options = _alternatives(reader)
        if not reader_options:
            for index, option in enumerate(writer_options):
                where = _pointer(path, "anyOf" if "anyOf" in writer else "oneOf", index)
                for difference in self._compare(option, reader_rest, path):
                    yield Difference(
                        difference.kind,
                        difference.path,
                        f"{difference.reason} (for values matching {where})",
                    )
            return
        yield from self._plain(writer_rest, reader_rest, path)
        for index, option in enumerate(writer_options):
            if any(self.accepts(option, r, path) for r in reader_options):
                continue
            if len(writer_options) == len(reader_options):
                # The same number of alternatives: most likely one was edited; say how.
                yield from self._compare(
                    option, reader_options[index], _pointer(path, reader_key, index)
                )
                continue
            yield Difference(
                "SUM_TYPE_NARROWED",
                _pointer(path, reader_key),
                f"no {reader_key} alternative of the reader accepts every value of the "
                f"writer's alternative {index}",
            )
        if len(reader_options) > len(writer_options):
            yield Difference("SUM_TYPE_EXTENDED", _pointer(path, reader_key), "alternatives added")

    def _plain(
        self, writer: Mapping[str, Any], reader: Mapping[str, Any], path: str
    ) -> Iterator[Difference]:
        yield from self._types(writer, reader, path)
        yield from self._enum(writer, reader, path)
        yield from _bounds(writer, reader, path)
        yield from self._object(writer, reader, path)
        yield from self._array(writer, reader, path)
        if ("not" in writer or "not" in reader) and _show(writer.get("not")) != _show(
            reader.get("not")
        ):
            yield Difference("NOT_TYPE_EXTENDED", _pointer(path, "not"), "'not' changed")
        for key in sorted((writer.keys() | reader.keys()) - _HANDLED - _ANNOTATIONS):
            if key.startswith("x-"):
                continue  # dq-sdk's extensions have rules of their own (_extension_rules)
            if _show(writer.get(key)) != _show(reader.get(key)):
                yield Difference(
                    "KEYWORD_CHANGED",
                    _pointer(path, key),
                    f"keyword {key!r} changed from {_show(writer.get(key))} to "
                    f"{_show(reader.get(key))} (not compared in detail: treated as breaking)",
                )

    def _types(
        self, writer: Mapping[str, Any], reader: Mapping[str, Any], path: str
    ) -> Iterator[Difference]:
        written, read = _type_set(writer), _type_set(reader)
        if written == read:
            return
        widened_read = read | ({"integer"} if "number" in read else set())
        widened_written = written | ({"integer"} if "number" in written else set())
        where = _pointer(path, "type")
        if written <= widened_read:
            yield Difference("TYPE_EXTENDED", where, f"type widened to {sorted(read)}")
        elif read <= widened_written:
            yield Difference(
                "TYPE_NARROWED",
                where,
                f"type narrowed from {sorted(written)} to {sorted(read)}",
            )
        else:
            yield Difference(
                "TYPE_CHANGED", where, f"type changed from {sorted(written)} to {sorted(read)}"
            )

    def _enum(
        self, writer: Mapping[str, Any], reader: Mapping[str, Any], path: str
    ) -> Iterator[Difference]:
        written, read = _enum_values(writer), _enum_values(reader)
        if read is None or written == read:
            return
        key = "enum" if "enum" in reader else "const"
        if written is None:
            yield Difference(
                "ENUM_ARRAY_NARROWED", _pointer(path, key), f"values restricted to {sorted(read)}"
            )
            return
        removed, added = sorted(written - read), sorted(read - written)
        if removed:
            kind = "ENUM_ARRAY_CHANGED" if added else "ENUM_ARRAY_NARROWED"
            values = ", ".join(removed)
            yield Difference(kind, _pointer(path, key), f"enum value(s) {values} removed")
        else:
            yield Difference("ENUM_ARRAY_EXTENDED", _pointer(path, key), "enum values added")

    def _object(
        self, writer: Mapping[str, Any], reader: Mapping[str, Any], path: str
    ) -> Iterator[Difference]:
        written: Mapping[str, Any] = writer.get("properties", {})
        read: Mapping[str, Any] = reader.get("properties", {})
        written_required = set(writer.get("required", []))
        read_required = set(reader.get("required", []))
        writer_model = _content_model(writer)
        for name in sorted(read_required - written_required):
            schema = read.get(name, {})
            has_default = isinstance(schema, Mapping) and "default" in schema
            where = _pointer(path, "required")
            if name not in written and writer_model != "open":
                kind = "REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL"
            else:
                kind = "REQUIRED_ATTRIBUTE_ADDED"
            if has_default:  # a reader fills the default in: old data without it still reads
                kind = (
                    "REQUIRED_ATTRIBUTE_WITH_DEFAULT_ADDED"
                    if kind == "REQUIRED_ATTRIBUTE_ADDED"
                    else "REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_UNOPEN_CONTENT_MODEL"
                )
            yield Difference(kind, where, f"property {name!r} is required by the reader only")
        for name in sorted(written_required - read_required):
            yield Difference(
                "REQUIRED_ATTRIBUTE_REMOVED", _pointer(path, "required"), f"{name!r} optional"
            )
        for name in sorted(read.keys() - written.keys()):
            yield from self._property_added(writer, name, read[name], read_required, path)
        for name in sorted(written.keys() - read.keys()):
            yield from self._property_removed(reader, name, written[name], path)
        for name in sorted(written.keys() & read.keys()):
            yield from self._compare(written[name], read[name], _pointer(path, "properties", name))
        yield from self._additional(writer, reader, path)
        for pattern in sorted(
            writer.get("patternProperties", {}).keys() & reader.get("patternProperties", {}).keys()
        ):
            yield from self._compare(
                writer["patternProperties"][pattern],
                reader["patternProperties"][pattern],
                _pointer(path, "patternProperties", pattern),
            )

    def _property_added(
        self,
        writer: Mapping[str, Any],
        name: str,
        schema: object,
        read_required: set[str],
        path: str,
    ) -> Iterator[Difference]:
        where = _pointer(path, "properties", name)
        model = _content_model(writer)
        if model == "open":
            if schema is True or schema == {}:
                kind = "PROPERTY_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL"
            else:
                kind = "PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL"
            reason = (
                f"property {name!r} added; the writer's open content model allowed any value "
                "under that name"
            )
        elif model == "closed":
            if name in read_required:
                return  # reported with 'required'
            kind, reason = "OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL", f"{name!r} added"
        else:
            covering = _covering_schema(writer, name)
            covered = self.accepts(covering, schema, where)
            coverage = "IS" if covered else "NOT"
            kind = f"PROPERTY_ADDED_{coverage}_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL"
            reason = f"property {name!r} added; the writer allowed it under its partial model"
        yield Difference(kind, where, reason)

    def _property_removed(
        self, reader: Mapping[str, Any], name: str, schema: object, path: str
    ) -> Iterator[Difference]:
        where = _pointer(path, "properties", name)
        model = _content_model(reader)
        if model == "open":
            yield Difference("PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL", where, f"{name!r} removed")
        elif model == "closed":
            if schema is False:
                kind = "PROPERTY_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL"
            else:
                kind = "PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL"
            yield Difference(
                kind,
                where,
                f"property {name!r} removed; the reader's closed content model "
                "(additionalProperties: false) refuses it in data that has it",
            )
        else:
            covered = self.accepts(schema, _covering_schema(reader, name), where)
            coverage = "IS" if covered else "NOT"
            yield Difference(
                f"PROPERTY_REMOVED_{coverage}_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
                where,
                f"property {name!r} removed; the reader's partial model "
                f"{'accepts' if covered else 'does not accept'} its values",
            )

    def _additional(
        self, writer: Mapping[str, Any], reader: Mapping[str, Any], path: str
    ) -> Iterator[Difference]:
        written = writer.get("additionalProperties", True)
        read = reader.get("additionalProperties", True)
        where = _pointer(path, "additionalProperties")
        if _show(written) == _show(read):
            return
        if read is True or read == {}:
            kind = (
                "ADDITIONAL_PROPERTIES_ADDED"
                if written is False
                else "ADDITIONAL_PROPERTIES_EXTENDED"
            )
            yield Difference(kind, where, "additional properties allowed")
        elif read is False:
            yield Difference(
                "ADDITIONAL_PROPERTIES_REMOVED",
                where,
                "content model closed (additionalProperties: false): data with other "
                "properties is refused",
            )
        elif written is True or written == {}:
            yield Difference(
                "ADDITIONAL_PROPERTIES_NARROWED", where, "additional properties constrained"
            )
        elif written is not False:
            yield from self._compare(written, read, where)

    def _array(
        self, writer: Mapping[str, Any], reader: Mapping[str, Any], path: str
    ) -> Iterator[Difference]:
        if "items" in writer or "items" in reader:
            yield from self._compare(
                writer.get("items", {}), reader.get("items", {}), _pointer(path, "items")
            )
        written = writer.get("prefixItems", [])
        read = reader.get("prefixItems", [])
        for index in range(max(len(written), len(read))):
            where = _pointer(path, "prefixItems", index)
            if index < len(written) and index < len(read):
                yield from self._compare(written[index], read[index], where)
            else:
                yield Difference("KEYWORD_CHANGED", where, "tuple item added or removed")


def _as_dict(schema: object) -> dict[str, Any]:
    return dict(schema) if isinstance(schema, Mapping) else {}


def _alternatives(schema: Mapping[str, Any]) -> list[Any]:
    options = schema.get("anyOf", schema.get("oneOf", []))
    return list(options) if isinstance(options, list) else []


def _flatten_all_of(schema: Mapping[str, Any]) -> Mapping[str, Any]:
    """``allOf`` as one schema: properties merged, required joined (enough for our schemas)."""
    parts = schema.get("allOf")
    if not isinstance(parts, list):
        return schema
    merged: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
    for part in parts:
        for key, value in _as_dict(part).items():
            if key == "properties":
                merged["properties"] = {**merged.get("properties", {}), **value}
            elif key == "required":
                merged["required"] = sorted({*merged.get("required", []), *value})
            else:
                merged.setdefault(key, value)
    return merged


def _type_set(schema: Mapping[str, Any]) -> set[str]:
    declared = schema.get("type")
    if declared is None:
        values = [schema["const"]] if "const" in schema else schema.get("enum")
        if isinstance(values, list):
            return {_json_type(value) for value in values}
        return set(_ALL_TYPES)
    return {declared} if isinstance(declared, str) else set(declared)


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "integer" if value.is_integer() else "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _enum_values(schema: Mapping[str, Any]) -> set[str] | None:
    if "const" in schema:
        return {_show(schema["const"])}
    if isinstance(schema.get("enum"), list):
        return {_show(value) for value in schema["enum"]}
    return None


def _content_model(schema: Mapping[str, Any]) -> str:
    additional = schema.get("additionalProperties", True)
    if schema.get("patternProperties"):
        return "partial"
    if additional is True or additional == {}:
        return "open"
    return "closed" if additional is False else "partial"


def _covering_schema(schema: Mapping[str, Any], name: str) -> object:
    for pattern, sub in schema.get("patternProperties", {}).items():
        if re.search(pattern, name):
            return sub
    return schema.get("additionalProperties", True)


# keyword -> kind prefix; COMPATIBLE_KINDS says which direction of each accepts more
_BOUNDS = (
    ("maxLength", "MAX_LENGTH"),
    ("minLength", "MIN_LENGTH"),
    ("maximum", "MAXIMUM"),
    ("minimum", "MINIMUM"),
    ("exclusiveMaximum", "EXCLUSIVE_MAXIMUM"),
    ("exclusiveMinimum", "EXCLUSIVE_MINIMUM"),
    ("maxItems", "MAX_ITEMS"),
    ("minItems", "MIN_ITEMS"),
    ("maxProperties", "MAX_PROPERTIES"),
    ("minProperties", "MIN_PROPERTIES"),
)


def _bounds(
    writer: Mapping[str, Any], reader: Mapping[str, Any], path: str
) -> Iterator[Difference]:
    for keyword, prefix in _BOUNDS:
        written, read = writer.get(keyword), reader.get(keyword)
        if written == read:
            continue
        where = _pointer(path, keyword)
        if written is None:
            yield Difference(f"{prefix}_ADDED", where, f"{keyword} {read} added")
        elif read is None:
            yield Difference(f"{prefix}_REMOVED", where, f"{keyword} removed")
        else:
            increased = read > written
            change = "INCREASED" if increased else "DECREASED"
            yield Difference(
                f"{prefix}_{change}", where, f"{keyword} changed from {written} to {read}"
            )
    yield from _exact(writer, reader, path, "pattern", "PATTERN")
    yield from _exact(writer, reader, path, "format", "FORMAT")
    written_multiple, read_multiple = writer.get("multipleOf"), reader.get("multipleOf")
    if written_multiple != read_multiple:
        where = _pointer(path, "multipleOf")
        if written_multiple is None:
            yield Difference("MULTIPLE_OF_ADDED", where, f"multipleOf {read_multiple} added")
        elif read_multiple is None:
            yield Difference("MULTIPLE_OF_REMOVED", where, "multipleOf removed")
        elif (written_multiple / read_multiple).is_integer():
            yield Difference("MULTIPLE_OF_REDUCED", where, "multipleOf reduced")
        else:
            yield Difference(
                "MULTIPLE_OF_CHANGED",
                where,
                f"multipleOf changed from {written_multiple} to {read_multiple}",
            )
    if bool(reader.get("uniqueItems")) != bool(writer.get("uniqueItems")):
        where = _pointer(path, "uniqueItems")
        if reader.get("uniqueItems"):
            yield Difference("UNIQUE_ITEMS_ADDED", where, "items must now be unique")
        else:
            yield Difference("UNIQUE_ITEMS_REMOVED", where, "items may repeat")


def _exact(
    writer: Mapping[str, Any], reader: Mapping[str, Any], path: str, keyword: str, prefix: str
) -> Iterator[Difference]:
    written, read = writer.get(keyword), reader.get(keyword)
    if written == read:
        return
    where = _pointer(path, keyword)
    if written is None:
        yield Difference(f"{prefix}_ADDED", where, f"{keyword} {read!r} added")
    elif read is None:
        yield Difference(f"{prefix}_REMOVED", where, f"{keyword} removed")
    else:
        yield Difference(
            f"{prefix}_CHANGED", where, f"{keyword} changed from {written!r} to {read!r}"
        )
