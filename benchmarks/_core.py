"""Run settings, result rows and the timing rules every area follows.

- Every timed loop has a fixed count; every wait is bounded by :data:`CASE_LIMIT_S`.
- A figure is the best of ``repeats`` runs (the least disturbed one).
- The cases of one comparison run interleaved, repeat by repeat, so a slow spell of the
  machine hits both sides of a ratio alike.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

__all__ = [
    "CASE_LIMIT_S",
    "Row",
    "Settings",
    "best_of",
    "best_time",
    "best_times",
    "interleaved",
    "ratio_row",
]

#: Upper bound on one timed case; a case past it fails the run rather than hang it.
CASE_LIMIT_S = 120.0

Better = Literal["higher", "lower"]


@dataclass(frozen=True)
class Settings:
    """How much work each case does. ``quick`` is the smoke-test size."""

    quick: bool = False
    repeats: int = 5
    small_send: int = 4_000
    small_batch: int = 20_000
    large_scale: float = 1.0  # multiplies the message counts of the large payloads
    micro_seconds: float = 0.2  # time budget of one micro-benchmark repeat

    @classmethod
    def full(cls) -> Settings:
        return cls()

    @classmethod
    def smoke(cls) -> Settings:
        return cls(
            quick=True,
            repeats=1,
            small_send=100,
            small_batch=1_000,
            large_scale=0.1,
            micro_seconds=0.02,
        )

    def count(self, full: int) -> int:
        """A large-payload message count, scaled down in quick mode (at least 2)."""
        return max(2, round(full * self.large_scale))


@dataclass(frozen=True)
class Row:
    """One line of the results table.

    ``value`` is in ``unit``; ``ratio`` compares it with ``baseline`` (another row's case,
    measured in the same run); ``target`` is the goal for that ratio, e.g. ``">= 0.95"``.
    """

    area: str
    case: str
    payload: str
    value: float
    unit: str
    baseline: str | None = None
    ratio: float | None = None
    target: str | None = None
    met: bool | None = None
    note: str = ""
    extra: Mapping[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def meets(ratio: float, target: str | None) -> bool | None:
    """Whether ``ratio`` satisfies ``target`` (``">= x"`` or ``"<= x"``)."""
    if target is None:
        return None
    op, number = target.split()
    return ratio >= float(number) if op == ">=" else ratio <= float(number)


def ratio_row(
    row: Row, baseline: Row, *, target: str | None = None, note: str = "", time_based: bool = False
) -> Row:
    """``row`` with its ratio to ``baseline``: value / baseline (time / baseline time)."""
    ratio = row.value / baseline.value if baseline.value else float("nan")
    del time_based  # the ratio reads the same for rates and times: value over baseline value
    return Row(
        area=row.area,
        case=row.case,
        payload=row.payload,
        value=row.value,
        unit=row.unit,
        baseline=baseline.case,
        ratio=ratio,
        target=target,
        met=meets(ratio, target),
        note=note or row.note,
        extra=row.extra,
    )


async def interleaved(
    cases: Mapping[str, Callable[[], Awaitable[float]]], repeats: int, better: Better
) -> dict[str, float]:
    """Run every case ``repeats`` times, interleaved; return each case's best figure.

    A case returns one figure (a rate or a time); ``better`` says which end is best.
    """
    results: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(repeats):
        for name, case in cases.items():
            async with asyncio.timeout(CASE_LIMIT_S):
                results[name].append(await case())
    pick = max if better == "higher" else min
    return {name: pick(values) for name, values in results.items()}


def best_time(call: Callable[[], object], budget_s: float, repeats: int) -> float:
    """Best seconds per call of ``call``: each repeat loops for about ``budget_s``."""
    call()  # warm caches and lazy imports outside the timing
    start = time.perf_counter()
    call()
    once = max(time.perf_counter() - start, 1e-7)
    number = max(1, min(100_000, int(budget_s / once)))
    return best_of(call, number, repeats)


def best_times(
    calls: Mapping[str, Callable[[], object]], budget_s: float, repeats: int
) -> dict[str, float]:
    """Best seconds per call of each of ``calls``, their repeats interleaved (see module)."""
    numbers = {}
    for name, call in calls.items():
        call()  # warm caches and lazy imports outside the timing
        start = time.perf_counter()
        call()
        numbers[name] = max(1, min(100_000, int(budget_s / max(time.perf_counter() - start, 1e-7))))
    best = dict.fromkeys(calls, float("inf"))
    for _ in range(repeats):
        for name, call in calls.items():
            best[name] = min(best[name], best_of(call, numbers[name], 1))
    return best


def best_of(call: Callable[[], object], number: int, repeats: int) -> float:
    """Best seconds per call over ``repeats`` loops of ``number`` calls."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(number):
            call()
        best = min(best, (time.perf_counter() - start) / number)
    return best


def rate(messages: int, seconds: float) -> float:
    return messages / seconds if seconds > 0 else float("inf")


def rows_by_case(rows: Sequence[Row]) -> dict[tuple[str, str], Row]:
    return {(row.case, row.payload): row for row in rows}
