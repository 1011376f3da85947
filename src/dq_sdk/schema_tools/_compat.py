"""Compatibility of schema versions: one pair, or every schema against a folder or git ref."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .._exceptions import SchemaToolError
from ._extension_rules import extension_differences
from ._jsonschema_rules import SchemaWalker, is_compatible
from ._report import BreakingChange, CompatMode, CompatPolicy, Difference, SchemaReport
from ._sources import SchemaDocument, git_history, git_toplevel, load_folder, load_git

__all__ = ["check_against", "check_compatibility", "diff_schemas"]


def diff_schemas(
    writer: Mapping[str, Any],
    reader: Mapping[str, Any],
    *,
    policy: CompatPolicy = CompatPolicy.LENIENT,
) -> list[Difference]:
    """Every difference met when ``reader`` reads data written with ``writer``, compatible or
    not (``is_compatible(kind, policy)`` tells), each with its JSON Pointer path."""
    walker = SchemaWalker(writer, reader, policy)
    return [*walker.compare(writer, reader), *extension_differences(walker)]


def check_compatibility(
    old: Mapping[str, Any],
    new: Mapping[str, Any],
    *,
    mode: CompatMode | str = CompatMode.BACKWARD,
    policy: CompatPolicy | str = CompatPolicy.LENIENT,
    name: str | None = None,
) -> list[BreakingChange]:
    """The breaking changes from schema ``old`` to schema ``new`` under ``mode``; empty when
    compatible. ``mode`` and ``policy`` also take their string values (``"full"``...)."""
    mode, policy = _mode(mode), _policy(policy)
    schema = name or str(new.get("title") or old.get("title") or "schema")
    old_version = str(old.get("x-version", "old"))
    new_version = str(new.get("x-version", "new"))
    breaking: list[BreakingChange] = []
    for direction in mode.directions:
        writer, reader = (old, new) if direction == "backward" else (new, old)
        readers, writers = (
            (new_version, old_version) if direction == "backward" else (old_version, new_version)
        )
        for difference in diff_schemas(writer, reader, policy=policy):
            if not is_compatible(difference.kind, policy):
                breaking.append(
                    BreakingChange(
                        schema=schema,
                        path=difference.path,
                        kind=difference.kind,
                        reason=difference.reason,
                        direction=direction,
                        reader=readers,
                        writer=writers,
                    )
                )
    return breaking


def check_against(
    against: str | Path,
    *,
    schemas_dir: Path = Path("schemas"),
    mode: CompatMode | str = CompatMode.BACKWARD,
    policy: CompatPolicy | str = CompatPolicy.LENIENT,
    transitive: bool = False,
) -> list[SchemaReport]:
    """Compare every schema in ``schemas_dir`` with the same schema in ``against``: a folder,
    or a git ref of the repository holding ``schemas_dir``. With ``transitive``, a git ref
    means every distinct version in its history (Schema Registry's ``*_TRANSITIVE``)."""
    mode, policy = _mode(mode), _policy(policy)
    current = load_folder(schemas_dir)
    previous = _previous_versions(against, schemas_dir, current, transitive)
    reports: list[SchemaReport] = []
    for name, document in current.items():
        versions = previous.get(name, [])
        if not versions:
            reports.append(
                SchemaReport(name, document.version, (), (), note=f"new: not in {against}")
            )
            continue
        breaking = [
            change
            for old in versions
            for change in check_compatibility(
                old.content, document.content, mode=mode, policy=policy, name=name
            )
        ]
        reports.append(
            SchemaReport(name, document.version, tuple(v.label for v in versions), tuple(breaking))
        )
    for name, versions in previous.items():
        if name not in current and versions:
            removed = BreakingChange(
                schema=name,
                path="#",
                kind="SCHEMA_FILE_REMOVED",
                reason=f"schema removed from {schemas_dir}: its producers and consumers lose "
                "their model",
                direction=mode.directions[0],
                reader="none",
                writer=versions[0].version or "?",
            )
            reports.append(SchemaReport(name, None, (versions[0].label,), (removed,)))
    return reports


def _previous_versions(
    against: str | Path,
    schemas_dir: Path,
    current: Mapping[str, SchemaDocument],
    transitive: bool,
) -> dict[str, list[SchemaDocument]]:
    if Path(against).is_dir():
        return {name: [doc] for name, doc in load_folder(Path(against)).items()}
    repo = git_toplevel(schemas_dir)
    if repo is None:
        raise SchemaToolError(
            f"{str(against)!r} is not a folder, and {str(schemas_dir)!r} is not in a git "
            "repository where it could be a ref"
        )
    at_ref = load_git(repo, str(against), schemas_dir)
    if not transitive:
        return {name: [doc] for name, doc in at_ref.items()}
    return {
        name: git_history(repo, str(against), schemas_dir, name)
        for name in sorted(current.keys() | at_ref.keys())
    }


def _mode(value: CompatMode | str) -> CompatMode:
    try:
        return CompatMode(str(value).lower())
    except ValueError:
        allowed = ", ".join(m.value for m in CompatMode)
        raise SchemaToolError(f"compatibility mode {value!r} is not one of: {allowed}") from None


def _policy(value: CompatPolicy | str) -> CompatPolicy:
    try:
        return CompatPolicy(str(value).lower())
    except ValueError:
        allowed = ", ".join(p.value for p in CompatPolicy)
        raise SchemaToolError(f"compatibility policy {value!r} is not one of: {allowed}") from None
