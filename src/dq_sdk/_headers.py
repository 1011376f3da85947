"""Header names that make dq-sdk messages self-describing.

Every message dq-sdk produces carries its encoding; messages of a typed model also carry the
model's schema ``$id`` and version, so a consumer can check or dispatch without guessing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

__all__ = [
    "ENCODING",
    "SCHEMA_ID",
    "SCHEMA_VERSION",
    "HeadersIn",
    "header_value",
    "normalise_headers",
]

ENCODING = "dq-encoding"
SCHEMA_ID = "dq-schema-id"
SCHEMA_VERSION = "dq-schema-version"

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
