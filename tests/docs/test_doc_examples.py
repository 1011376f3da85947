"""Every ```python block of README.md and docs/*.md runs, as written, against a real broker.

Each block is a complete program: it is written to a file and run with the interpreter, with
``DQ_SDK_BOOTSTRAP`` naming the test broker (the docs read it, as users would, and fall back to
``localhost:9092``). A block that cannot run on its own (it needs a TLS cluster, or it is a pytest
test) is preceded by ``<!-- docs-test: skip (the reason) -->``; such blocks are listed here so
that they stay few.
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
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
_FENCE = re.compile(r"^```python[ \t]*$(?P<body>.*?)^```[ \t]*$", re.M | re.S)
_SKIP = re.compile(r"<!--\s*docs-test:\s*skip\s*\((?P<reason>[^)]+)\)\s*-->\s*$")
LIMIT_S = 180


@dataclass(frozen=True)
class Block:
    path: Path
    line: int
    code: str
    skip_reason: str | None

    @property
    def name(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def blocks() -> list[Block]:
    found = []
    for path in DOCS:
        text = path.read_text()
        for match in _FENCE.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            before = text[: match.start()].rstrip("\n").rsplit("\n", 1)[-1]
            skip = _SKIP.search(before)
            found.append(
                Block(path, line, match["body"].lstrip("\n"), skip["reason"] if skip else None)
            )
    return found


ALL = blocks()
RUNNABLE = [b for b in ALL if b.skip_reason is None]


def test_blocks_are_found_and_skips_stay_rare() -> None:
    assert len(ALL) >= 15
    skipped = {b.name: b.skip_reason for b in ALL if b.skip_reason}
    assert len(skipped) <= 3, skipped


@pytest.mark.parametrize("block", RUNNABLE, ids=[b.name for b in RUNNABLE])
def test_doc_block_runs_as_written(block: Block, dq_bootstrap: str, tmp_path: Path) -> None:
    program = tmp_path / "example.py"
    program.write_text(block.code)
    env = {**os.environ, "DQ_SDK_BOOTSTRAP": dq_bootstrap}
    env.pop("SDP_KAFKA_HOST", None)
    result = subprocess.run(
        [sys.executable, str(program)],
        cwd=tmp_path,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=LIMIT_S,
    )
    assert result.returncode == 0, f"{block.name} failed:\n{result.stderr[-3000:]}"
    assert "Traceback" not in result.stderr, result.stderr
