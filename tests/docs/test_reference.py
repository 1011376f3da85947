"""The site builds strictly, and its generated API reference has every public name, nothing private.

The build is the real one (``mkdocs build --strict``, as ``nox -s docs`` and CI run it): the one
``scripts/test.sh`` made just before the suite (``DQ_SDK_DOCS_SITE``), or a new one into a
temporary folder. Its ``objects.inv`` (the Sphinx inventory mkdocstrings writes, one line per
documented object) is then read against the ``__all__`` of every public module, imported here,
so a name added to ``__all__`` without reaching the reference fails this test.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src"
BUILD_LIMIT_S = 600
# Set by scripts/test.sh, which builds the site strictly right before running the suite.
SITE_ENV = "DQ_SDK_DOCS_SITE"

# Public modules documented elsewhere than in the API reference, and why.
NOT_IN_REFERENCE = {
    "dq_sdk.cli": "the dq-sdk command, documented as a command in docs/cli.md",
}
GENERATED_FAMILIES = "dq_sdk.schemas."  # one module per schema file, re-exported by dq_sdk.schemas


@dataclass(frozen=True)
class Entry:
    name: str
    role: str
    priority: str
    uri: str

    @property
    def anchor(self) -> str:
        anchor = self.uri.partition("#")[2]
        return self.name if anchor == "$" else anchor


def _is_private(dotted: str) -> bool:
    return any(part.startswith("_") and not part.startswith("__") for part in dotted.split("."))


def public_modules() -> list[str]:
    """Every module under src/dq_sdk whose dotted path has no part starting with ``_``."""
    found = []
    for path in sorted((SRC / "dq_sdk").rglob("*.py")):
        parts = path.relative_to(SRC).with_suffix("").parts
        if parts[-1] == "__main__":
            continue
        if parts[-1] == "__init__":
            parts = parts[:-1]
        name = ".".join(parts)
        if _is_private(name) or name.startswith(GENERATED_FAMILIES):
            continue
        if any(name == skip or name.startswith(skip + ".") for skip in NOT_IN_REFERENCE):
            continue
        found.append(name)
    return found


def read_inventory(path: Path) -> list[Entry]:
    """The entries of a Sphinx v2 inventory: four header lines, then zlib-compressed lines."""
    lines = path.read_bytes().split(b"\n", 4)
    assert lines[0] == b"# Sphinx inventory version 2", lines[0]
    entries = []
    for line in zlib.decompress(lines[4]).decode().splitlines():
        name, role, priority, uri, _display = line.split(" ", 4)
        entries.append(Entry(name, role, priority, uri))
    return entries


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The built site: the one ``scripts/test.sh`` built just before the suite, or a new build."""
    if os.environ.get(SITE_ENV):
        return Path(os.environ[SITE_ENV])
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "DISABLE_MKDOCS_2_WARNING": "true"}
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=BUILD_LIMIT_S,
    )
    assert result.returncode == 0, f"mkdocs build --strict failed:\n{result.stderr[-5000:]}"
    return out


@pytest.fixture(scope="module")
def inventory(site: Path) -> list[Entry]:
    return read_inventory(site / "objects.inv")


def test_the_public_modules_are_the_documented_ones() -> None:
    modules = public_modules()
    for expected in ("dq_sdk", "dq_sdk.codecs", "dq_sdk.schemas", "dq_sdk.testing"):
        assert expected in modules
    assert "dq_sdk.testing.strategies" in modules
    assert "dq_sdk.integrations.quixstreams" in modules


@pytest.mark.parametrize("module", public_modules())
def test_every_public_name_is_in_the_reference(module: str, inventory: list[Entry]) -> None:
    exported = importlib.import_module(module).__dict__.get("__all__")
    assert exported is not None, f"{module} has no __all__"
    documented = {entry.name for entry in inventory}
    assert module in documented, f"{module} has no reference page"
    missing = sorted(name for name in exported if f"{module}.{name}" not in documented)
    assert not missing, f"{module}.__all__ names missing from the reference: {missing}"


def test_nothing_private_is_rendered(inventory: list[Entry]) -> None:
    rendered = [entry for entry in inventory if entry.priority == "1"]
    assert len(rendered) > 100
    private = sorted(entry.name for entry in rendered if _is_private(entry.anchor))
    assert not private, f"private objects rendered in the reference: {private[:20]}"
    # Private paths may appear only as secondary names pointing at a public heading.
    for entry in inventory:
        assert not _is_private(entry.anchor), f"{entry.name} points at {entry.uri}"


def test_guides_link_into_the_reference(site: Path) -> None:
    for guide in ("pipeline-author", "operator", "schema-owner"):
        html = (site / guide / "index.html").read_text()
        article = html[html.index("<article") : html.index("</article>")]  # not the nav
        assert 'href="../reference/' in article, f"{guide} has no link into the API reference"
