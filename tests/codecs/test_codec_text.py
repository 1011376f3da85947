"""utf-8 and ascii: strict text, never replaced."""

from __future__ import annotations

import pytest

from dq_sdk import DecodeError, EncodeError
from dq_sdk.codecs import Encoding, decode, encode


@pytest.mark.parametrize("text", ["", "Testing Testing", "ŝkå → ∞ 🛰", "\x00\n\t"])
def test_utf8_round_trip(text: str) -> None:
    data = encode(text, Encoding.UTF8)
    assert data == text.encode("utf-8")
    assert decode(data, Encoding.UTF8) == text


def test_ascii_round_trip() -> None:
    text = "".join(chr(i) for i in range(128))
    assert encode(text, Encoding.ASCII) == text.encode("ascii")
    assert decode(text.encode("ascii"), Encoding.ASCII) == text


def test_ascii_names_the_first_non_ascii_character() -> None:
    with pytest.raises(EncodeError) as info:
        encode("antenna SKA°01 ü", Encoding.ASCII)
    message = str(info.value)
    assert "'°'" in message and "U+00B0" in message and "index 11" in message
    assert "ascii" in message


@pytest.mark.parametrize("encoding", [Encoding.UTF8, Encoding.ASCII])
@pytest.mark.parametrize("value", [b"bytes", 42, None, ["a"]])
def test_text_takes_only_str(encoding: Encoding, value: object) -> None:
    with pytest.raises(EncodeError, match=f"{encoding.value} encoding takes str"):
        encode(value, encoding)


def test_bytes_hint_points_at_raw_sending() -> None:
    with pytest.raises(EncodeError, match="send bytes with no encoding"):
        encode(b"raw", Encoding.UTF8)


def test_utf8_refuses_lone_surrogates() -> None:
    with pytest.raises(EncodeError, match="U\\+D800"):
        encode("ok\ud800", Encoding.UTF8)


@pytest.mark.parametrize(
    ("encoding", "data", "offset"),
    [
        (Encoding.UTF8, b"abc\xff", 3),
        (Encoding.UTF8, b"\xc3", 0),  # truncated two-byte sequence
        (Encoding.ASCII, b"ok \xc3\xa9", 3),
    ],
)
def test_invalid_bytes_are_a_decode_error(encoding: Encoding, data: bytes, offset: int) -> None:
    with pytest.raises(DecodeError, match=f"at offset {offset} is not valid {encoding.value}"):
        decode(data, encoding)
