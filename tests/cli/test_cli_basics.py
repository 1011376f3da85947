"""The command's frame: version, completion, where the broker comes from, and how failures end
(one line on stderr, exit 2 for usage, 1 for a broker, 130 for Ctrl-C; a traceback only with
--debug)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import time
from pathlib import Path

import pytest

import dq_sdk

from ._run import CLI, assert_one_line_error, run_cli, start_cli


def test_version() -> None:
    ran = run_cli(["--version"], bootstrap=None)
    assert ran.code == 0
    assert ran.out.strip() == f"dq-sdk {dq_sdk.__version__}"


def test_shell_completion_completes_commands() -> None:
    env = {"_DQ_SDK_COMPLETE": "complete_bash", "COMP_WORDS": "dq-sdk top", "COMP_CWORD": "1"}
    ran = run_cli([], bootstrap=None, env=env)
    assert ran.code == 0
    assert ran.out.split() == ["topics"]
    script = run_cli(["--show-completion", "bash"], bootstrap=None)
    assert script.code == 0 and "_DQ_SDK_COMPLETE" in script.out


def test_no_broker_anywhere_says_how_to_set_one() -> None:
    ran = run_cli(["topics", "list"], bootstrap=None)
    assert_one_line_error(ran, 2, "--bootstrap", "DQ_SDK_BOOTSTRAP", "SDP_KAFKA_HOST")


def test_sdp_kafka_host_with_a_kafka_url_names_broker_and_topic(
    dq_bootstrap: str, dq_topic_factory: CLI
) -> None:
    topic = dq_topic_factory(partitions=3)
    url = f"kafka://{dq_bootstrap}/{topic}"
    # No TOPIC argument: the URL's topic is used; SKA's variable when dq-sdk's is unset.
    ran = run_cli(
        ["topics", "describe", "--format", "json"], bootstrap=None, env={"SDP_KAFKA_HOST": url}
    )
    assert ran.code == 0, ran.err
    [described] = ran.json_lines()
    assert described["topic"] == topic and described["partitions"] == 3
    # --bootstrap wins over the environment.
    ran = run_cli(["topics", "describe", "-f", "json", "--bootstrap", url], bootstrap="127.0.0.1:1")
    assert ran.code == 0, ran.err
    assert ran.json_lines()[0]["topic"] == topic


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (["consume", "t", "--from", "yesterday"], ["--from 'yesterday'", "@ISO-TIME"]),
        (["topics", "create", "t", "--config", "noequals"], ["KEY=VALUE"]),
        (["consume", "t", "--format", "xml"], ["--format", "xml"]),
        (["produce", "t", "--model", "Nope"], ["'Nope'", "PointingNumpyArray"]),
        (["produce", "t", "--header", "dq-encoding=npy"], ["dq-* headers"]),
        (["consume", "t", "--count", "0"], ["--count"]),
        (["topics", "list", "--bootstrap", "no-port"], ["host:port"]),
        (["topics", "list", "--bootstrap", "http://x:1"], ["kafka://"]),
        (["nosuchcommand"], ["nosuchcommand"]),
        (["produce", "t", "-e", "json", "-m", "MetricPayload"], ["not both"]),
    ],
)
def test_bad_arguments_are_one_line_and_exit_2(
    dq: CLI, args: list[str], needles: list[str]
) -> None:
    assert_one_line_error(dq(*args), 2, *needles)


def _dead_address() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"127.0.0.1:{port}"  # nothing listens there now


@pytest.mark.parametrize("transport", ["aiokafka", "confluent"])
def test_unreachable_broker_is_one_line_and_debug_shows_the_traceback(transport: str) -> None:
    dead = _dead_address()
    args = ["topics", "list", "--connect-timeout", "2", "--transport", transport]
    ran = run_cli(args, bootstrap=dead)
    assert_one_line_error(ran, 1, dead)
    debug = run_cli([*args, "--debug"], bootstrap=dead)
    assert debug.code == 1
    assert "Traceback" in debug.err and dead in debug.err.splitlines()[-1]


def test_missing_topic_is_an_error_not_a_wait(dq: CLI) -> None:
    assert_one_line_error(dq("consume", "dq-test-never-made", "--no-follow"), 1, "no such topic")


def test_ctrl_c_exits_130_without_traceback(dq_bootstrap: str, dq_topic: str) -> None:
    """Ctrl-C while the command waits for messages. It is sent once the command holds a
    connection to the broker, not after a fixed sleep: on a loaded machine the interpreter can
    still be importing after seconds, and Python reports a Ctrl-C during import itself."""
    process = start_cli(["consume", dq_topic, "--format", "json"], bootstrap=dq_bootstrap)
    try:
        port = int(dq_bootstrap.rsplit(":", 1)[1])
        deadline = time.monotonic() + 90
        while not _connected_to(process.pid, port) and time.monotonic() < deadline:
            assert process.poll() is None, process.communicate()
            time.sleep(0.1)
        assert _connected_to(process.pid, port), "the command never connected to the broker"
        time.sleep(0.5)  # past connecting: assigned and polling
        process.send_signal(signal.SIGINT)
        _out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 130, err.decode()
    assert b"Traceback" not in err


def _connected_to(pid: int, port: int) -> bool:
    """Whether process ``pid`` has an established TCP connection to 127.0.0.1:``port`` (Linux
    /proc: the socket inodes among its open files, matched in its view of the TCP table)."""
    fds = Path(f"/proc/{pid}/fd")
    inodes: set[str] = set()
    for fd in fds.iterdir() if fds.is_dir() else ():
        with contextlib.suppress(OSError):
            target = os.readlink(fd)
            if target.startswith("socket:["):
                inodes.add(target[len("socket:[") : -1])
    table = Path(f"/proc/{pid}/net/tcp")
    for line in table.read_text().splitlines()[1:] if table.exists() else ():
        fields = line.split()
        remote_port, state, inode = int(fields[2].split(":")[1], 16), fields[3], fields[9]
        if remote_port == port and state == "01" and inode in inodes:  # 01: ESTABLISHED
            return True
    return False
