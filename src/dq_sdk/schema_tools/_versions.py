"""Version rules: a changed schema has a higher ``x-version``, a breaking change a new major.

Consumers refuse messages of another major version (``SchemaMismatchError``) and read any minor
or patch of their own, so the major version is the promise these rules keep: within one major,
every change is compatible under the project's mode (BACKWARD by default).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._exceptions import SchemaToolError
from ._compat import _mode, _policy, check_compatibility
from ._report import BreakingChange, CompatMode, CompatPolicy
from ._sources import SchemaDocument, git_toplevel, load_folder, load_git, merge_base

__all__ = ["SchemaVersion", "VersionProblem", "check_version_bumps", "check_versions_against"]

_SEMVER = re.compile(r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)")
# Keywords that document a schema without changing which data it accepts.
_ANNOTATIONS = frozenset({"description", "title", "examples", "$comment", "x-version"})


@dataclass(frozen=True, order=True)
class SchemaVersion:
    """A schema's ``x-version``: ``MAJOR.MINOR.PATCH``."""

    major: int
    minor: int
    patch: int

    @classmethod
    def parse(cls, text: object, where: str) -> SchemaVersion:
        match = _SEMVER.fullmatch(text) if isinstance(text, str) else None
        if match is None:
            raise SchemaToolError(
                f"{where}: x-version {text!r} is not a version MAJOR.MINOR.PATCH (e.g. '1.2.0')"
            )
        return cls(*(int(part) for part in match.groups()))

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.patch}"


@dataclass(frozen=True)
class VersionProblem:
    """A schema whose version does not follow its change; ``breaking`` lists why a major bump
    is needed, when that is the problem."""

    schema: str
    message: str
    breaking: tuple[BreakingChange, ...] = ()

    def __str__(self) -> str:
        lines = [f"{self.schema}: {self.message}"]
        lines += [f"  - {change.path}: {change.reason} [{change.kind}]" for change in self.breaking]
        return "\n".join(lines)


def check_version_bumps(
    old: Mapping[str, SchemaDocument],
    new: Mapping[str, SchemaDocument],
    *,
    mode: CompatMode | str = CompatMode.BACKWARD,
    policy: CompatPolicy | str = CompatPolicy.LENIENT,
) -> list[VersionProblem]:
    """The version problems of ``new`` (e.g. ``schemas/``) against ``old`` (e.g. main's).

    - every schema's ``x-version`` is ``MAJOR.MINOR.PATCH``;
    - a changed schema has a higher version; a change to which data is valid, at least a
      higher minor (a patch is for descriptions, titles and examples only);
    - a breaking change under ``mode`` has a higher major.
    """
    mode, policy = _mode(mode), _policy(policy)
    problems: list[VersionProblem] = []
    for name, document in sorted(new.items()):
        try:
            version = SchemaVersion.parse(document.content.get("x-version"), document.source)
        except SchemaToolError as error:
            problems.append(VersionProblem(name, error.message))
            continue
        before = old.get(name)
        if before is None or _same(before.content, document.content):
            continue
        try:
            previous = SchemaVersion.parse(before.content.get("x-version"), before.source)
        except SchemaToolError:
            continue  # the old version was never valid; nothing to compare with
        if version <= previous:
            problems.append(
                VersionProblem(
                    name,
                    f"the schema changed but its x-version {version} is not above {previous} "
                    f"({before.source}): raise it",
                )
            )
            continue
        breaking = check_compatibility(
            before.content, document.content, mode=mode, policy=policy, name=name
        )
        if breaking and version.major == previous.major:
            problems.append(
                VersionProblem(
                    name,
                    f"{len(breaking)} breaking change(s) ({mode.value}) need a major version: "
                    f"{previous} -> {previous.major + 1}.0.0, not {version}",
                    tuple(breaking),
                )
            )
        elif (
            not breaking
            and (version.major, version.minor) == (previous.major, previous.minor)
            and not _same(_strip(before.content), _strip(document.content))
        ):
            problems.append(
                VersionProblem(
                    name,
                    f"the change alters which data is valid, so it needs at least a minor "
                    f"version: {previous} -> {previous.major}.{previous.minor + 1}.0, "
                    f"not {version}",
                )
            )
    return problems


def check_versions_against(
    against: str | Path | None = None,
    *,
    schemas_dir: Path = Path("schemas"),
    mode: CompatMode | str = CompatMode.BACKWARD,
    policy: CompatPolicy | str = CompatPolicy.LENIENT,
) -> tuple[str | None, list[VersionProblem]]:
    """:func:`check_version_bumps` of ``schemas_dir`` against a folder or git ref; by default
    against the merge base of ``HEAD`` with ``main`` (or ``origin/main``). Returns what was
    compared with (``None`` when there is no merge base: nothing to compare) and the problems.
    """
    new = load_folder(schemas_dir)
    if against is not None and Path(against).is_dir():
        return str(against), check_version_bumps(
            load_folder(Path(against)), new, mode=mode, policy=policy
        )
    repo = git_toplevel(schemas_dir)
    if repo is None:
        raise SchemaToolError(f"{str(schemas_dir)!r} is not in a git repository")
    ref = str(against) if against is not None else merge_base(repo)
    if ref is None:
        return None, check_version_bumps({}, new, mode=mode, policy=policy)
    old = load_git(repo, ref, schemas_dir)
    return ref, check_version_bumps(old, new, mode=mode, policy=policy)


def _strip(schema: object) -> object:
    if isinstance(schema, Mapping):
        return {k: _strip(v) for k, v in schema.items() if k not in _ANNOTATIONS}
    if isinstance(schema, list):
        return [_strip(item) for item in schema]
    return schema


def _same(a: object, b: object) -> bool:
    return _canonical(a) == _canonical(b)


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True)
