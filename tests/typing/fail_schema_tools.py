"""Wrong uses of dq_sdk.schema_tools: each marked line must be a mypy error of that code."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dq_sdk.schema_tools import (
    ChannelSpec,
    CompatMode,
    asyncapi_document,
    check_against,
    check_compatibility,
)


def wrong_arguments(schema: dict[str, Any]) -> None:
    check_compatibility("old.json", schema)  # E: arg-type
    check_compatibility(schema, schema, CompatMode.FULL)  # E: call-arg
    check_against("main", transitive="yes")  # E: arg-type
    asyncapi_document({"a": schema})  # E: dict-item
    asyncapi_document({}, [("topic", "Model")])  # E: list-item
    ChannelSpec("topic")  # E: call-arg


def reports_are_read_only(path: Path) -> None:
    report = check_against(path)[0]
    report.breaking = ()  # E: misc
