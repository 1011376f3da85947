"""What a new user meets in the first hour: the demo and its script, ``dq-sdk broker``, and
installing from a checkout. Each command runs as a subprocess, as a user would run it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from dq_sdk.testing import start_broker

ROOT = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-m", "dq_sdk.cli"]


def _run(args: list[str], timeout: float, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # type: ignore[call-overload, no-any-return]
        args,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        **kwargs,
    )


def test_demo_refuses_nonsense_rounds() -> None:
    for bad in ("-1", "0", "many"):
        result = _run([*CLI, "demo", "--rounds", bad], timeout=60)
        assert result.returncode == 2, result.stderr
        assert "--rounds" in result.stderr
    result = _run([*CLI, "demo", "--antennas", "-5"], timeout=60)
    assert result.returncode == 2 and "--antennas" in result.stderr
    assert "greater than or equal to 1" in result.stderr


def test_demo_honours_rounds_on_every_stream_and_shows_progress(dq_bootstrap: str) -> None:
    result = _run(
        [*CLI, "demo", "--bootstrap", dq_bootstrap, "--rounds", "3", "--antennas", "8"],
        timeout=240,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for stream in ("pointing offsets", "pointing tables", "spectrum metrics", "amplitude metrics"):
        assert f"{stream}: sending 3 to" in out, out
        assert re.search(rf"{stream}\s+3 msgs", out), out
    assert "total: 12 messages" in out


def test_demo_script_passes_its_arguments_to_the_demo() -> None:
    # _setup.sh installs into this very venv (nothing new to fetch); the arguments must reach
    # the demo, which refuses them, not pip, which would fail with "no such option".
    env = {**os.environ, "DQ_SDK_VENV": sys.prefix}
    result = _run(["bash", str(ROOT / "scripts" / "demo.sh"), "--rounds", "-1"], 600, env=env)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Invalid value for '--rounds'" in result.stderr
    assert "no such option" not in result.stderr


@pytest.mark.kafka  # a broker of the session's engine holds the port
def test_broker_on_a_busy_port_says_so() -> None:
    other = start_broker()
    try:
        port = other.bootstrap.rsplit(":", 1)[1]
        result = _run([*CLI, "broker", "--port", port], timeout=60)
    finally:
        other.stop()
    assert result.returncode == 1, result.stdout
    assert f"port {port} on 127.0.0.1 is busy" in result.stderr
    assert "Kafka-protocol broker" not in result.stdout  # no success line


def test_broker_on_an_invalid_port_says_so() -> None:
    for bad in ("0", "70000", "http"):
        result = _run([*CLI, "broker", "--port", bad], timeout=60)
        assert result.returncode == 2, result.stdout
        assert "--port" in result.stderr


def test_a_wheel_builds_from_the_checkout(tmp_path: Path) -> None:
    """The README's install section: build a wheel from the checkout (no index has dq-sdk)."""
    result = _run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(tmp_path), "."],
        timeout=600,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    (wheel,) = tmp_path.glob("dq_sdk-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "dq_sdk/py.typed" in names
    assert "dq_sdk/schemas/numpy_structured_pointing.py" in names
    assert "dq_sdk/_settings.py" in names
    assert not [n for n in names if "durable" in n]  # the durable broker is a test helper
    metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
    text = zipfile.ZipFile(wheel).read(metadata).decode()
    assert "Requires-Dist: pydantic-settings" in text
    assert "Provides-Extra: testing" in text
