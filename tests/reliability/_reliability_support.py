"""Shared pieces of the reliability tests and of the worker processes they start.

``Seq`` is the smallest typed message there is: a sequence number sent as UTF-8 text. It goes
through the public typed API (``Producer[Seq]``, ``Consumer[Seq]``), as a user's own model
would, so the tests exercise the same path as real code.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Self

from dq_sdk import MessageValidationError, Producer, SchemaIssue
from dq_sdk.codecs import Encoding
from dq_sdk.testing import bootstrap_from_env, engine_from_env

HERE = Path(__file__).resolve().parent
WORKER = HERE / "_consumer_worker.py"

# Group settings for tests: tansu holds a rebalance for about session_timeout_ms when a member
# joins (BROKER.md), and a SIGKILLed member stays in the group until its session expires, so
# short sessions keep the tests short there. Apache Kafka refuses sessions under 6 s by default
# (group.min.session.timeout.ms, InvalidSessionTimeoutError), and so does noida-db: 6 s on every
# engine but tansu and on DQ_SDK_BOOTSTRAP; DQ_SDK_TEST_SESSION_TIMEOUT_MS overrides either.
_SHORT_SESSIONS = bootstrap_from_env() is None and engine_from_env() == "tansu"
SESSION_TIMEOUT_MS = int(
    os.environ.get("DQ_SDK_TEST_SESSION_TIMEOUT_MS", "1500" if _SHORT_SESSIONS else "6000")
)
HEARTBEAT_INTERVAL_MS = max(100, SESSION_TIMEOUT_MS // 5)


class Seq:
    """A sequence number; the wire value is its decimal text."""

    encoding: ClassVar[Encoding] = Encoding.UTF8
    schema_id: ClassVar[str] = "urn:dq-sdk:tests:seq"
    schema_version: ClassVar[str] = "1.0.0"

    __slots__ = ("n",)

    def __init__(self, n: int) -> None:
        self.n = n

    def to_wire(self) -> object:
        return str(self.n)

    @classmethod
    def from_wire(cls, value: object) -> Self:
        if not isinstance(value, str) or not value.isdigit():
            raise MessageValidationError(
                "Seq", [SchemaIssue("", "not a sequence number", found=value)]
            )
        return cls(int(value))


async def produce_seq(
    bootstrap: str, topic: str, ids: Iterable[int], *, batch: int = 10_000, **options: Any
) -> int:
    """Send ``Seq(i)`` for every id (awaiting delivery of each batch); return the count."""
    sent = 0
    pending: list[Seq] = []
    async with Producer(Seq, bootstrap, topic=topic, linger_ms=5, **options) as producer:
        for n in ids:
            pending.append(Seq(n))
            if len(pending) == batch:
                sent += len(await producer.send_batch(pending))
                pending = []
        if pending:
            sent += len(await producer.send_batch(pending))
    return sent


@dataclass(frozen=True, slots=True)
class Line:
    """One message a worker processed: its id and where it came from."""

    n: int
    partition: int
    offset: int


def read_lines(path: Path) -> list[Line]:
    """Every complete line a worker wrote (a line cut by SIGKILL is not a processed message)."""
    if not path.exists():
        return []
    text = path.read_text()
    complete = text[: text.rfind("\n") + 1]
    lines = []
    for row in complete.splitlines():
        n, partition, offset = row.split()
        lines.append(Line(int(n), int(partition), int(offset)))
    return lines


def duplicates(lines: Sequence[Line]) -> int:
    """How many times an id was processed again after its first time."""
    return sum(count - 1 for count in Counter(line.n for line in lines).values())


def default_sigint() -> None:
    """In a child before it runs: SIGINT as a fresh process has it. A shell starts background
    jobs with SIGINT ignored and children inherit that, so a test that interrupts its child
    would otherwise depend on how the suite was started."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def spawn_worker(
    bootstrap: str,
    topic: str,
    group: str,
    out: Path,
    *extra: str,
    log: Path | None = None,
) -> subprocess.Popen[bytes]:
    """Start ``_consumer_worker.py`` in its own process (see its ``--help`` for ``extra``)."""
    stderr = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115 - closed below
    try:
        return subprocess.Popen(
            [
                sys.executable,
                str(WORKER),
                "--bootstrap",
                bootstrap,
                "--topic",
                topic,
                "--group",
                group,
                "--out",
                str(out),
                "--session-timeout-ms",
                str(SESSION_TIMEOUT_MS),
                "--heartbeat-interval-ms",
                str(HEARTBEAT_INTERVAL_MS),
                *extra,
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            preexec_fn=default_sigint,
        )
    finally:
        if not isinstance(stderr, int):
            stderr.close()


def wait_for_lines(
    path: Path, count: int, process: subprocess.Popen[bytes], timeout_s: float
) -> None:
    """Wait until ``path`` holds ``count`` lines; fail if the worker dies or time runs out.

    Counts newline bytes rather than parsing, so it can poll every few milliseconds: the
    workers process tens of thousands of messages a second.
    """
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if path.exists():
            with path.open("rb") as handle:
                if handle.read().count(b"\n") >= count:
                    return
        if process.poll() is not None:
            raise AssertionError(
                f"the worker exited with code {process.returncode} before {count} lines"
            )
        time.sleep(0.005)
    raise AssertionError(f"fewer than {count} lines in {path} after {timeout_s} s")


def stop_process(process: subprocess.Popen[bytes], signum: int, timeout_s: float) -> int:
    """Send ``signum`` to a process this test started (by its pid) and reap it, bounded."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(process.pid, signum)
    try:
        return process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=5)
        message = f"pid {process.pid} ignored signal {signum} for {timeout_s} s"
        raise AssertionError(message) from None


def wait_exit(process: subprocess.Popen[bytes], timeout_s: float) -> int:
    """The exit code of a worker expected to finish by itself; SIGKILL it if it does not."""
    try:
        return process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=5)
        raise AssertionError(f"the worker (pid {process.pid}) ran over {timeout_s} s") from None


async def committed_offsets(bootstrap: str, group: str, topic: str, partitions: int) -> list[int]:
    """The group's committed offset of each partition (0 where nothing is committed).

    Asked with aiokafka directly: a consumer that does not subscribe reads commits without
    joining the group, so it cannot disturb the group it inspects.
    """
    import aiokafka
    from aiokafka.structs import TopicPartition

    reader = aiokafka.AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False
    )
    await reader.start()
    try:
        offsets = []
        for partition in range(partitions):
            committed = await reader.committed(TopicPartition(topic, partition))
            offsets.append(0 if committed is None else int(committed))
        return offsets
    finally:
        await reader.stop()
