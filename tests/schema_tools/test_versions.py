"""Version rules against git history: temporary repositories holding v1/v2 schema pairs, the
CLI as a subprocess, and the real check of this checkout against its merge base with main."""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from dq_sdk import SchemaToolError
from dq_sdk.schema_tools import (
    SchemaVersion,
    check_against,
    check_version_bumps,
    check_versions_against,
    load_folder,
    load_shipped,
    merge_base,
)

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "schemas"
METRICS = "signal_display_metrics"
Edit = Callable[[dict[str, Any]], None]


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True, timeout=60
    )
    return done.stdout.strip()


def edit_schema(repo: Path, name: str, edit: Edit) -> None:
    path = repo / "schemas" / f"{name}.json"
    schema = json.loads(path.read_text())
    edit(schema)
    path.write_text(json.dumps(schema, indent=2) + "\n")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git repository whose main branch holds today's schemas as version 1.0.0, checked out
    on a feature branch."""
    repo = tmp_path / "repo"
    shutil.copytree(SCHEMAS, repo / "schemas")
    for path in (repo / "schemas").glob("*.json"):
        edit_schema(repo, path.stem, bump("1.0.0"))  # whatever today's versions are
    git(repo.parent, "init", "-q", "-b", "main", str(repo))
    git(repo, "config", "user.email", "test@example.org")
    git(repo, "config", "user.name", "test")
    git(repo, "add", "schemas")
    git(repo, "commit", "-q", "-m", "v1 schemas")
    git(repo, "checkout", "-q", "-b", "feature")
    return repo


def versions(repo: Path) -> list[str]:
    _, problems = check_versions_against(schemas_dir=repo / "schemas")
    return [str(p) for p in problems]


def bump(version: str) -> Edit:
    def apply(schema: dict[str, Any]) -> None:
        schema["x-version"] = version

    return apply


def add_optional_property(schema: dict[str, Any]) -> None:
    schema["properties"]["receiver_id"] = {"type": "string", "description": "added"}


def remove_enum_value(schema: dict[str, Any]) -> None:
    schema["properties"]["data_type"]["enum"].remove("lagplot")
    del schema["x-items-by"]["items"]["lagplot"]


def test_unchanged_schemas_pass(repo: Path) -> None:
    assert merge_base(repo) == git(repo, "rev-parse", "main")
    assert versions(repo) == []


def test_a_change_without_a_version_bump_fails(repo: Path) -> None:
    edit_schema(repo, METRICS, add_optional_property)
    problems = versions(repo)
    assert len(problems) == 1
    assert problems[0].startswith(f"{METRICS}: the schema changed but its x-version 1.0.0")


def test_a_compatible_change_needs_a_minor_bump_not_a_patch(repo: Path) -> None:
    edit_schema(repo, METRICS, add_optional_property)
    edit_schema(repo, METRICS, bump("1.0.1"))
    assert ["needs at least a minor version: 1.0.0 -> 1.1.0" in p for p in versions(repo)] == [True]
    edit_schema(repo, METRICS, bump("1.1.0"))
    assert versions(repo) == []


def test_a_description_change_needs_only_a_patch(repo: Path) -> None:
    def reword(schema: dict[str, Any]) -> None:
        schema["description"] = "Reworded."
        schema["x-version"] = "1.0.1"

    edit_schema(repo, METRICS, reword)
    assert versions(repo) == []


def test_a_breaking_change_needs_a_major_bump_and_lists_the_breaks(repo: Path) -> None:
    edit_schema(repo, METRICS, remove_enum_value)
    edit_schema(repo, METRICS, bump("1.1.0"))
    problems = versions(repo)
    assert len(problems) == 1
    assert "2 breaking change(s) (backward) need a major version: 1.0.0 -> 2.0.0" in problems[0]
    assert "#/properties/data_type/enum" in problems[0]
    assert "ENUM_ARRAY_NARROWED" in problems[0]
    edit_schema(repo, METRICS, bump("2.0.0"))
    assert versions(repo) == []


def test_the_rule_follows_the_mode(repo: Path) -> None:
    # Adding an enum value is compatible backward (the default) but breaks old readers.
    def add_value(schema: dict[str, Any]) -> None:
        schema["properties"]["data_type"]["enum"].append("waterfall")
        schema["x-version"] = "1.1.0"

    edit_schema(repo, METRICS, add_value)
    assert versions(repo) == []
    _, problems = check_versions_against(schemas_dir=repo / "schemas", mode="full")
    assert [p.schema for p in problems] == [METRICS]


def test_a_lowered_or_invalid_version_fails(repo: Path) -> None:
    edit_schema(repo, "pointing_table", bump("0.9.0"))
    edit_schema(repo, "pointing_table", lambda s: s.update(description="changed"))
    edit_schema(repo, METRICS, bump("1.1"))
    problems = versions(repo)
    assert any("pointing_table: the schema changed but its x-version 0.9.0" in p for p in problems)
    assert any("x-version '1.1' is not a version MAJOR.MINOR.PATCH" in p for p in problems)


def test_without_main_only_version_syntax_is_checked(tmp_path: Path) -> None:
    # A fresh clone of one branch: no merge base to compare with, still a meaningful check.
    lone = tmp_path / "lone"
    shutil.copytree(SCHEMAS, lone / "schemas")
    git(tmp_path, "init", "-q", "-b", "work", str(lone))
    compared, problems = check_versions_against(schemas_dir=lone / "schemas")
    assert (compared, problems) == (None, [])
    edit_schema(lone, METRICS, bump("one"))
    _, problems = check_versions_against(schemas_dir=lone / "schemas")
    assert [p.schema for p in problems] == [METRICS]


def test_against_a_folder_and_new_schemas(tmp_path: Path) -> None:
    old = load_folder(SCHEMAS)
    new_dir = tmp_path / "schemas"
    shutil.copytree(SCHEMAS, new_dir)
    extra = json.loads((SCHEMAS / "pointing_table.json").read_text())
    extra["$id"] = "https://dq-sdk.skao.int/schemas/other.json"
    (new_dir / "other.json").write_text(json.dumps(extra))
    assert check_version_bumps(old, load_folder(new_dir)) == []
    reports = {r.schema: r for r in check_against(SCHEMAS, schemas_dir=new_dir)}
    assert reports["other"].note.startswith("new: not in")
    assert reports[METRICS].compatible


def test_transitive_checks_every_earlier_version(repo: Path) -> None:
    # Schema Registry's classic case: each step is compatible with the one before, but the
    # last is not compatible with the first (an open model drops a property, then re-adds it
    # with another type).
    def drop(schema: dict[str, Any]) -> None:
        del schema["properties"]["processing_block_id"]
        schema["required"].remove("processing_block_id")
        schema["x-version"] = "1.1.0"

    def readd(schema: dict[str, Any]) -> None:
        schema["properties"]["processing_block_id"] = {"type": "integer"}
        schema["x-version"] = "1.2.0"

    edit_schema(repo, METRICS, drop)
    git(repo, "commit", "-qam", "1.1.0")
    edit_schema(repo, METRICS, readd)
    assert all(r.compatible for r in check_against("HEAD", schemas_dir=repo / "schemas"))
    reports = check_against("HEAD", schemas_dir=repo / "schemas", transitive=True)
    metrics = next(r for r in reports if r.schema == METRICS)
    assert len(metrics.compared_with) == 2
    assert [(c.kind, c.path, c.writer) for c in metrics.breaking] == [
        ("TYPE_CHANGED", "#/properties/processing_block_id/type", "1.0.0")
    ]


def test_removed_schema_is_reported(repo: Path) -> None:
    (repo / "schemas" / "pointing_table.json").unlink()
    reports = check_against("main", schemas_dir=repo / "schemas")
    removed = next(r for r in reports if r.schema == "pointing_table")
    assert [c.kind for c in removed.breaking] == ["SCHEMA_FILE_REMOVED"]


def test_unknown_ref_and_bad_json_are_dq_errors(repo: Path) -> None:
    with pytest.raises(SchemaToolError, match="'no-such-ref' is neither a folder nor a git ref"):
        check_against("no-such-ref", schemas_dir=repo / "schemas")
    (repo / "schemas" / "broken.json").write_text("{not json")
    with pytest.raises(SchemaToolError, match=r"broken\.json is not valid JSON"):
        check_against("main", schemas_dir=repo / "schemas")


def test_schema_version_parsing() -> None:
    assert SchemaVersion.parse("1.10.2", "x") > SchemaVersion.parse("1.9.9", "x")
    for bad in ("1.0", "01.0.0", "1.0.0-rc1", 1):
        with pytest.raises(SchemaToolError, match=r"is not a version MAJOR\.MINOR\.PATCH"):
            SchemaVersion.parse(bad, "x.json")


# -- the CLI, as users run it ---------------------------------------------------------------


def dq_sdk(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dq_sdk.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        env={**os.environ, "COLUMNS": "200"},
    )


def test_cli_compat_and_versions_exit_codes(repo: Path) -> None:
    done = dq_sdk("schemas", "compat", "--against", "main", cwd=repo)
    assert done.returncode == 0, done.stderr
    assert f"{METRICS} 1.0.0: compatible (backward) with 1.0.0 (main:schemas/{METRICS}.json)" in (
        done.stdout
    )

    edit_schema(repo, METRICS, remove_enum_value)
    done = dq_sdk("schemas", "compat", "--against", "main", cwd=repo)
    assert done.returncode == 1
    assert f"{METRICS} 1.0.0: 2 breaking change(s) (backward)" in done.stdout
    assert '  - #/properties/data_type/enum: enum value(s) "lagplot" removed' in done.stdout
    assert "[ENUM_ARRAY_NARROWED; backward: version 1.0.0 reading version 1.0.0 data]" in (
        done.stdout
    )
    as_json = dq_sdk("schemas", "compat", "--against", "main", "--json", cwd=repo)
    assert as_json.returncode == 1
    reports = {r["schema"]: r for r in json.loads(as_json.stdout)}
    assert [(c["kind"], c["path"], c["direction"]) for c in reports[METRICS]["breaking"]] == [
        ("ENUM_ARRAY_NARROWED", "#/properties/data_type/enum", "backward"),
        ("ITEMS_BY_TAG_REMOVED", "#/x-items-by/items/lagplot", "backward"),
    ]
    assert reports["pointing_table"]["breaking"] == []
    # The same change is fine for old readers of new data only.
    assert (
        dq_sdk("schemas", "compat", "--against", "main", "--mode", "forward", cwd=repo).returncode
        == 0
    )

    done = dq_sdk("schemas", "versions", cwd=repo)
    assert done.returncode == 1
    assert "1 version problem(s) against" in done.stdout
    edit_schema(repo, METRICS, bump("2.0.0"))
    done = dq_sdk("schemas", "versions", cwd=repo)
    assert done.returncode == 0, done.stdout
    assert "schema versions follow their changes" in done.stdout


def test_cli_bad_input_is_a_one_line_error(repo: Path) -> None:
    done = dq_sdk("schemas", "compat", "--against", "nope", cwd=repo)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"dq-sdk: 'nope' is neither a folder nor a git ref of {str(repo)!r}"
    ]
    done = dq_sdk("schemas", "compat", "--against", "main", "--mode", "sideways", cwd=repo)
    assert done.returncode == 2
    assert "sideways" in done.stderr and "backward" in done.stderr
    done = dq_sdk("schemas", "show", "Nope", cwd=repo)
    assert done.returncode == 2
    assert "no schema 'Nope'" in done.stderr and "pointing_table" in done.stderr


def test_cli_list_show_and_json_schema_work_outside_a_checkout(tmp_path: Path) -> None:
    """An installed dq-sdk lists, shows and prints the schemas it was generated from, from any
    directory (tmp_path has no schemas/)."""
    listed = dq_sdk("schemas", "list", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert lines[0].split() == ["NAME", "MODEL", "VERSION", "ENCODING", "ID"]
    rows = {line.split()[0]: line.split() for line in lines[1:]}
    assert rows.keys() == {path.stem for path in SCHEMAS.glob("*.json")}
    for path in SCHEMAS.glob("*.json"):
        schema = json.loads(path.read_text())
        assert rows[path.stem][1:] == [
            schema["title"],
            schema["x-version"],
            schema["x-encoding"],
            schema["$id"],
        ]

    shown = dq_sdk("schemas", "show", "PointingNumpyArray", cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert "    antenna_name: string dtype U8" in shown.stdout
    table = dq_sdk("schemas", "show", "pointing_table", cwd=tmp_path)
    assert "    data_vars.fitted_width: f8" in table.stdout and "(optional)" in table.stdout

    printed = dq_sdk("schemas", "json-schema", "MetricPayload", cwd=tmp_path)
    assert printed.returncode == 0
    assert json.loads(printed.stdout) == json.loads((SCHEMAS / f"{METRICS}.json").read_text())


def test_cli_list_and_show_read_a_folder_when_given_one(tmp_path: Path) -> None:
    folder = tmp_path / "draft"
    folder.mkdir()
    schema = json.loads((SCHEMAS / f"{METRICS}.json").read_text())
    schema["title"], schema["x-version"] = "DraftPayload", "2.0.0"
    (folder / "draft_payload.json").write_text(json.dumps(schema))
    listed = dq_sdk("schemas", "list", "--schemas", str(folder), cwd=ROOT)
    assert listed.returncode == 0, listed.stderr
    assert [line.split()[:3] for line in listed.stdout.splitlines()[1:]] == [
        ["draft_payload", "DraftPayload", "2.0.0"]
    ]
    shown = dq_sdk("schemas", "show", "DraftPayload", "--schemas", str(folder), cwd=ROOT)
    assert shown.returncode == 0 and shown.stdout.startswith("DraftPayload 2.0.0"), shown.stderr
    missing = dq_sdk("schemas", "show", "PointingTable", "--schemas", str(folder), cwd=ROOT)
    assert missing.returncode == 2 and "no schema 'PointingTable'" in missing.stderr


def test_shipped_documents_are_the_schema_files() -> None:
    """What an installed dq-sdk lists is byte for byte schemas/ (codegen --check keeps it so)."""
    shipped = load_shipped()
    assert {name: doc.content for name, doc in shipped.items()} == {
        path.stem: json.loads(path.read_text()) for path in SCHEMAS.glob("*.json")
    }


# -- the real check: this checkout against its merge base with main -------------------------


def test_this_checkout_follows_the_version_rules() -> None:
    """What CI runs (``nox -s schemas_check``): a change to schemas/ since the merge base with
    main needs the right bump. Without main (a single-branch clone) only syntax is checked."""
    base = merge_base(ROOT)
    compared, problems = check_versions_against(schemas_dir=SCHEMAS)
    assert compared == base
    assert problems == [], "\n".join(map(str, problems))


def test_the_version_rule_sees_real_edits_of_this_checkout(tmp_path: Path) -> None:
    # The same check over a copy of today's schemas with one breaking edit and no bump: the
    # rule engine fails it, so the check above can fail too.
    edited = tmp_path / "schemas"
    shutil.copytree(SCHEMAS, edited)
    schema = json.loads((edited / f"{METRICS}.json").read_text())
    broken = copy.deepcopy(schema)
    remove_enum_value(broken)
    (edited / f"{METRICS}.json").write_text(json.dumps(broken))
    problems = check_version_bumps(load_folder(SCHEMAS), load_folder(edited))
    assert [p.schema for p in problems] == [METRICS]
