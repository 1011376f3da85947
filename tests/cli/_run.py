"""Helpers: the ``dq-sdk`` command run as a subprocess (``python -m dq_sdk.cli``, what the
console script runs) against the real broker; output is parsed, never compared as screenshots."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

#: Generous: two cores shared by many test runs; a command normally takes about a second.
TIMEOUT_S = 90


@dataclass(frozen=True)
class Ran:
    code: int
    out: str
    err: str
    raw: bytes  # stdout as bytes (--format raw)

    def json_lines(self) -> list[Any]:
        return [json.loads(line) for line in self.out.splitlines() if line.strip()]


def _no_sigint_ignored() -> None:
    # The command must get Ctrl-C as a user's shell delivers it.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def cli_env(bootstrap: str | None, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DQ_SDK_BOOTSTRAP", "SDP_KAFKA_HOST")}
    if bootstrap is not None:
        env["DQ_SDK_BOOTSTRAP"] = bootstrap
    env["COLUMNS"] = "200"
    # The shared test machine can be slow to answer; a dead address still fails at once.
    env["DQ_SDK_CONNECT_TIMEOUT"] = "60"
    env.update(extra or {})
    return env


def run_cli(
    args: Sequence[str],
    *,
    bootstrap: str | None,
    stdin: bytes | str = b"",
    env: Mapping[str, str] | None = None,
) -> Ran:
    data = stdin.encode() if isinstance(stdin, str) else stdin
    done = subprocess.run(
        [sys.executable, "-m", "dq_sdk.cli", *args],
        input=data,
        capture_output=True,
        env=cli_env(bootstrap, env),
        timeout=TIMEOUT_S,
        preexec_fn=_no_sigint_ignored,
        check=False,
    )
    out = done.stdout.decode("utf-8", "replace")
    return Ran(done.returncode, out, done.stderr.decode("utf-8", "replace"), done.stdout)


def start_cli(args: Sequence[str], *, bootstrap: str | None) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "dq_sdk.cli", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=cli_env(bootstrap),
        preexec_fn=_no_sigint_ignored,
    )


CLI = Callable[..., Ran]


def assert_one_line_error(ran: Ran, code: int, *needles: str) -> None:
    """A failure is one line on stderr, the expected exit code, no traceback."""
    assert ran.code == code, (ran.code, ran.err)
    lines = [line for line in ran.err.splitlines() if line.strip()]
    assert len(lines) == 1, ran.err
    assert "Traceback" not in ran.err
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
