"""Fuzz targets for every decoder, a deterministic mutation fuzzer, and the run loop.

The property: ``dq_sdk.codecs.decode(data, encoding)`` either returns a value or raises a
:class:`dq_sdk.DQError`, for any bytes, promptly, without ever unpickling. Anything else (a
``ValueError``, ``MemoryError``, ``RecursionError``, an attempt to unpickle, a slow input) is a
finding.

Inputs come from ``random.Random(seed)``, so a run is reproducible from its seed, and are:

- random bytes, of random length;
- mutations of valid encodings (the seeds below): bit flips, "interesting" bytes (msgpack
  type tags, 0x00/0xff...), truncation, extension, splices of two seeds, inserted and deleted
  runs, length fields overwritten with huge values, dictionary tokens;
- structure-aware mutations that keep the outer format valid so the decoders' deeper checks
  are reached: a msgpack tree (msgpack_numpy, xarray) with one node replaced by a hostile value
  (a 100 GB shape, a pickle kind, odd dtypes), or an npy header whose shape, descr or
  fortran_order is replaced and whose length field is then made right.

Every decoded value is read in full (array memory included), so a view that points outside its
buffer would crash the run rather than go unnoticed.
"""

from __future__ import annotations

import contextlib
import pickle
import random
import signal
import struct
import threading
import time
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TextIO

# msgpack ships no type information (as in dq_sdk.codecs).
import msgpack  # type: ignore[import-untyped]
import numpy as np

from dq_sdk import DQError
from dq_sdk.codecs import Encoding, decode, encode

__all__ = ["DECODERS", "FuzzReport", "generate", "run", "seeds"]

DECODERS: tuple[Encoding, ...] = (
    Encoding.UTF8,
    Encoding.ASCII,
    Encoding.MSGPACK_NUMPY,
    Encoding.NPY,
    Encoding.JSON,
    Encoding.XARRAY,
)

#: An input slower than this is a finding (the brief: flag anything over a second).
SLOW_S = 1.0
#: CPU seconds after which one input is stopped and reported as a hang.
HANG_S = 10.0

_HUGE = (2**31 - 1, 2**31, 2**32 - 1, 2**32, 2**63 - 1, 2**64 - 1, 10**11, 100_000_000_000)
_INTERESTING_INTS = (0, 1, -1, 7, 255, 256, 65535, 65536, -(2**63), *_HUGE)
_INTERESTING_BYTES = bytes(
    [
        *(0x00, 0x01, 0x7F, 0x80, 0xFF, 0x93),  # boundaries; 0x93 starts the npy magic
        *(0xC0, 0xC1, 0xC2, 0xC3, 0xC4, 0xC5, 0xC6, 0xC7, 0xC9, 0xCE, 0xCF, 0xD3),  # msgpack
        *(0xD4, 0xD8, 0xD9, 0xDB, 0xDC, 0xDD, 0xDE, 0xDF, 0x90, 0xA0),
        *b"'(){}[]\",:\n",  # npy header and JSON syntax
    ]
)
_DTYPE_STRINGS = (
    "O",
    "|O",
    "<f8",
    ">f8",
    "|V0",
    "|V16",
    "V",
    "<U0",
    "<U1073741824",
    "|S0",
    "|S2147483648",
    "<M8[ns]",
    "<m8[D]",
    "<M8[as]",
    "<c16",
    "?",
    "<i8",
    "(2,3)<f8",
    "(1000000,1000000)<f8",
    "[('a', '<f8')]",
    "T",
    "",
    "x" * 200,
    "<" + "f" * 300,
)
_TOKENS: dict[Encoding, tuple[bytes, ...]] = {
    Encoding.JSON: (
        b"[" * 100_000,
        b"{" * 50_000,
        b'{"a":' * 2_000,
        b"9" * 10_000,
        b"1e999999",
        b"-0",
        b"NaN",
        b"-Infinity",
        b'"\\ud800"',
        b'"\\u0000"',
        b"\xef\xbb\xbf",
        b"\xff\xfe",
        b"null",
        b",",
        b'"',
    ),
    Encoding.NPY: (
        b"\x93NUMPY\x01\x00",
        b"\x93NUMPY\x03\x00",
        b"'shape': (100000, 125000), ",
        b"'shape': (-1,), ",
        b"'descr': '|O', ",
        b"'descr': [('a', '<f8', (1000000, 1000000))], ",
        b"'fortran_order': 1, ",
        b"(" * 5_000,
        b"\xff\xff\xff\xff",
    ),
}
_MSGPACK_TOKENS = (
    b"\x81\xa2nd\xc3",
    b"\xc4\x04kind\xc4\x01O",
    b"\xc6\xff\xff\xff\xff",
    b"\xdb\xff\xff\xff\xff",
    b"\xdd\xff\xff\xff\xff",
    b"\xdf\xff\xff\xff\xff",
    b"\xc9\xff\xff\xff\xff\x01",
    b"\xd6\xff\x00\x00\x00\x00",
    b"\xd7\xff" + b"\xff" * 8,
    b"\x91" * 2_000,
    b"\xc1",
)


# --- seeds -------------------------------------------------------------------------------


def _pointing_dtype() -> np.dtype[Any]:
    return np.dtype(
        [("antenna_name", "<U6"), ("xel_offset", "<f8"), ("el_offset", "<f8"), ("n", "<i4")]
    )


def _arrays() -> list[np.ndarray[Any, Any]]:
    rows = np.zeros(3, dtype=_pointing_dtype())
    rows["antenna_name"] = ["SKA001", "SKA002", "SKA003"]
    rows["xel_offset"] = [0.1, np.nan, -0.2]
    return [
        np.arange(12, dtype="<f8").reshape(3, 4),
        np.asfortranarray(np.arange(6, dtype=">i4").reshape(2, 3)),
        np.array([1 + 2j, 3 - 4j], dtype="<c16"),
        np.array([True, False, True]),
        np.array(["ab", "cde"], dtype="<U3"),
        np.array([b"ab", b"c"], dtype="|S2"),
        np.array(["2026-01-01T00:00:00"], dtype="<M8[ns]"),
        np.array([5, -5], dtype="<m8[s]"),
        np.array(3.5),
        np.zeros((0, 4)),
        np.zeros((2, 0, 3), dtype=np.int16),
        rows,
        np.zeros(2, dtype=[("nested", [("x", "<f4", (2,))]), ("y", "u1")]),
    ]


def _xarray_seeds() -> list[bytes]:
    import xarray as xr

    time_coord = np.array(["2026-01-01T00:00:00", "2026-01-01T00:00:01"], dtype="<M8[ns]")
    datasets = [
        xr.Dataset(),
        xr.Dataset(
            {"power": (("time", "chan"), np.arange(6.0).reshape(2, 3), {"units": "W"})},
            coords={"time": time_coord, "chan": [1, 2, 3]},
            attrs={"band": "Band2", "centre": [1.5, -0.5], "n": np.float64(2.0)},
        ),
        xr.Dataset(
            {
                "vis": (("baseline",), np.array([1j, 2 + 0j])),
                "flag": (("baseline",), [True, False]),
                "label": (("baseline",), np.array(["a-b", "c-d"])),
                "scalar": ((), 5.0),
            }
        ),
    ]
    return [encode(dataset, Encoding.XARRAY) for dataset in datasets]


def seeds(encoding: Encoding) -> list[bytes]:
    """Valid messages of ``encoding``, the starting points of the mutations."""
    if encoding in (Encoding.UTF8, Encoding.ASCII):
        texts = ["", "hello", "SKA001,SKA002", "pointing_offset\n" * 20, "\x00\x7f"]
        if encoding is Encoding.UTF8:
            texts += ["ångström", "🛰 telescope", "\u2028\ufeff", "é" * 100]
        return [encode(text, encoding) for text in texts]
    if encoding is Encoding.NPY:
        return [encode(array, encoding) for array in _arrays()] + [
            encode(np.zeros(2, dtype=[("ünïcode", "<f8")]), encoding)  # a version 3.0 header
        ]
    if encoding is Encoding.MSGPACK_NUMPY:
        values: list[object] = [
            *_arrays(),
            {"pointing": _arrays()[11], "scan": 7, "ok": True, "note": None},
            [np.float32(1.5), np.int64(-3), np.bool_(True), np.datetime64("2026-01-01")],
            {"complex": 1 + 2j, "bytes": b"\x00\x01", "nested": [[1, [2, [3]]], {"a": {}}]},
            {"big": np.arange(20_000, dtype="<f8")},  # over the writer's 64 KiB inline limit
            [],
            "text",
            2**63,
        ]
        return [encode(value, encoding) for value in values]
    if encoding is Encoding.JSON:
        docs: list[object] = [
            {},
            [],
            {"a": [1, 2.5, None, True, "x"], "b": {"c": float("nan")}},
            [[[[]]]],
            "ünïcode",
            -1.5e-300,
            {"data": list(range(50)), "data_type": "spectrum"},
        ]
        return [encode(doc, encoding) for doc in docs]
    if encoding is Encoding.XARRAY:
        return _xarray_seeds()
    raise ValueError(f"no seeds for {encoding}")


# --- mutations -----------------------------------------------------------------------------


def _random_bytes(rnd: random.Random) -> bytes:
    size = rnd.choice((0, 1, 2, 8, rnd.randrange(64), rnd.randrange(512)))
    return rnd.randbytes(size)


def _flip_bits(data: bytearray, rnd: random.Random) -> None:
    for _ in range(rnd.randint(1, 8)):
        if data:
            data[rnd.randrange(len(data))] ^= 1 << rnd.randrange(8)


def _interesting_byte(data: bytearray, rnd: random.Random) -> None:
    for _ in range(rnd.randint(1, 4)):
        if data:
            data[rnd.randrange(len(data))] = rnd.choice(_INTERESTING_BYTES)


def _huge_length(data: bytearray, rnd: random.Random) -> None:
    """Overwrite 1, 2, 4 or 8 bytes with a huge or boundary value (a length field, often)."""
    if not data:
        return
    width = rnd.choice((1, 2, 4, 8))
    value = rnd.choice(_INTERESTING_INTS) % (1 << (8 * width))
    raw = value.to_bytes(width, rnd.choice(("big", "little")))
    # Prefer the bytes right after a msgpack length-carrying tag.
    tags = [i for i, b in enumerate(data) if b in (0xC4, 0xC5, 0xC6, 0xD9, 0xDA, 0xDB, 0xDC, 0xDD)]
    at = rnd.choice(tags) + 1 if tags and rnd.random() < 0.7 else rnd.randrange(len(data))
    data[at : at + width] = raw


def _truncate(data: bytearray, rnd: random.Random) -> None:
    del data[rnd.randrange(len(data) + 1) :]


def _extend(data: bytearray, rnd: random.Random) -> None:
    data += rnd.choice((rnd.randbytes(rnd.randrange(1, 32)), bytes(data), b"\x00"))


def _insert(data: bytearray, rnd: random.Random, tokens: tuple[bytes, ...]) -> None:
    at = rnd.randrange(len(data) + 1)
    piece = rnd.choice(tokens) if tokens and rnd.random() < 0.6 else rnd.randbytes(8)
    data[at:at] = piece


def _delete(data: bytearray, rnd: random.Random) -> None:
    if data:
        at = rnd.randrange(len(data))
        del data[at : at + rnd.randint(1, 16)]


def _splice(data: bytearray, other: bytes, rnd: random.Random) -> None:
    cut = rnd.randrange(len(data) + 1)
    del data[cut:]
    data += other[rnd.randrange(len(other) + 1) :]


def _hostile_value(rnd: random.Random) -> object:
    """A value to put into a msgpack tree where a decoder expects something sane."""
    kind = rnd.randrange(10)
    if kind == 0:
        return [rnd.choice(_HUGE) for _ in range(rnd.randint(1, 4))]  # a huge shape
    if kind == 1:
        return [rnd.choice(_INTERESTING_INTS[:7]) for _ in range(rnd.randint(0, 40))]
    if kind == 2:
        return rnd.choice(_DTYPE_STRINGS)
    if kind == 3:
        return rnd.choice((b"O", b"V", b"", b"x", True, False, None))
    if kind == 4:
        return rnd.choice(_INTERESTING_INTS)
    if kind == 5:
        return rnd.randbytes(rnd.choice((0, 1, 7, 8, 24, 100)))
    if kind == 6:  # a structured descr, sometimes deep or self-contradictory
        fields: object = [["a", "<f8"]]
        for _ in range(rnd.randint(0, 40)):
            fields = [["f", fields, rnd.choice(([2], [10**6, 10**6], [-1], 3))]]
        return fields
    if kind == 7:
        nested: object = []
        for _ in range(rnd.randint(1, 300)):
            nested = [nested]
        return nested
    if kind == 8:  # an array map, valid or not, where a plain value is expected
        if rnd.random() < 0.5:
            return {b"nd": True, b"type": "<f8", b"kind": b"", b"shape": [2], b"data": bytes(16)}
        return {b"nd": rnd.choice((True, False, 1)), b"type": "<f8", b"shape": [1], b"data": b""}
    return rnd.choice((1.5, float("nan"), "x" * rnd.randrange(100), {}, {"": None}))


def _nodes(tree: object) -> list[tuple[Any, Any]]:
    """(container, key) pairs for every value in a decoded msgpack tree."""
    found: list[tuple[Any, Any]] = []
    stack = [tree]
    while stack and len(found) < 5_000:
        node = stack.pop()
        if isinstance(node, dict):
            for key, value in node.items():
                found.append((node, key))
                stack.append(value)
        elif isinstance(node, list):
            for index, value in enumerate(node):
                found.append((node, index))
                stack.append(value)
    return found


def _mutate_tree(seed: bytes, rnd: random.Random) -> bytes | None:
    """Replace, drop or add one node of a msgpack seed; None if the seed is not msgpack."""
    try:
        tree = msgpack.unpackb(seed, raw=False, strict_map_key=False, use_list=True)
    except Exception:
        return None
    nodes = _nodes(tree)
    if not nodes:
        tree = _hostile_value(rnd)
    else:
        for _ in range(rnd.randint(1, 3)):
            container, key = rnd.choice(nodes)
            action = rnd.random()
            if action < 0.75:
                container[key] = _hostile_value(rnd)
            elif action < 0.9 and isinstance(container, dict):
                del container[key]
                nodes = _nodes(tree)
                if not nodes:
                    break
            elif isinstance(container, dict):
                container[rnd.choice((b"kind", b"nd", b"shape", "dims", 7))] = _hostile_value(rnd)
    try:
        packed: bytes = msgpack.packb(tree, use_bin_type=True)
    except Exception:
        return None
    return packed


def _mutate_npy_header(seed: bytes, rnd: random.Random) -> bytes | None:
    """Rewrite an npy header (shape, descr, fortran_order) with a length field that fits."""
    if not seed.startswith(b"\x93NUMPY") or len(seed) < 10:
        return None
    version = seed[6]
    size_format = "<H" if version == 1 else "<I"
    start = 8 + struct.calcsize(size_format)
    (length,) = struct.unpack_from(size_format, seed, 8)
    data = seed[start + length :]
    shape = rnd.choice(
        (
            (rnd.choice(_HUGE),),
            (100_000, 125_000),
            tuple(rnd.randrange(5) for _ in range(rnd.randint(0, 40))),
            (-1,),
            (2**63, 2**63, 0),
            "(3,)",
            (1.5,),
        )
    )
    descr = rnd.choice((*_DTYPE_STRINGS, [("a", "<f8", (10**6, 10**6))], [("a", "O")], 7))
    fortran = rnd.choice((True, False, 1, None, "yes"))
    text = f"{{'descr': {descr!r}, 'fortran_order': {fortran!r}, 'shape': {shape!r}, }}"
    if rnd.random() < 0.2:
        text = text.replace("'shape'", rnd.choice(("'shape' ", "'shape2'", "shape")))
    header = text.encode("utf-8" if version == 3 else "latin1", errors="replace") + b"\n"
    new_version = rnd.choice((version, version, 1, 2, 3))
    new_format = "<H" if new_version == 1 else "<I"
    try:
        size = struct.pack(new_format, len(header))
    except struct.error:
        return None
    tail = rnd.choice((data, data[: rnd.randrange(len(data) + 1)], data + data, b""))
    return b"\x93NUMPY" + bytes([new_version, 0]) + size + header + tail


def generate(encoding: Encoding, seed: int) -> Iterator[bytes]:
    """An endless, reproducible stream of fuzz inputs for ``encoding``."""
    rnd = random.Random(f"{encoding.value}:{seed}")
    corpus = seeds(encoding)
    tokens = _TOKENS.get(encoding, _MSGPACK_TOKENS)
    structured = encoding in (Encoding.MSGPACK_NUMPY, Encoding.XARRAY, Encoding.NPY)
    yield from corpus
    while True:
        choice = rnd.random()
        if choice < 0.1:
            yield _random_bytes(rnd)
            continue
        base = rnd.choice(corpus)
        if structured and choice < 0.45:
            mutate = _mutate_npy_header if encoding is Encoding.NPY else _mutate_tree
            mutated = mutate(base, rnd)
            if mutated is not None:
                if rnd.random() < 0.25:  # and sometimes a byte-level mutation on top
                    data = bytearray(mutated)
                    _flip_bits(data, rnd)
                    mutated = bytes(data)
                yield mutated
                continue
        data = bytearray(base)
        for _ in range(rnd.randint(1, 4)):
            operation = rnd.randrange(8)
            if operation == 0:
                _flip_bits(data, rnd)
            elif operation == 1:
                _interesting_byte(data, rnd)
            elif operation == 2:
                _huge_length(data, rnd)
            elif operation == 3:
                _truncate(data, rnd)
            elif operation == 4:
                _extend(data, rnd)
            elif operation == 5:
                _insert(data, rnd, tokens)
            elif operation == 6:
                _delete(data, rnd)
            else:
                _splice(data, rnd.choice(corpus), rnd)
        yield bytes(data)


# --- the run -------------------------------------------------------------------------------


class UnpicklingAttempt(BaseException):
    """Raised by the guard if anything tries to unpickle during a run."""


class Hang(BaseException):
    """One input took more than HANG_S of CPU time."""


@contextlib.contextmanager
def no_unpickling() -> Iterator[None]:
    """Make every unpickling entry point raise UnpicklingAttempt while fuzzing."""

    def refuse(*args: object, **kwargs: object) -> Any:
        raise UnpicklingAttempt("a decoder tried to unpickle")

    class Refusing(pickle.Unpickler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            raise UnpicklingAttempt("a decoder tried to unpickle")

    saved = (pickle.loads, pickle.load, pickle.Unpickler)
    pickle.loads, pickle.load = refuse, refuse
    pickle.Unpickler = Refusing  # type: ignore[misc]
    try:
        yield
    finally:
        pickle.loads, pickle.load, pickle.Unpickler = saved  # type: ignore[misc]


@contextlib.contextmanager
def _watchdog() -> Iterator[Callable[[bool], None]]:
    """arm(True) before an input, arm(False) after: a CPU-time alarm (SIGVTALRM).

    CPU time, not wall time: pytest-timeout uses SIGALRM, which this leaves alone. Signals
    only reach the main thread; elsewhere the per-input timing still reports slow inputs.
    """
    if threading.current_thread() is not threading.main_thread():
        yield lambda on: None
        return

    def on_alarm(signum: int, frame: object) -> None:
        raise Hang(f"an input ran for more than {HANG_S} s of CPU time")

    def arm(on: bool) -> None:
        signal.setitimer(signal.ITIMER_VIRTUAL, HANG_S if on else 0)

    previous = signal.signal(signal.SIGVTALRM, on_alarm)
    try:
        yield arm
    finally:
        signal.setitimer(signal.ITIMER_VIRTUAL, 0)
        signal.signal(signal.SIGVTALRM, previous)


def touch(value: object) -> None:
    """Read a decoded value completely, array memory included."""
    stack: list[Any] = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, np.ndarray):
            # An array of a zero-size dtype has no memory to read, but tobytes() still walks
            # its elements: 79 bytes of npy can claim 1.25e9 of them (docs/reliability.md).
            if item.nbytes:
                item.tobytes()
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
        elif hasattr(item, "variables"):  # an xarray.Dataset
            for variable in item.variables.values():
                stack.append(variable.values)
                stack.append(dict(variable.attrs))
            stack.append(dict(item.attrs))


@dataclass
class Finding:
    """An input that broke the property, kept for reproduction."""

    encoding: str
    index: int
    detail: str
    data: bytes


@dataclass
class FuzzReport:
    """What one decoder did with ``inputs`` fuzz inputs."""

    encoding: str
    inputs: int = 0
    decoded: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    escaped: Counter[str] = field(default_factory=Counter)
    #: Warnings the decoder emitted (not failures, but hostile input should not cause them).
    warned: Counter[str] = field(default_factory=Counter)
    slow: int = 0
    max_s: float = 0.0
    total_s: float = 0.0
    max_input_bytes: int = 0
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.escaped and not self.slow


def run(
    encoding: Encoding,
    iterations: int,
    *,
    seed: int = 0,
    keep: int = 5,
    warnings_as_errors: bool = False,
) -> FuzzReport:
    """Feed ``iterations`` inputs to the decoder of ``encoding``; count what came out.

    Warnings are counted; with ``warnings_as_errors`` they are raised, as in test suites
    configured with ``filterwarnings = error``, and one that escapes the decoder is a finding.
    """
    report = FuzzReport(encoding.value)
    inputs = generate(encoding, seed)

    def count_warning(
        message: Warning | str,
        category: type[Warning],
        filename: str,
        lineno: int,
        file: TextIO | None = None,
        line: str | None = None,
    ) -> None:
        report.warned[category.__name__] += 1

    with no_unpickling(), _watchdog() as arm, warnings.catch_warnings():
        warnings.simplefilter("error" if warnings_as_errors else "always")
        warnings.showwarning = count_warning
        for index in range(iterations):
            data = next(inputs)
            # Decoders take bytes, bytearray and memoryview; give them all three.
            given: bytes | bytearray | memoryview = data
            if index % 10 == 1:
                given = bytearray(data)
            elif index % 10 == 2:
                given = memoryview(data)
            report.max_input_bytes = max(report.max_input_bytes, len(data))
            outcome: str | None = None
            started = time.perf_counter()
            arm(True)
            try:
                touch(decode(given, encoding))
            except DQError as error:
                report.rejected[type(error).__name__] += 1
            except (Exception, UnpicklingAttempt, Hang, RecursionError) as error:
                outcome = f"{type(error).__name__}: {error}"[:500]
                report.escaped[type(error).__name__] += 1
            else:
                report.decoded += 1
            finally:
                arm(False)
            elapsed = time.perf_counter() - started
            report.inputs += 1
            report.total_s += elapsed
            report.max_s = max(report.max_s, elapsed)
            if elapsed > SLOW_S:
                report.slow += 1
                outcome = outcome or f"slow: {elapsed:.2f} s"
            if outcome is not None and len(report.findings) < keep:
                report.findings.append(Finding(encoding.value, index, outcome, data))
    return report
