"""Batch receive: what one fetch brought, decoded at once.

For a row model (``PointingNumpyArray``) a batch is one :class:`RowBatch`: every row in one
``StructuredArray`` (columnar, no Python object per row) with the topic, partition, offset and
timestamp of each row in arrays beside it. Other models come as a list of ``Received[M]``.

The columnar path: a dq-sdk producer writes each row as a ``msgpack_numpy`` 1-row array, whose
bytes are a head fixed by the dtype (map keys, dtype description, shape, bin header) followed
by the row's bytes. A record whose headers are exactly the model's own (so it is no chunk and
announces this very schema) and whose value is that canonical head plus one row of bytes
decodes, by construction, to that row: the batch joins those bytes and views them as one
array, then runs the same checks every decoded array gets (code points of text fields) and,
for models whose fields have constraints beyond their dtype, the model's own validation. Any
other record goes the single-message way (reassembly, header check, decode, ``from_wire``),
with the bad-message policy applied to it alone.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import numpy as np

from ._models._structured import StructuredArray, StructuredRow
from ._transport import FetchedRecord
from .codecs import Encoding
from .codecs._arrays import check_text
from .codecs._msgpack_numpy import row_head

__all__ = ["RowBatch", "RowLayout", "fast_rows", "join_rows", "row_layout"]

R = TypeVar("R", bound=StructuredRow)


@dataclass(frozen=True, slots=True)
class RowBatch(Generic[R]):
    """The rows of one fetch, columnar: ``rows.array[i]`` came from ``topics[i]``,
    ``partitions[i]`` at ``offsets[i]``, written at ``timestamps[i]`` (ms since the epoch)."""

    rows: StructuredArray[R]
    topics: tuple[str, ...]
    partitions: np.ndarray[Any, np.dtype[np.int32]]
    offsets: np.ndarray[Any, np.dtype[np.int64]]
    timestamps: np.ndarray[Any, np.dtype[np.int64]]

    def __len__(self) -> int:
        return len(self.offsets)


@dataclass(frozen=True, slots=True)
class RowLayout:
    """What a record must be to take the columnar path for one row model."""

    headers: tuple[tuple[str, bytes], ...]
    head: bytes
    length: int
    dtype: np.dtype[np.void]


@functools.lru_cache(maxsize=64)
def row_layout(
    model: type[StructuredRow], headers: tuple[tuple[str, bytes], ...]
) -> RowLayout | None:
    """The columnar layout of ``model``'s messages with these describing headers, or ``None``
    when its messages cannot take that path (another encoding)."""
    if model.encoding is not Encoding.MSGPACK_NUMPY:
        return None
    dtype = model.numpy_dtype()
    head = row_head(dtype)
    return RowLayout(headers, head, len(head) + dtype.itemsize, dtype)


def fast_rows(layout: RowLayout, records: Sequence[FetchedRecord], start: int) -> int:
    """How many records from ``records[start]`` on take the columnar path."""
    headers, head, length, size = layout.headers, layout.head, layout.length, len(layout.head)
    for index in range(start, len(records)):
        record = records[index]
        value = record.value
        if (
            record.headers != headers
            or len(value) != length
            or type(value) is not bytes
            or value[:size] != head
        ):
            return index - start
    return len(records) - start


def join_rows(
    layout: RowLayout, records: Sequence[FetchedRecord]
) -> np.ndarray[Any, np.dtype[np.void]]:
    """The rows of records that passed :func:`fast_rows`, as one read-only array."""
    size = len(layout.head)
    data = b"".join([record.value[size:] for record in records])
    array: np.ndarray[Any, np.dtype[np.void]] = np.frombuffer(data, dtype=layout.dtype)
    check_text(array, Encoding.MSGPACK_NUMPY)
    return array
