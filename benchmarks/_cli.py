"""``python -m benchmarks [--quick] [--area AREA ...] [--payload NAME ...] [--bootstrap HOST:PORT]
[--out DIR]``.

Uses ``DQ_SDK_BOOTSTRAP`` (or ``--bootstrap``) when given; otherwise starts a local broker
(``DQ_SDK_BROKER_ENGINE``: tansu by default here, or noida) on 127.0.0.1 and stops it by its pid at
the end. Not noida by default: noida-db 0.2.3 ignores a fetch's byte limits and answers a
consumer of 16 MiB records with one response of every record it holds, which librdkafka refuses
(over ``receive.message.max.bytes``), so the large-payload consumer cases cannot run there
(docs/performance.md).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import time
from collections.abc import Sequence
from pathlib import Path

from dq_sdk.testing import ENGINE_ENV, bootstrap_from_env, engine_from_env, start_broker

from . import _report, codecs, consumers, engines, producers, settings, telemetry, validation, view
from ._core import Row, Settings
from ._payloads import payloads

__all__ = ["AREAS", "OPT_IN", "main", "run"]

AREAS = ("codecs", "validation", "producers", "consumers", "settings", "telemetry", "engines")
#: Areas run only when named with --area (the view needs Debian's Chromium).
OPT_IN = ("view",)
RESULTS = Path(__file__).parent / "results"


async def run(
    bootstrap: str, chosen: Sequence[str], config: Settings, only: Sequence[str] = ()
) -> list[Row]:
    """Every chosen area, in a fixed order; broker-free areas first. ``only``: payloads whose
    names start with one of these (all when empty)."""
    loads = [p for p in payloads(config) if not only or p.name.startswith(tuple(only))]
    rows: list[Row] = []
    for area in (*AREAS, *OPT_IN):
        if area not in chosen:
            continue
        started = time.perf_counter()
        if area == "codecs":
            rows += codecs.run(config)
        elif area == "validation":
            rows += validation.run(loads, config)
        elif area == "producers":
            rows += await producers.run(bootstrap, loads, config)
        elif area == "consumers":
            rows += await consumers.run(bootstrap, loads, config)
        elif area == "settings":
            rows += await settings.run(bootstrap, loads, config)
        elif area == "view":
            rows += await view.run(bootstrap, config)
        elif area == "telemetry":
            rows += await telemetry.run(bootstrap, loads, config)
        else:
            rows += await engines.run(config)
        print(f"  {area}: {time.perf_counter() - started:.1f} s", flush=True)
    return rows


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smoke-test sizes, one repeat")
    parser.add_argument(
        "--area", action="append", choices=AREAS + OPT_IN, help="only these areas (view: opt-in)"
    )
    parser.add_argument(
        "--payload", action="append", default=[], help="only payloads named so, e.g. 'row'"
    )
    parser.add_argument("--bootstrap", help="an existing Kafka cluster (else DQ_SDK_BOOTSTRAP)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="results directory")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    config = Settings.smoke() if args.quick else Settings.full()
    chosen = args.area or list(AREAS)
    # librdkafka's and aiokafka's warnings about brokers going away at the end are not results.
    logging.basicConfig(level=logging.ERROR)
    existing = args.bootstrap or bootstrap_from_env()
    engine_asked = os.environ.get(ENGINE_ENV, "").strip()
    broker = (
        None if existing else start_broker(engine=engine_from_env() if engine_asked else "tansu")
    )
    bootstrap = existing or (broker.bootstrap if broker else "")
    engine = broker.engine if broker else "existing cluster"
    kind = (
        "existing cluster" if existing else f"local {engine} (pid {broker.pid if broker else '?'})"
    )
    print(f"dq-sdk benchmarks ({'quick' if args.quick else 'full'}) against {bootstrap} [{kind}]")
    try:
        rows = asyncio.run(run(bootstrap, chosen, config, args.payload))
    finally:
        if broker is not None:
            broker.stop()
    env = _report.environment(bootstrap, engine, config)
    print(_report.text(rows))
    json_path, md_path = _report.write(rows, env, args.out)
    print(f"written: {json_path} and {md_path}")
    return 0
