"""Fixtures of the command's tests (helpers in ``_run``)."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from ._run import CLI, Ran, run_cli


@pytest.fixture
def dq(dq_bootstrap: str) -> CLI:
    """``dq("topics", "list", stdin=...)`` runs the command against the session's broker."""

    def call(*args: str, stdin: bytes | str = b"", env: Mapping[str, str] | None = None) -> Ran:
        return run_cli(args, bootstrap=dq_bootstrap, stdin=stdin, env=env)

    return call
