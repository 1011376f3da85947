"""Codecs on large arrays, against the cost of one ``ndarray.copy()`` of the same array.

Encoding must cost about one copy (the array's memory into the message) and decoding must
cost nearly nothing (a read-only view of the received bytes, no copy).
"""

from __future__ import annotations

from functools import partial

import numpy as np

from dq_sdk.codecs import Encoding, decode, encode

from ._core import Row, Settings, best_time, ratio_row

__all__ = ["run"]

AREA = "codec"
MiB = 2**20


def _array_rows(nbytes: int, settings: Settings) -> list[Row]:
    array = np.random.default_rng(7).standard_normal(nbytes // 4, dtype=np.float32)
    label = f"float32 {nbytes // MiB} MiB"
    # Larger arrays get fewer calls per repeat but more repeats: page faults make them noisy.
    repeats = max(settings.repeats, 3) * (2 if nbytes > MiB else 1)
    copy = Row(
        AREA,
        "ndarray.copy()",
        label,
        best_time(array.copy, settings.micro_seconds, repeats) * 1e6,
        "us",
    )
    rows = [copy]
    for encoding in (Encoding.NPY, Encoding.MSGPACK_NUMPY):
        data = encode(array, encoding)
        encode_s = best_time(partial(encode, array, encoding), settings.micro_seconds, repeats)
        decode_s = best_time(partial(decode, data, encoding), settings.micro_seconds, repeats)
        rows.append(
            ratio_row(
                Row(AREA, f"encode {encoding.value}", label, encode_s * 1e6, "us"),
                copy,
                target="<= 1.3" if nbytes == 16 * MiB else None,
            )
        )
        rows.append(
            ratio_row(
                Row(AREA, f"decode {encoding.value}", label, decode_s * 1e6, "us"),
                copy,
                target="<= 0.05" if nbytes == 16 * MiB else None,
            )
        )
    return rows


def run(settings: Settings) -> list[Row]:
    return [*_array_rows(MiB, settings), *_array_rows(16 * MiB, settings)]
