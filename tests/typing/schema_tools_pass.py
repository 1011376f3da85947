"""Uses of dq_sdk.schema_tools that must type-check under mypy --strict, with inferred types."""

from __future__ import annotations

from pathlib import Path
from typing import Any, assert_type

from dq_sdk.schema_tools import (
    BreakingChange,
    CompatMode,
    CompatPolicy,
    Direction,
    SchemaReport,
    VersionProblem,
    asyncapi_document,
    check_against,
    check_compatibility,
    check_versions_against,
    load_folder,
)


def compare(old: dict[str, Any], new: dict[str, Any]) -> None:
    changes = check_compatibility(old, new, mode=CompatMode.FULL, policy="strict")
    assert_type(changes, list[BreakingChange])
    for change in changes:
        assert_type(change.path, str)
        assert_type(change.direction, Direction)


def against_main() -> None:
    reports = check_against("main", schemas_dir=Path("schemas"), transitive=True)
    assert_type(reports, list[SchemaReport])
    assert_type(reports[0].compatible, bool)
    compared, problems = check_versions_against(policy=CompatPolicy.LENIENT)
    assert_type(compared, str | None)
    assert_type(problems, list[VersionProblem])


def document() -> None:
    assert_type(asyncapi_document(load_folder(Path("schemas"))), dict[str, Any])
