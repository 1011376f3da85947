"""The guides' shell blocks that run ``dq-sdk`` run, as written, against a real broker.

The operator's guide is a walk-through: its blocks build on each other (the demo fills the
topics the later blocks read), so they run in order, in one working folder, each with
``bash -euo pipefail`` and ``DQ_SDK_BOOTSTRAP`` naming the test broker. A block that must not
run here (it serves until Ctrl-C, or needs a cluster of its own) is preceded by
``<!-- docs-test: skip (the reason) -->``; commands that never end on their own are kept out of
blocks, in the prose.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WALK_THROUGHS = [ROOT / "docs" / "operator.md"]
_FENCE = re.compile(r"^```(?:bash|sh)[ \t]*$(?P<body>.*?)^```[ \t]*$", re.M | re.S)
_SKIP = re.compile(r"<!--\s*docs-test:\s*skip\s*\((?P<reason>[^)]+)\)\s*-->\s*$")
_NAMES_DQ_SDK = re.compile(r"(^|[|;&(]\s*)dq-sdk\s", re.M)
LIMIT_S = 180


@dataclass(frozen=True)
class ShellBlock:
    path: Path
    line: int
    code: str
    skip_reason: str | None

    @property
    def name(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def shell_blocks(path: Path) -> list[ShellBlock]:
    """The bash blocks of ``path`` that run a ``dq-sdk`` command, in page order."""
    text = path.read_text()
    found = []
    for match in _FENCE.finditer(text):
        code = match["body"].lstrip("\n")
        if not _NAMES_DQ_SDK.search(code):
            continue
        before = text[: match.start()].rstrip("\n").rsplit("\n", 1)[-1]
        skip = _SKIP.search(before)
        line = text.count("\n", 0, match.start()) + 1
        found.append(ShellBlock(path, line, code, skip["reason"] if skip else None))
    return found


@pytest.mark.parametrize("page", WALK_THROUGHS, ids=[p.name for p in WALK_THROUGHS])
def test_walk_through_runs_as_written(page: Path, dq_bootstrap: str, tmp_path: Path) -> None:
    blocks = shell_blocks(page)
    assert len(blocks) >= 5, f"{page.name}: expected a walk-through, found {len(blocks)} blocks"
    skipped = [b for b in blocks if b.skip_reason]
    assert len(skipped) <= 2, [(b.name, b.skip_reason) for b in skipped]
    # `dq-sdk` and `python` are the ones installed beside this interpreter.
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    env = {**os.environ, "DQ_SDK_BOOTSTRAP": dq_bootstrap, "PATH": path}
    env.pop("SDP_KAFKA_HOST", None)
    for block in blocks:
        if block.skip_reason:
            continue
        result = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", block.code],
            cwd=tmp_path,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=LIMIT_S,
        )
        assert result.returncode == 0, (
            f"{block.name} exited {result.returncode}:\n{block.code}\n"
            f"stdout:\n{result.stdout[-2000:]}\nstderr:\n{result.stderr[-3000:]}"
        )
        assert "Traceback" not in result.stderr, f"{block.name}:\n{result.stderr[-3000:]}"
