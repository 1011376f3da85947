"""Without ``instrument()`` dq-sdk imports nothing of OpenTelemetry, and without the ``otel``
extra installed it works as before and ``instrument()`` says which extra to install. Each case
runs in a fresh interpreter, so no other test's imports can hide an import."""

from __future__ import annotations

import subprocess
import sys
import textwrap

LIMIT_S = 60

ROUND_TRIP = """
import asyncio, sys
{prelude}
from dq_sdk import Consumer, Producer
from dq_sdk.schemas import PointingNumpyArray

async def main(bootstrap, topic):
    row = PointingNumpyArray.model_validate(dict.fromkeys(PointingNumpyArray.model_fields, 0.5)
                                            | {{"antenna_name": "SKA001"}})
    async with Producer(PointingNumpyArray, bootstrap, topic=topic) as producer:
        await producer.send(row)
        await producer.send_batch([row, row])
    async with Consumer(PointingNumpyArray, bootstrap, topics=[topic]) as consumer:
        got = [await consumer.receive(timeout_s=20) for _ in range(3)]
    assert [g.value for g in got] == [row] * 3
    assert all("traceparent" not in dict(g.headers) for g in got)

asyncio.run(main(sys.argv[1], sys.argv[2]))
{epilogue}
"""


def _run(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        capture_output=True,
        text=True,
        timeout=LIMIT_S,
        check=False,
    )


def test_clients_without_instrument_import_no_opentelemetry(
    dq_bootstrap: str, dq_topic: str
) -> None:
    code = ROUND_TRIP.format(
        prelude="import dq_sdk.telemetry",
        epilogue=(
            "loaded = sorted(m for m in sys.modules if m.startswith('opentelemetry'))\n"
            "assert not loaded, loaded\nprint('ok')"
        ),
    )
    done = _run(code, dq_bootstrap, dq_topic)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_without_the_extra_clients_work_and_instrument_names_the_extra(
    dq_bootstrap: str, dq_topic: str
) -> None:
    # A None entry in sys.modules makes every import of the package fail, as if not installed.
    code = ROUND_TRIP.format(
        prelude="sys.modules['opentelemetry'] = None",
        epilogue=(
            "from dq_sdk import MissingDependencyError\n"
            "from dq_sdk.telemetry import instrument, is_instrumented\n"
            "try:\n    instrument()\nexcept MissingDependencyError as error:\n"
            "    assert isinstance(error, ImportError)\n    print(error)\n"
            "assert not is_instrumented()"
        ),
    )
    done = _run(code, dq_bootstrap, dq_topic)
    assert done.returncode == 0, done.stderr
    assert "pip install 'dq-sdk[otel]'" in done.stdout
    assert "opentelemetry-api" in done.stdout
