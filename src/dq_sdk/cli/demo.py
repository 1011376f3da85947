"""``dq-sdk demo``: pointing and metrics data through a real broker, typed, checked."""

from __future__ import annotations

from typing import Annotated

import typer

from ._common import BootstrapOption, parse_bootstrap

__all__ = ["demo"]


def demo(
    antennas: Annotated[int, typer.Option(min=1, help="Rows per pointing array.")] = 200,
    rounds: Annotated[int, typer.Option(min=1, help="Messages per stream.")] = 50,
    bootstrap: BootstrapOption = None,
) -> int:
    """Move pointing and metrics data through Kafka (default: $DQ_SDK_BOOTSTRAP or a local
    broker started for the demo) and check every message comes back equal."""
    from ..demo import run_demo

    servers = None if bootstrap is None else parse_bootstrap(bootstrap, "--bootstrap")[0]
    return run_demo(antennas=antennas, rounds=rounds, bootstrap=servers)
