"""The results table: printed, and written as JSON and Markdown under ``benchmarks/results/``."""

from __future__ import annotations

import json
import platform
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from ._core import Row, Settings

__all__ = ["environment", "markdown", "text", "write"]

_HEADER = ("area", "case", "payload", "value", "unit", "ratio", "vs", "target", "met")


def environment(bootstrap: str, broker: str, settings: Settings) -> dict[str, Any]:
    versions = {}
    for dist in ("dq-sdk", "aiokafka", "confluent-kafka", "numpy", "msgpack"):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = "not installed"
    return {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "machine": f"{platform.system()} {platform.machine()}",
        "bootstrap": bootstrap,
        "broker": broker,
        "mode": "quick" if settings.quick else "full",
        "repeats": settings.repeats,
        "versions": versions,
    }


def _number(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}"


def _cells(row: Row) -> tuple[str, ...]:
    ratio = "" if row.ratio is None else f"{row.ratio:.2f}x"
    met = {None: "", True: "yes", False: "NO"}[row.met]
    value = _number(row.value)
    if "MiB/s" in row.extra and row.extra["MiB/s"] >= 1:
        value += f" ({_number(row.extra['MiB/s'])} MiB/s)"
    if "wire/encoded" in row.extra:
        value += f" (wire {row.extra['wire/encoded']:.0%} of encoded)"
    return (
        row.area,
        row.case,
        row.payload,
        value,
        row.unit,
        ratio,
        row.baseline or "",
        row.target or "",
        met,
    )


def text(rows: Sequence[Row]) -> str:
    """A plain aligned table for the terminal."""
    table = [_HEADER, *(_cells(row) for row in rows)]
    widths = [max(len(line[i]) for line in table) for i in range(len(_HEADER))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in table
    )


def markdown(rows: Sequence[Row], env: Mapping[str, Any]) -> str:
    lines = [
        "# dq-sdk benchmark results",
        "",
        f"{env['when']}, {env['mode']} run (best of {env['repeats']}), Python {env['python']} "
        f"on {env['machine']}, broker: {env['broker']}.",
        "Versions: " + ", ".join(f"{k} {v}" for k, v in env["versions"].items()) + ".",
        "",
        "Ratios compare two figures of this run: `ratio = value / value of 'vs'` "
        "(for times, lower is better; for msg/s, higher is better).",
        "",
        "| " + " | ".join(_HEADER) + " |",
        "|" + "|".join("---" for _ in _HEADER) + "|",
    ]
    lines += ["| " + " | ".join(_cells(row)) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def write(rows: Sequence[Row], env: Mapping[str, Any], directory: Path) -> tuple[Path, Path]:
    """Write ``latest.json`` and ``latest.md`` into ``directory``; return their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    json_path, md_path = directory / "latest.json", directory / "latest.md"
    document = {"environment": dict(env), "rows": [row.as_dict() for row in rows]}
    json_path.write_text(json.dumps(document, indent=2) + "\n")
    md_path.write_text(markdown(rows, env))
    return json_path, md_path
