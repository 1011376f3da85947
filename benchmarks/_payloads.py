"""The payloads every area measures: small and large, as SDP pipelines send them.

A payload carries its typed messages, the value the seed API would send, the exact bytes and
headers the typed producer puts on the wire (what the raw twins send), and message counts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Self

import numpy as np
import numpy.typing as npt

from dq_sdk import WireMessage
from dq_sdk._headers import describing_headers
from dq_sdk.codecs import Encoding, encode
from dq_sdk.examples import pointing_offsets, spectrum_metric
from dq_sdk.schemas import MetricPayload, PointingNumpyArray, StructuredArray

from ._core import Settings

__all__ = ["Float32Array", "Payload", "payloads"]

F32 = npt.NDArray[np.float32]
MiB = 2**20
# Room for 16 MiB payloads plus headers, for producers, topics and consumers alike.
LARGE_LIMIT = 24 * MiB
DISTINCT = 4  # distinct messages per payload, cycled, so no case sends one object only


class Float32Array:
    """A bench-only model: a 1-d float32 array as ``npy``. Models need not be generated;
    any class with these five members is a :class:`dq_sdk.WireMessage`."""

    encoding: ClassVar[Encoding] = Encoding.NPY
    schema_id: ClassVar[str] = "urn:dq-sdk:bench:float32-array"
    schema_version: ClassVar[str] = "1.0.0"

    def __init__(self, array: F32) -> None:
        if array.dtype != np.float32 or array.ndim != 1:
            raise TypeError(f"expected a 1-d float32 array, not {array.dtype} {array.shape}")
        self.array = array

    def to_wire(self) -> F32:
        return self.array

    @classmethod
    def from_wire(cls, value: object) -> Self:
        if not isinstance(value, np.ndarray):
            raise TypeError(f"expected an ndarray, not {type(value).__name__}")
        return cls(value)


@dataclass(frozen=True)
class Payload:
    """One kind of message and how many of it each case moves."""

    name: str
    model: type[WireMessage]
    make: Callable[[np.random.Generator], WireMessage]
    messages: Sequence[WireMessage]
    seed_value: object
    send_count: int
    batch_count: int
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def wire(self) -> bytes:
        return encode(self.messages[0].to_wire(), self.model.encoding)

    @property
    def headers(self) -> list[tuple[str, bytes]]:
        return describing_headers(self.model.encoding, self.model, None)

    def cycle(self, count: int) -> list[WireMessage]:
        """``count`` messages cycling through a few distinct ones (no compression here)."""
        return [self.messages[i % len(self.messages)] for i in range(count)]

    def distinct(self, count: int) -> list[WireMessage]:
        """``count`` different messages: compressing repeats would measure the repeats."""
        rng = np.random.default_rng(count)
        return [self.make(rng) for _ in range(count)]


def _row(rng: np.random.Generator) -> PointingNumpyArray:
    return PointingNumpyArray.from_record(pointing_offsets(1, 1, rng).array[0])


def _pointing(rng: np.random.Generator) -> StructuredArray[PointingNumpyArray]:
    return pointing_offsets(200, int(rng.integers(1, 1000)), rng)


def _metric(rng: np.random.Generator) -> MetricPayload:
    return spectrum_metric(4096, rng)


def _floats(nbytes: int) -> Callable[[np.random.Generator], Float32Array]:
    def make(rng: np.random.Generator) -> Float32Array:
        return Float32Array(rng.standard_normal(nbytes // 4, dtype=np.float32))

    return make


def _payload(
    name: str,
    model: type[WireMessage],
    make: Callable[[np.random.Generator], WireMessage],
    counts: tuple[int, int],
    options: dict[str, Any] | None = None,
    distinct: int = DISTINCT,
) -> Payload:
    rng = np.random.default_rng(2026)
    messages = [make(rng) for _ in range(distinct)]
    # What the seed API sends for the same message: the wire value itself.
    seed_value = messages[0].to_wire()
    return Payload(name, model, make, messages, seed_value, *counts, options or {})


def payloads(settings: Settings) -> list[Payload]:
    """The benchmark payloads, smallest first."""
    large = {"max_request_size": LARGE_LIMIT}
    count = settings.count
    return [
        _payload(
            "row (1 antenna)",
            PointingNumpyArray,
            _row,
            (settings.small_send, settings.small_batch),
        ),
        _payload(
            "pointing (200 antennas)",
            StructuredArray[PointingNumpyArray],
            _pointing,
            (count(500), count(2_000)),
        ),
        _payload("metric (4x4096 spectra)", MetricPayload, _metric, (count(300), count(1_000))),
        _payload("float32 1 MiB", Float32Array, _floats(MiB), (count(40), count(100)), large),
        _payload(
            "float32 16 MiB", Float32Array, _floats(16 * MiB), (count(6), count(12)), large, 2
        ),
    ]
