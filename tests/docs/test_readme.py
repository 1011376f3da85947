"""The README stays short and its links lead into the documentation that exists."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
_LINK = re.compile(r"\]\((?P<target>[^)#\s]+)(?:#[^)]*)?\)")


def test_every_relative_link_of_the_readme_exists() -> None:
    targets = [m["target"] for m in _LINK.finditer(README) if "://" not in m["target"]]
    assert len(targets) >= 5
    missing = [target for target in targets if not (ROOT / target).exists()]
    assert not missing, f"README.md links to files that do not exist: {missing}"


def test_the_readme_leads_to_each_guide_and_stays_short() -> None:
    for guide in ("docs/pipeline-author.md", "docs/schema-owner.md", "docs/operator.md"):
        assert f"({guide})" in README, f"README.md does not link to {guide}"
    assert "bash scripts/demo.sh" in README and "bash scripts/test.sh" in README
    assert len(README.splitlines()) <= 90, "README.md grows: put the detail in docs/"
