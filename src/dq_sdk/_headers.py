"""The wire contract in headers: every ``dq-*`` header name, and how a model announces itself.

Every message dq-sdk produces carries its encoding; messages of a typed model also carry the
model's schema ``$id`` and version, so a consumer can check or dispatch without guessing.
Chunks of a large message carry their set id, index, count and total size; a dead-lettered
message carries the error and where it was read. This module is the one place these names
are spelled.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._message import WireMessage
    from .codecs import Encoding

__all__ = [
    "CHUNK_BYTES",
    "CHUNK_COUNT",
    "CHUNK_ID",
    "CHUNK_INDEX",
    "DEAD_LETTER_ERROR",
    "DEAD_LETTER_ERROR_TYPE",
    "DEAD_LETTER_SOURCE_OFFSET",
    "DEAD_LETTER_SOURCE_PARTITION",
    "DEAD_LETTER_SOURCE_TOPIC",
    "ENCODING",
    "SCHEMA_ID",
    "SCHEMA_VERSION",
    "HeadersIn",
    "describing_headers",
    "header_value",
    "model_headers",
    "normalise_headers",
]

# What a message is.
ENCODING = "dq-encoding"
SCHEMA_ID = "dq-schema-id"
SCHEMA_VERSION = "dq-schema-version"

# A chunk of a message too large for one record (see _chunking).
CHUNK_ID = "dq-chunk-id"
CHUNK_INDEX = "dq-chunk-index"
CHUNK_COUNT = "dq-chunk-count"
CHUNK_BYTES = "dq-chunk-bytes"

# A message on a dead-letter topic: why it failed and where it was read.
DEAD_LETTER_ERROR = "dq-error"
DEAD_LETTER_ERROR_TYPE = "dq-error-type"
DEAD_LETTER_SOURCE_TOPIC = "dq-source-topic"
DEAD_LETTER_SOURCE_PARTITION = "dq-source-partition"
DEAD_LETTER_SOURCE_OFFSET = "dq-source-offset"

#: Headers as users may pass them: a mapping or (name, value) pairs; str values become UTF-8.
HeadersIn = Mapping[str, bytes | str] | Sequence[tuple[str, bytes | str]]


def normalise_headers(headers: HeadersIn | None) -> list[tuple[str, bytes]]:
    if not headers:
        return []
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    return [
        (name, value.encode() if isinstance(value, str) else bytes(value)) for name, value in pairs
    ]


def header_value(headers: Sequence[tuple[str, bytes]], name: str) -> str | None:
    """The last value of header ``name`` as text, or ``None`` when absent."""
    for key, value in reversed(headers):
        if key == name:
            return value.decode("utf-8", errors="replace")
    return None


def describing_headers(
    encoding: Encoding | None, model: type[WireMessage] | None, extra: HeadersIn | None
) -> list[tuple[str, bytes]]:
    """The self-describing headers (encoding, schema id and version) plus the caller's own."""
    headers = list(model_headers(encoding, model))
    if extra:
        headers.extend(normalise_headers(extra))
    return headers


@functools.lru_cache(maxsize=256)
def model_headers(
    encoding: Encoding | None, model: type[WireMessage] | None
) -> tuple[tuple[str, bytes], ...]:
    """The describing headers alone, built once per (encoding, model), not on every send."""
    headers: list[tuple[str, bytes]] = []
    if encoding is not None:
        headers.append((ENCODING, encoding.value.encode()))
    if model is not None:
        headers.append((SCHEMA_ID, model.schema_id.encode()))
        headers.append((SCHEMA_VERSION, model.schema_version.encode()))
    return tuple(headers)
