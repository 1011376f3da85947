"""The public surface of dq_sdk.codecs: names, dispatch, limits, accepted inputs."""

from __future__ import annotations

import dataclasses
from typing import Any, assert_type

import numpy as np
import pytest

import dq_sdk.codecs as codecs
from dq_sdk import CodecError, DecodeError, EncodeError
from dq_sdk.codecs import Codec, DecodeLimits, Encoding, decode, encode, get_codec


def test_all_is_sorted_and_complete() -> None:
    assert codecs.__all__ == sorted(codecs.__all__)
    public = {name for name in vars(codecs) if not name.startswith("_")}
    # Submodules are attributes of the package too; everything else public is in __all__.
    modules = {name for name in public if type(getattr(codecs, name)).__name__ == "module"}
    assert public - modules == set(codecs.__all__)


@pytest.mark.parametrize("encoding", list(Encoding))
def test_one_codec_per_encoding(encoding: Encoding) -> None:
    codec: Codec = get_codec(encoding)
    assert codec.encoding is encoding
    assert get_codec(encoding.value) is codec


def test_case_and_utf8_aliases_name_the_same_encoding() -> None:
    assert get_codec("UTF8") is get_codec("utf-8") is get_codec(Encoding.UTF8)
    assert encode("x", "UTF-8") == encode("x", "utf_8") == b"x"


def test_encoding_from_config_string() -> None:
    array = np.arange(4.0)
    data = encode(array, "msgpack_numpy")
    assert data == encode(array, Encoding("msgpack_numpy"))
    assert np.array_equal(np.asarray(decode(data, "msgpack_numpy")), array)


@pytest.mark.parametrize("name", ["msgpack", "utf-16", "pickle", ""])
def test_unknown_encoding_is_a_clear_error(name: str) -> None:
    with pytest.raises(EncodeError, match="unknown encoding") as info:
        encode("x", name)
    assert "'msgpack_numpy'" in str(info.value)
    with pytest.raises(DecodeError, match="unknown encoding"):
        decode(b"x", name)
    with pytest.raises(CodecError, match=repr(name)):
        get_codec(name)


@pytest.mark.parametrize("encoding", list(Encoding))
def test_decode_refuses_non_buffers(encoding: Encoding) -> None:
    bad: Any = "text is not bytes"
    with pytest.raises(DecodeError, match="takes bytes, bytearray or memoryview"):
        decode(bad, encoding)


def test_decode_takes_bytes_bytearray_and_memoryview() -> None:
    data = "héllo".encode()
    for buffer in (data, bytearray(data), memoryview(data)):
        assert decode(buffer, Encoding.UTF8) == "héllo"


def test_decode_takes_a_memoryview_of_another_format() -> None:
    words = np.frombuffer(b"abcd", dtype=np.uint16)
    assert decode(words.data, Encoding.ASCII) == "abcd"


def test_decode_refuses_a_non_contiguous_memoryview() -> None:
    strided = memoryview(b"a-b-c-")[::2]
    with pytest.raises(DecodeError, match="contiguous"):
        decode(strided, Encoding.UTF8)


def test_precise_return_types_for_literal_encodings() -> None:
    text = decode(b"hi", Encoding.UTF8)
    assert_type(text, str)
    array = decode(encode(np.arange(3), Encoding.NPY), Encoding.NPY)
    assert_type(array, np.ndarray[Any, np.dtype[Any]])
    assert array.tolist() == [0, 1, 2]
    assert_type(decode(b"1", "json"), object)


def test_decode_limits_defaults_and_validation() -> None:
    limits = DecodeLimits()
    assert limits.max_array_bytes == 2 * 1024**3
    assert limits.max_ndim == 32
    assert DecodeLimits(max_ndim=3).max_ndim == 3
    with pytest.raises(dataclasses.FrozenInstanceError):
        limits.max_ndim = 2  # type: ignore[misc]
    with pytest.raises(ValueError, match="max_array_bytes"):
        DecodeLimits(max_array_bytes=-1)
    with pytest.raises(ValueError, match="max_ndim"):
        DecodeLimits(max_ndim=True)


def test_limits_keyword_reaches_the_codec() -> None:
    data = encode(np.zeros(100), Encoding.NPY)
    assert decode(data, Encoding.NPY, limits=DecodeLimits(max_array_bytes=800)).size == 100
    with pytest.raises(DecodeError, match="max_array_bytes=799"):
        decode(data, Encoding.NPY, limits=DecodeLimits(max_array_bytes=799))
