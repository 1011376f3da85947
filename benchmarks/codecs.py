"""Codecs on large arrays, against the cost of one ``ndarray.copy()`` of the same array.

Encoding must cost about one copy (the array's memory into the message) and decoding must
cost nearly nothing (a read-only view of the received bytes, no copy).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import numpy as np

from dq_sdk.codecs import Encoding, decode, encode

from ._core import Row, Settings, best_times, ratio_row

__all__ = ["run"]

AREA = "codec"
MiB = 2**20


def _array_rows(nbytes: int, settings: Settings) -> list[Row]:
    array = np.random.default_rng(7).standard_normal(nbytes // 4, dtype=np.float32)
    label = f"float32 {nbytes // MiB} MiB"
    calls: dict[str, Callable[[], object]] = {"ndarray.copy()": array.copy}
    for encoding in (Encoding.NPY, Encoding.MSGPACK_NUMPY):
        data = encode(array, encoding)
        calls[f"encode {encoding.value}"] = partial(encode, array, encoding)
        calls[f"decode {encoding.value}"] = partial(decode, data, encoding)
    # Large arrays get more repeats: page faults of fresh 16 MiB buffers make them noisy.
    repeats = max(settings.repeats, 3) * (2 if nbytes > MiB else 1)
    seconds = best_times(calls, settings.micro_seconds, repeats)
    copy = Row(AREA, "ndarray.copy()", label, seconds["ndarray.copy()"] * 1e6, "us")
    rows = [copy]
    large = nbytes == 16 * MiB
    for case, best in seconds.items():
        if case == copy.case:
            continue
        target = ("<= 1.3" if case.startswith("encode") else "<= 0.05") if large else None
        rows.append(ratio_row(Row(AREA, case, label, best * 1e6, "us"), copy, target=target))
    return rows


def run(settings: Settings) -> list[Row]:
    return [*_array_rows(MiB, settings), *_array_rows(16 * MiB, settings)]
