"""Run mypy (the project's strict config) on one file and compare its errors with markers.

A line that must fail ends with ``# E: <error-code>``; every other line must be clean.
"""

from __future__ import annotations

import re
from pathlib import Path

from mypy import api

ROOT = Path(__file__).resolve().parents[2]
_ERROR = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+): error: .*\[(?P<code>[a-z-]+)\]$")
_MARK = re.compile(r"#\s*E:\s*(?P<code>[a-z-]+)\s*$")


def expected_errors(path: Path) -> dict[int, str]:
    lines = path.read_text().splitlines()
    return {
        number: match["code"]
        for number, line in enumerate(lines, start=1)
        if (match := _MARK.search(line))
    }


def mypy_errors(path: Path) -> dict[int, str]:
    """``{line: error code}`` for every error mypy reports in ``path``."""
    stdout, stderr, _status = api.run(
        [
            "--config-file",
            str(ROOT / "pyproject.toml"),
            "--no-incremental",
            "--cache-dir=/dev/null",
            "--show-error-codes",
            "--no-error-summary",
            "--hide-error-context",
            str(path),
        ]
    )
    assert not stderr, stderr
    found: dict[int, str] = {}
    for line in stdout.splitlines():
        match = _ERROR.match(line)
        if match and Path(match["file"]).name == path.name:
            found[int(match["line"])] = match["code"]
        elif line.strip() and ": note:" not in line:
            raise AssertionError(f"unexpected mypy output: {line}")
    return found
