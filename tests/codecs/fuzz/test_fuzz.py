"""The short fuzz run of every decoder (the full one: ``python -m tests.codecs.fuzz``), a check that
the harness itself catches what it looks for, and 100 GB claims refused before allocation."""

from __future__ import annotations

import pickle
import time
import tracemalloc
import warnings

import msgpack  # type: ignore[import-untyped]
import numpy as np
import pytest
import xarray as xr

from dq_sdk import DecodeError
from dq_sdk.codecs import Encoding, decode, encode

from . import _engine
from ._engine import DECODERS, run

SHORT_RUN = 5_000
MP = Encoding.MSGPACK_NUMPY


@pytest.mark.parametrize("strict", [False, True], ids=["warnings-counted", "warnings-as-errors"])
@pytest.mark.parametrize("encoding", DECODERS, ids=lambda e: e.value)
def test_decoder_raises_only_dq_errors_on_fuzz_input(encoding: Encoding, strict: bool) -> None:
    report = run(encoding, SHORT_RUN, seed=2026, warnings_as_errors=strict)
    details = [f.detail for f in report.findings]
    assert not report.escaped, details
    assert report.slow == 0, details
    # Both outcomes were reached: the inputs are neither all valid nor all rubbish.
    assert report.decoded > 0 and sum(report.rejected.values()) > 0
    assert report.inputs == SHORT_RUN


@pytest.mark.parametrize("encoding", [Encoding.MSGPACK_NUMPY, Encoding.NPY], ids=str)
def test_a_deprecated_dtype_alias_is_a_decode_error_when_warnings_are_errors(
    encoding: Encoding,
) -> None:
    """Found by the fuzzer: numpy warns about the 'a' alias, and under filterwarnings=error
    that DeprecationWarning escaped the decoder."""
    if encoding is Encoding.NPY:
        header = "{'descr': '|a2', 'fortran_order': False, 'shape': (1,), }\n"
        message = b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode()
    else:
        message = msgpack.packb(
            {b"nd": True, b"type": "|a2", b"kind": b"", b"shape": [1], b"data": b"ab"},
            use_bin_type=True,
        )
    payload = message + (b"ab" if encoding is Encoding.NPY else b"")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(DecodeError, match="deprecated"):
            decode(payload, encoding)


_TWO_ZEROS = {b"nd": True, b"type": "<f8", b"kind": b"", b"shape": [2], b"data": bytes(16)}


@pytest.mark.parametrize("field", ["format", "version"])
def test_an_array_where_a_plain_value_belongs_is_a_decode_error(field: str) -> None:
    """Found by the fuzzer (seed 1): a field the decoder compared with ``==`` held an array,
    whose elementwise comparison raised numpy's "truth value ... is ambiguous" ValueError."""
    message: dict[str, object] = {"format": "dq-sdk/xarray", "version": 1, field: _TWO_ZEROS}
    with pytest.raises(DecodeError):
        decode(msgpack.packb(message, use_bin_type=True), Encoding.XARRAY)


def test_an_array_as_the_kind_of_an_array_map_is_ignored_like_any_kind() -> None:
    """Same finding in msgpack_numpy: only b"O" in ``kind`` matters (it is refused)."""
    array = decode(msgpack.packb({**_TWO_ZEROS, b"kind": _TWO_ZEROS}, use_bin_type=True), MP)
    assert isinstance(array, np.ndarray) and array.tolist() == [0.0, 0.0]


def test_the_harness_reports_foreign_exceptions_and_unpickling(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A decoder that leaks a ValueError or unpickles must not pass the fuzz run."""

    def leaky(data: bytes | bytearray | memoryview, encoding: Encoding) -> object:
        if bytes(data[:1]) == b"{":
            raise ValueError("leaked")
        if bytes(data[:1]) == b"[":
            return pickle.loads(pickle.dumps(data))
        return decode(data, encoding)

    monkeypatch.setattr(_engine, "decode", leaky)
    report = run(Encoding.JSON, 300, seed=1)
    assert report.escaped["ValueError"] > 0
    assert report.escaped["UnpicklingAttempt"] > 0
    assert not report.ok and report.findings


def _array_map(shape: list[int]) -> dict[bytes, object]:
    return {b"nd": True, b"type": "<f8", b"kind": b"", b"shape": shape, b"data": b"\0" * 8}


def _hundred_gb_claims() -> dict[Encoding, bytes]:
    shape = [100_000, 125_000]  # 1.25e10 float64 = 100 GB
    header = f"{{'descr': '<f8', 'fortran_order': False, 'shape': {tuple(shape)}, }}"
    npy = b"\x93NUMPY\x01\x00" + len(header + "\n").to_bytes(2, "little") + header.encode()
    npy += b"\n" + b"\0" * 8
    valid = encode(xr.Dataset({"v": (("a",), np.zeros(1))}), Encoding.XARRAY)
    dataset = msgpack.unpackb(valid, raw=False, strict_map_key=False)
    dataset["data_vars"]["v"]["data"] = _array_map(shape)
    dataset["data_vars"]["v"]["dims"] = ["a", "b"]
    return {
        Encoding.NPY: npy,
        Encoding.MSGPACK_NUMPY: msgpack.packb(_array_map(shape), use_bin_type=True),
        Encoding.XARRAY: msgpack.packb(dataset, use_bin_type=True),
    }


@pytest.mark.parametrize(
    "encoding", [Encoding.NPY, Encoding.MSGPACK_NUMPY, Encoding.XARRAY], ids=lambda e: e.value
)
def test_a_100_gb_claim_is_refused_before_anything_is_allocated(encoding: Encoding) -> None:
    message = _hundred_gb_claims()[encoding]
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(DecodeError, match="max_array_bytes"):
            decode(message, encoding)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert time.perf_counter() - started < 1.0
    assert peak < 1024 * 1024, f"{peak} bytes allocated while refusing the claim"
