"""Chunk splitting and bounded reassembly, without a broker."""

from __future__ import annotations

import pytest

from dq_sdk import IncompleteMessageError
from dq_sdk._chunking import Reassembler, chunk_headers, split
from dq_sdk._transport import FetchedRecord


def chunk_records(
    payload: bytes, size: int, set_id: str = "s", first_offset: int = 0
) -> list[FetchedRecord]:
    pieces = split(payload, size)
    return [
        FetchedRecord(
            "t",
            0,
            first_offset + i,
            0,
            b"k",
            bytes(piece),
            (("user", b"1"), *chunk_headers(set_id, i, len(pieces), len(payload))),
        )
        for i, piece in enumerate(pieces)
    ]


def test_split_covers_the_payload_without_copies() -> None:
    payload = bytes(range(256)) * 10
    pieces = split(payload, 1000)
    assert [len(p) for p in pieces] == [1000, 1000, 560]
    assert b"".join(pieces) == payload
    assert all(p.obj is payload for p in pieces)


def test_reassembly_gives_the_payload_and_user_headers_back() -> None:
    payload = b"x" * 2500 + b"end"
    reassembler = Reassembler()
    records = chunk_records(payload, 1000, first_offset=7)
    results = [reassembler.add(r) for r in records]
    assert results[:-1] == [None, None]
    whole = results[-1]
    assert whole is not None
    assert whole.value == payload
    assert whole.headers == (("user", b"1"),)
    assert whole.offset == 9  # located at its last chunk: committing it commits all chunks
    assert not reassembler.pending


def test_pending_set_holds_back_the_commit_offset() -> None:
    reassembler = Reassembler()
    first, *_ = chunk_records(b"y" * 3000, 1000, first_offset=40)
    reassembler.add(first)
    assert reassembler.lowest_pending_offset("t", 0) == 40
    assert reassembler.lowest_pending_offset("t", 1) is None


def test_plain_records_pass_through() -> None:
    record = FetchedRecord("t", 0, 1, 0, None, b"plain", ())
    assert Reassembler().add(record) is record


def test_buffer_bound_and_oversized_announcement() -> None:
    with pytest.raises(IncompleteMessageError, match="over the reassembly buffer"):
        Reassembler(max_bytes=100).add(chunk_records(b"z" * 300, 100)[0])
    reassembler = Reassembler(max_bytes=250)
    reassembler.add(chunk_records(b"a" * 200, 100, set_id="a")[0])
    reassembler.add(chunk_records(b"b" * 200, 100, set_id="b")[0])
    with pytest.raises(IncompleteMessageError, match="buffer full"):
        reassembler.add(chunk_records(b"a" * 200, 100, set_id="a")[1])


def test_duplicate_chunk_index_is_refused() -> None:
    reassembler = Reassembler()
    first = chunk_records(b"q" * 300, 100)[0]
    reassembler.add(first)
    with pytest.raises(IncompleteMessageError, match="bad chunk index 0"):
        reassembler.add(first)
    assert not reassembler.pending


def test_expiry_reports_incomplete_sets() -> None:
    reassembler = Reassembler(timeout_s=0.0)
    reassembler.add(chunk_records(b"w" * 300, 100, first_offset=5)[0])
    [error] = reassembler.expired()
    assert "got 1 of 3 chunks" in str(error)
    assert (error.topic, error.partition, error.offset) == ("t", 0, 5)
    assert reassembler.expired() == []
