"""An AsyncAPI 3.0 document for dq-sdk topics: channels, messages, payload schemas, headers.

Each schema in ``schemas/`` becomes a message; its payload schema goes to
``components.schemas`` as an AsyncAPI Schema Object (a superset of JSON Schema draft 07): the
``$defs`` move beside it (refs rewritten), ``$schema``/``$id`` and datamodel-code-generator's
own keywords are dropped, dq-sdk's ``x-*`` keywords stay (AsyncAPI allows extensions). The
content type names the dq-sdk encoding; the headers are the ``dq-*`` headers every dq-sdk
producer sends (encoding, schema id, schema version).
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import _headers
from .._exceptions import InvalidArgumentError, SchemaToolError
from .._settings import parse_bootstrap
from ..codecs import Encoding
from ._sources import SchemaDocument

__all__ = ["ASYNCAPI_VERSION", "ChannelSpec", "asyncapi_document", "content_type", "load_channels"]

ASYNCAPI_VERSION = "3.0.0"

# The media type of each encoding. Text and JSON have registered ones; the binary formats
# get vendor types named after the dq-sdk encoding (the exact value is also x-dq-encoding).
_CONTENT_TYPES = {
    Encoding.JSON: "application/json",
    Encoding.UTF8: "text/plain; charset=utf-8",
    Encoding.ASCII: "text/plain; charset=us-ascii",
    Encoding.MSGPACK_NUMPY: "application/vnd.dq-sdk.msgpack-numpy",
    Encoding.NPY: "application/vnd.dq-sdk.npy",
    Encoding.XARRAY: "application/vnd.dq-sdk.xarray",
}
_DROPPED = frozenset({"$schema", "$id", "$defs", "customBasePath", "customTypePath"})
_ID = re.compile(r"[^A-Za-z0-9_.-]")


@dataclass(frozen=True)
class ChannelSpec:
    """One topic and the model (schema title, or schema file name) its messages follow.

    ``topic`` is a topic name or an SDP flow sink URL, ``kafka://host:port/topic``.
    """

    topic: str
    model: str
    description: str = ""


def content_type(encoding: Encoding | str) -> str:
    """The AsyncAPI ``contentType`` of a dq-sdk encoding (SDP ``format`` strings accepted)."""
    try:
        return _CONTENT_TYPES[Encoding(encoding)]
    except ValueError:
        allowed = ", ".join(e.value for e in Encoding)
        raise SchemaToolError(f"encoding {encoding!r} is not one of: {allowed}") from None


def load_channels(path: Path) -> list[ChannelSpec]:
    """Read a channel map: JSON or TOML, ``{topic: model}`` or ``{topic: {model, description}}``.

    ``model`` is a schema title (``MetricPayload``) or file name (``signal_display_metrics``).
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise SchemaToolError(f"cannot read channel map {str(path)!r}: {error}") from None
    try:
        raw: object = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
    except (ValueError, tomllib.TOMLDecodeError) as error:
        raise SchemaToolError(f"channel map {str(path)!r} is not valid: {error}") from None
    if not isinstance(raw, Mapping) or not raw:
        raise SchemaToolError(
            f"channel map {str(path)!r} must be a non-empty object of topic -> model"
        )
    channels: list[ChannelSpec] = []
    for topic, entry in raw.items():
        if isinstance(entry, str):
            channels.append(ChannelSpec(str(topic), entry))
        elif isinstance(entry, Mapping) and isinstance(entry.get("model"), str):
            description = entry.get("description", "")
            channels.append(ChannelSpec(str(topic), entry["model"], str(description)))
        else:
            raise SchemaToolError(
                f"channel map {str(path)!r}: topic {topic!r} maps to {entry!r}; expected a "
                'model name or {"model": NAME, "description": TEXT}'
            )
    return channels


def asyncapi_document(
    schemas: Mapping[str, SchemaDocument],
    channels: Sequence[ChannelSpec] | None = None,
    *,
    title: str = "dq-sdk data queues",
    version: str = "1.0.0",
    servers: Sequence[str] = (),
) -> dict[str, Any]:
    """The AsyncAPI 3.0 document (a JSON-ready dict) for ``schemas`` on ``channels``.

    Without ``channels``, each schema gets one channel whose address (topic) is left open
    (``null``: chosen by the deployment). ``servers`` are ``host:port`` or
    ``kafka://host:port`` bootstrap addresses.
    """
    by_name = _models_by_name(schemas)
    messages: dict[str, Any] = {}
    components: dict[str, Any] = {}
    for document in schemas.values():
        message_name = _title(document)
        messages[message_name] = _message(document, components)
    wanted = list(channels) if channels is not None else _default_channels(schemas)
    channel_objects: dict[str, Any] = {}
    channel_hosts: dict[str, str] = {}
    operations: dict[str, Any] = {}
    for spec in wanted:
        found = by_name.get(spec.model)
        if found is None:
            known = ", ".join(sorted(by_name))
            raise SchemaToolError(
                f"channel {spec.topic!r} names model {spec.model!r}; known models: {known}"
            )
        document = found
        host, topic = _destination(spec.topic)
        channel_id = _unique(_ID.sub("_", topic or _title(document)), channel_objects)
        message_name = _title(document)
        channel_objects[channel_id] = {
            "address": topic or None,
            "description": spec.description
            or f"{message_name} messages ({document.content.get('x-encoding')}).",
            "messages": {message_name: {"$ref": f"#/components/messages/{message_name}"}},
        }
        if host is not None:
            channel_hosts[channel_id] = host
        for action in ("send", "receive"):
            operations[f"{action}_{channel_id}"] = {
                "action": action,
                "channel": {"$ref": f"#/channels/{channel_id}"},
                "messages": [{"$ref": f"#/channels/{channel_id}/messages/{message_name}"}],
            }
    document_out: dict[str, Any] = {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {
            "title": title,
            "version": version,
            "description": "Kafka topics of the SKA Science Data Processor as dq-sdk moves them. "
            "Each message carries the dq-encoding, dq-schema-id and dq-schema-version headers.",
        },
    }
    hosts = list(dict.fromkeys([*(_server_host(s) for s in servers), *channel_hosts.values()]))
    if hosts:
        server_ids = {
            host: f"kafka{i + 1}" if len(hosts) > 1 else "kafka" for i, host in enumerate(hosts)
        }
        document_out["servers"] = {
            server_ids[host]: {
                "host": host,
                "protocol": "kafka",
                "description": "Kafka bootstrap server.",
            }
            for host in hosts
        }
        for channel_id, host in channel_hosts.items():
            channel_objects[channel_id]["servers"] = [{"$ref": f"#/servers/{server_ids[host]}"}]
    document_out["channels"] = channel_objects
    document_out["operations"] = operations
    document_out["components"] = {"schemas": components, "messages": messages}
    return document_out


def _title(document: SchemaDocument) -> str:
    title = document.content.get("title")
    return _ID.sub("_", title) if isinstance(title, str) and title else document.name


def _models_by_name(schemas: Mapping[str, SchemaDocument]) -> dict[str, SchemaDocument]:
    names: dict[str, SchemaDocument] = {}
    for document in schemas.values():
        names[document.name] = document
        names[_title(document)] = document
    return names


def _default_channels(schemas: Mapping[str, SchemaDocument]) -> list[ChannelSpec]:
    return [
        ChannelSpec(
            "",
            document.name,
            f"Topics carrying {_title(document)}; the topic names are chosen by the deployment "
            "(map them with --channels).",
        )
        for document in schemas.values()
    ]


def _unique(name: str, taken: Mapping[str, object]) -> str:
    candidate, counter = name, 2
    while candidate in taken:
        candidate, counter = f"{name}_{counter}", counter + 1
    return candidate


def _server_host(address: str) -> str:
    host, topic = _destination(address if "://" in address else f"kafka://{address}")
    if host is None or topic:
        raise SchemaToolError(
            f"server {address!r} is not host:port or kafka://host:port (no topic here)"
        )
    return host


def _destination(target: str) -> tuple[str | None, str]:
    """``kafka://host:port[,host:port]/topic`` (an SDP flow sink) -> (hosts, topic); a plain
    topic name -> (None, topic)."""
    if not target.lower().startswith("kafka://"):
        if "://" in target:
            raise SchemaToolError(
                f"destination {target!r}: only kafka://host:port/topic URLs or topic names"
            )
        return None, target
    try:
        address = parse_bootstrap(target)  # the library's own rules for kafka:// addresses
    except InvalidArgumentError as exc:
        raise SchemaToolError(
            f"destination {target!r} is not kafka://host:port[,host:port...][/topic]: {exc}"
        ) from None
    return address.text, address.topic or ""


def _message(document: SchemaDocument, components: dict[str, Any]) -> dict[str, Any]:
    content = document.content
    name = _title(document)
    encoding = str(content.get("x-encoding", ""))
    payload = _schema_object(content, name, components)
    components[name] = payload
    message: dict[str, Any] = {
        "name": name,
        "title": name,
        "summary": f"{name} {content.get('x-version', '')}".strip(),
        "contentType": content_type(encoding) if encoding else "application/octet-stream",
        "headers": _headers_schema(content),
        "payload": {"$ref": f"#/components/schemas/{name}"},
        "x-dq-encoding": encoding,
        "x-dq-schema-id": content.get("$id"),
        "x-dq-schema-version": content.get("x-version"),
    }
    if isinstance(content.get("description"), str):
        message["description"] = content["description"]
    return message


def _headers_schema(content: Mapping[str, Any]) -> dict[str, Any]:
    version = content.get("x-version")
    major = version.split(".", 1)[0] if isinstance(version, str) else None
    return {
        "type": "object",
        "description": "Kafka headers every dq-sdk producer of this model sends.",
        "properties": {
            _headers.ENCODING: {
                "type": "string",
                "const": content.get("x-encoding"),
                "description": "The dq-sdk encoding of the value (an SDP flow format string).",
            },
            _headers.SCHEMA_ID: {
                "type": "string",
                "const": content.get("$id"),
                "description": "The $id of the schema the value follows.",
            },
            _headers.SCHEMA_VERSION: {
                "type": "string",
                "description": "The schema version (x-version) the producer was generated from; "
                "consumers read every version of their own major.",
                **(
                    {"pattern": rf"^{major}\.[0-9]+\.[0-9]+$", "examples": [version]}
                    if major
                    else {}
                ),
            },
        },
        "required": [_headers.ENCODING, _headers.SCHEMA_ID, _headers.SCHEMA_VERSION],
    }


def _schema_object(content: Mapping[str, Any], name: str, components: dict[str, Any]) -> Any:
    """The payload schema as an AsyncAPI Schema Object; its ``$defs`` go to ``components``."""
    definitions: Mapping[str, Any] = content.get("$defs", {})
    renamed: dict[str, str] = {}
    for def_name, definition in definitions.items():
        target = def_name
        if target in components and components[target] != definition:
            target = _unique(f"{name}_{def_name}", components)
        renamed[def_name] = target
        components[target] = None  # reserve the name; filled once refs are rewritten
    for def_name, definition in definitions.items():
        components[renamed[def_name]] = _rewrite(definition, renamed)
    return _rewrite({k: v for k, v in content.items() if k not in _DROPPED}, renamed)


def _rewrite(value: Any, renamed: Mapping[str, str]) -> Any:
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if key in ("customBasePath", "customTypePath"):
                continue  # code generator keywords, meaningless outside dq-sdk
            if key == "$ref" and isinstance(item, str) and item.startswith("#/$defs/"):
                target = item.removeprefix("#/$defs/")
                out[key] = f"#/components/schemas/{renamed.get(target, target)}"
            else:
                out[key] = _rewrite(item, renamed)
        return out
    if isinstance(value, list):
        return [_rewrite(item, renamed) for item in value]
    return value
