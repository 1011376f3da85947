"""Where schema versions come from: a folder of ``*.json`` files, or a git ref.

A schema is known by its file name without ``.json`` (``signal_display_metrics``), as in
``schemas/``; the same name in another folder or commit is the same schema.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._exceptions import SchemaToolError

__all__ = [
    "SchemaDocument",
    "git_history",
    "git_toplevel",
    "is_git_ref",
    "load_folder",
    "load_git",
    "load_shipped",
    "merge_base",
]

_GIT_TIMEOUT_S = 60


@dataclass(frozen=True)
class SchemaDocument:
    """One version of one schema: its name, where it was read and its parsed content."""

    name: str
    source: str
    content: Mapping[str, Any]

    @property
    def version(self) -> str | None:
        version = self.content.get("x-version")
        return version if isinstance(version, str) else None

    @property
    def label(self) -> str:
        return f"{self.version or '?'} ({self.source})"


def parse_document(name: str, source: str, text: str) -> SchemaDocument:
    try:
        content = json.loads(text)
    except json.JSONDecodeError as error:
        raise SchemaToolError(f"{source} is not valid JSON: {error}") from None
    if not isinstance(content, dict):
        raise SchemaToolError(
            f"{source} is not a JSON Schema object (found {type(content).__name__})"
        )
    return SchemaDocument(name, source, content)


def load_folder(folder: Path) -> dict[str, SchemaDocument]:
    """Every ``*.json`` schema in ``folder``, by name."""
    if not folder.is_dir():
        raise SchemaToolError(f"schema folder {str(folder)!r} does not exist")
    return {
        path.stem: parse_document(path.stem, str(path), path.read_text(encoding="utf-8"))
        for path in sorted(folder.glob("*.json"))
    }


def load_shipped() -> dict[str, SchemaDocument]:
    """The schemas this installed dq-sdk was generated from (its models speak exactly these)."""
    from ..schemas._documents import DOCUMENTS

    return {
        Path(file).stem: parse_document(Path(file).stem, f"dq_sdk.schemas: {file}", text)
        for file, text in sorted(DOCUMENTS.items())
    }


def _git(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "-C", str(repo), *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=_GIT_TIMEOUT_S,
    )


def git_toplevel(path: Path) -> Path | None:
    """The root of the git work tree holding ``path``, or ``None`` outside git."""
    done = _git(path if path.is_dir() else path.parent, "rev-parse", "--show-toplevel")
    return Path(done.stdout.strip()) if done.returncode == 0 else None


def is_git_ref(repo: Path, ref: str) -> bool:
    if ref.startswith("-"):
        return False  # never let a value become a git option
    return _git(repo, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").returncode == 0


def _relative(repo: Path, folder: Path) -> str:
    try:
        return folder.resolve().relative_to(repo.resolve()).as_posix()
    except ValueError:
        raise SchemaToolError(
            f"{str(folder)!r} is not inside the git repository {str(repo)!r}"
        ) from None


def load_git(repo: Path, ref: str, folder: Path) -> dict[str, SchemaDocument]:
    """Every ``*.json`` schema in ``folder`` as it is at ``ref`` (empty if it had none)."""
    if not is_git_ref(repo, ref):
        raise SchemaToolError(f"{ref!r} is neither a folder nor a git ref of {str(repo)!r}")
    inside = _relative(repo, folder)
    listing = _git(repo, "ls-tree", "--name-only", f"{ref}:{inside}" if inside != "." else ref)
    documents: dict[str, SchemaDocument] = {}
    if listing.returncode != 0:
        return documents  # the folder did not exist at that commit
    for entry in sorted(listing.stdout.splitlines()):
        if not entry.endswith(".json"):
            continue
        path = f"{inside}/{entry}" if inside != "." else entry
        shown = _git(repo, "show", f"{ref}:{path}")
        if shown.returncode == 0:
            name = entry.removesuffix(".json")
            documents[name] = parse_document(name, f"{ref}:{path}", shown.stdout)
    return documents


def git_history(repo: Path, ref: str, folder: Path, name: str) -> list[SchemaDocument]:
    """Every distinct version of schema ``name`` in the history of ``ref``, newest first."""
    path = f"{_relative(repo, folder)}/{name}.json".removeprefix("./")
    log = _git(repo, "log", "--format=%H", ref, "--", path)
    if log.returncode != 0:
        raise SchemaToolError(f"git log of {path!r} at {ref!r} failed: {log.stderr.strip()}")
    versions: list[SchemaDocument] = []
    seen: set[str] = set()
    for commit in log.stdout.split():
        shown = _git(repo, "show", f"{commit}:{path}")
        if shown.returncode != 0:
            continue  # the commit that deleted the file
        document = parse_document(name, f"{commit[:12]}:{path}", shown.stdout)
        key = json.dumps(document.content, sort_keys=True)
        if key not in seen:
            seen.add(key)
            versions.append(document)
    return versions


def merge_base(repo: Path, branches: tuple[str, ...] = ("main", "origin/main")) -> str | None:
    """The merge base of ``HEAD`` with the first of ``branches`` that exists, else ``None``."""
    for branch in branches:
        if is_git_ref(repo, branch):
            done = _git(repo, "merge-base", "HEAD", branch)
            if done.returncode == 0:
                return done.stdout.strip()
    return None
