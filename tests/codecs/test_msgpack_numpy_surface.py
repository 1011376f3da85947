"""The msgpack_numpy package's surface: the names the rest of dq-sdk may use, and the row fast
paths giving exactly what ``pack`` and ``unpack`` give one message at a time."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given

from dq_sdk import DecodeError
from dq_sdk.codecs import DecodeLimits, Encoding, _msgpack_numpy
from dq_sdk.codecs._msgpack_numpy import pack, pack_rows, row_head, rows_from_bytes, unpack
from dq_sdk.schemas import PointingNumpyArray, StructuredArray
from dq_sdk.testing.strategies import pointing_arrays

SRC = Path(__file__).resolve().parents[2] / "src" / "dq_sdk"
PACKAGE = "dq_sdk.codecs._msgpack_numpy"
MP = Encoding.MSGPACK_NUMPY


def test_the_surface_is_sorted_and_every_name_is_there() -> None:
    assert _msgpack_numpy.__all__ == sorted(_msgpack_numpy.__all__)
    assert all(hasattr(_msgpack_numpy, name) for name in _msgpack_numpy.__all__)


def _imports(path: Path) -> list[tuple[str, list[str]]]:
    """``(absolute module, names)`` of every ``from ... import`` in a module of src/dq_sdk."""
    # `from .x` in a/b.py and in a/__init__.py alike means a.x: the package is all but the last.
    package = ["dq_sdk", *path.relative_to(SRC).with_suffix("").parts][:-1]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            found.append((module, [alias.name for alias in node.names]))
        elif isinstance(node, ast.Import):
            found.extend((alias.name, []) for alias in node.names)
    return found


def test_nothing_outside_the_package_imports_its_modules() -> None:
    inside = SRC / "codecs" / "_msgpack_numpy"
    used: set[str] = set()
    for path in SRC.rglob("*.py"):
        if inside in path.parents:
            continue
        for module, names in _imports(path):
            where = path.relative_to(SRC)
            assert not module.startswith(PACKAGE + "."), f"{where} imports {module}"
            if module == PACKAGE:
                assert set(names) <= set(_msgpack_numpy.__all__), f"{where}: {names}"
                used.update(names)
    # The fast paths have users outside the codec (else they need not be on the surface).
    assert {"pack_rows", "row_head", "rows_from_bytes", "share_record_dtype"} <= used


def rows_of(array: np.ndarray[Any, Any]) -> list[bytes]:
    return [pack(array[i : i + 1]) for i in range(len(array))]


@given(pointing_arrays(min_rows=0, max_rows=20))
def test_row_messages_are_a_head_and_a_row_and_read_back_as_one_array(
    message: StructuredArray[PointingNumpyArray],
) -> None:
    array = message.array
    dtype = PointingNumpyArray.numpy_dtype()
    messages = pack_rows(array)
    assert messages == rows_of(array)
    head = row_head(dtype)
    assert all(m[: len(head)] == head and len(m) == len(head) + dtype.itemsize for m in messages)
    joined = rows_from_bytes(b"".join(m[len(head) :] for m in messages), dtype)
    assert joined.dtype is dtype and not joined.flags.writeable
    assert joined.tobytes() == array.tobytes()
    for data, row in zip(messages, joined, strict=True):
        one = unpack(memoryview(data), DecodeLimits(), MP)
        assert isinstance(one, np.ndarray) and one.tobytes() == row.tobytes()


@pytest.mark.parametrize("order", ["<U2", ">U2"])
def test_rows_read_back_are_checked_as_every_decoded_array(order: str) -> None:
    dtype = np.dtype([("name", order), ("x", "<f8")])
    good = np.zeros(2, dtype=dtype)
    good["name"] = ["ab", "cd"]
    assert rows_from_bytes(good.tobytes(), dtype).tolist() == good.tolist()
    bad = bytearray(good.tobytes())
    code = (0x110000).to_bytes(4, "big" if order.startswith(">") else "little")
    bad[:4] = code  # the first character of the first name: past U+10FFFF
    with pytest.raises(DecodeError, match="U\\+10FFFF"):
        rows_from_bytes(bytes(bad), dtype)
    with pytest.raises(DecodeError, match="U\\+10FFFF"):
        unpack(memoryview(row_head(dtype) + bytes(bad[: dtype.itemsize])), DecodeLimits(), MP)


def test_pack_rows_takes_a_1d_array_only() -> None:
    with pytest.raises(ValueError, match="1-d"):
        pack_rows(np.zeros((2, 2), dtype=PointingNumpyArray.numpy_dtype()))
