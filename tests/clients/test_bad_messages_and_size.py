"""Poison messages, dead letters, size limits and chunking against the real broker."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from dq_sdk import (
    Consumer,
    DataQueueConsumer,
    DataQueueProducer,
    DQError,
    IncompleteMessageError,
    MessageTooLargeError,
    Producer,
    Received,
    TransportName,
)
from dq_sdk.schemas import PointingNumpyArray, StructuredArray

LIMIT_S = 20
PointingArray = StructuredArray[PointingNumpyArray]


def pointing(n: int, seed: int) -> PointingArray:
    array = np.zeros(n, dtype=PointingNumpyArray.numpy_dtype())
    array["antenna_name"] = [f"SKA{i:03d}" for i in range(n)]
    array["xel_offset"] = np.random.default_rng(seed).normal(size=n)
    array["last_scan_index"] = seed
    return PointingArray(array)


async def _mixed_stream(bootstrap: str, topic: str) -> list[PointingArray]:
    """Valid arrays on 3 partitions, with poison (bad bytes, wrong dtype) between them."""
    good = [pointing(4, seed) for seed in range(12)]
    async with (
        Producer(PointingArray, bootstrap, topic=topic) as typed,
        DataQueueProducer(bootstrap, topic=topic) as raw,
    ):
        for index, message in enumerate(good):
            partition = index % 3
            await typed.send(message, partition=partition)
            if index % 4 == 0:
                await raw.send(b"\xc1 not msgpack", partition=partition)
            if index % 5 == 0:
                wrong = np.zeros(2, dtype=[("antenna_name", "U3")])
                await raw.send(wrong, encoding="msgpack_numpy", partition=partition)
    return good


def _per_partition(values: list[tuple[int, PointingArray]]) -> dict[int, list[int]]:
    order: dict[int, list[int]] = {}
    for partition, value in values:
        order.setdefault(partition, []).append(int(value.array["last_scan_index"][0]))
    return order


async def test_skip_policy_delivers_every_valid_message_in_partition_order(
    dq_bootstrap: str, dq_topic_factory: Callable[..., str]
) -> None:
    topic = dq_topic_factory(partitions=3)
    good = await _mixed_stream(dq_bootstrap, topic)
    async with Consumer(PointingArray, dq_bootstrap, topics=[topic], on_error="skip") as consumer:
        got = [await consumer.receive(timeout_s=LIMIT_S) for _ in good]
        with pytest.raises(TimeoutError):  # the poison after the last good message is read
            await consumer.receive(timeout_s=1.0)
        skipped = consumer.policy.skipped
    assert sorted(int(r.value.array["last_scan_index"][0]) for r in got) == list(range(12))
    for partition, scans in _per_partition([(r.partition, r.value) for r in got]).items():
        assert scans == sorted(scans), f"partition {partition} out of order"
    assert skipped == 3 + 3  # 3 undecodable + 3 wrong dtype


async def test_raise_policy_names_the_location_and_the_stream_goes_on(
    dq_bootstrap: str, dq_topic_factory: Callable[..., str]
) -> None:
    dq_topic = dq_topic_factory(partitions=3)
    good = await _mixed_stream(dq_bootstrap, dq_topic)
    got: list[Received[PointingArray]] = []
    errors: list[DQError] = []
    async with Consumer(PointingArray, dq_bootstrap, topics=[dq_topic]) as consumer:
        for _ in range(100):  # bounded: 12 good + 6 bad messages are expected
            # Once every good message is in, a poison message may still follow the last one.
            wait = LIMIT_S if len(got) < len(good) else 1.0
            try:
                got.append(await consumer.receive(timeout_s=wait))
            except TimeoutError:  # a ReceiveTimeoutError is a DQError too: this clause first
                break
            except DQError as error:
                errors.append(error)
    assert sorted(int(g.value.array["last_scan_index"][0]) for g in got) == list(range(12))
    assert len(errors) == 6
    assert all(e.topic == dq_topic for e in errors)
    assert all(isinstance(e.partition, int) and isinstance(e.offset, int) for e in errors)


async def test_dead_letter_policy_keeps_raw_bytes_and_the_error(
    dq_bootstrap: str, dq_topic_factory: Callable[..., str]
) -> None:
    topic, dead = dq_topic_factory(partitions=3), dq_topic_factory()
    good = await _mixed_stream(dq_bootstrap, topic)
    async with Consumer(
        PointingArray, dq_bootstrap, topics=[topic], on_error="dead_letter", dead_letter_topic=dead
    ) as consumer:
        got = [(await consumer.receive(timeout_s=LIMIT_S)).value for _ in good]
        with pytest.raises(TimeoutError):
            await consumer.receive(timeout_s=1.0)
        assert consumer.policy.dead_lettered == 6
    assert sorted(int(g.array["last_scan_index"][0]) for g in got) == list(range(12))
    async with DataQueueConsumer(dq_bootstrap, topics=[dead]) as dlq:
        letters = [await dlq.receive(timeout_s=LIMIT_S) for _ in range(6)]
    raw_values = {value for _, value in letters}
    assert b"\xc1 not msgpack" in raw_values


async def test_dead_letter_headers_name_source_and_error(
    dq_bootstrap: str, transport: TransportName, dq_topic_factory: Callable[..., str]
) -> None:
    """The dead letter, sent by the consumer's transport, carries the raw bytes, the original
    headers and where and why it failed."""
    topic, dead = dq_topic_factory(), dq_topic_factory()
    async with DataQueueProducer(dq_bootstrap, topic=topic) as raw:
        await raw.send(b"\xc1", headers={"trace": "abc"})
    async with _dead_lettering(dq_bootstrap, topic, dead, transport) as consumer:
        with pytest.raises(TimeoutError):
            await consumer.receive(timeout_s=1.0)
    from dq_sdk._transport import AiokafkaConsumerClient

    client = AiokafkaConsumerClient(dq_bootstrap, auto_offset_reset="earliest")
    client.subscribe([dead])
    await client.start()
    try:
        records = []
        for _ in range(50):
            records += await client.fetch(timeout_ms=200)
            if records:
                break
    finally:
        await client.stop()
    [letter] = records
    headers = dict(letter.headers)
    assert letter.value == b"\xc1"
    assert headers["trace"] == b"abc"
    assert headers["dq-source-topic"] == topic.encode()
    assert headers["dq-source-partition"] == b"0"
    assert headers["dq-source-offset"] == b"0"
    assert headers["dq-error-type"] == b"DecodeError"
    assert b"msgpack" in headers["dq-error"]


async def test_oversized_message_fails_before_sending_and_names_the_settings(
    dq_bootstrap: str, dq_topic: str
) -> None:
    big = np.zeros(2 * 2**20 // 8)  # 2 MiB of float64
    async with DataQueueProducer(dq_bootstrap, topic=dq_topic, encoding="npy") as producer:
        with pytest.raises(MessageTooLargeError) as caught:
            await producer.send(big)
    error = caught.value
    assert error.limit == 1_048_576 and error.size > 2 * 2**20
    text = str(error)
    for setting in ("max_request_size", "max.message.bytes", "max_partition_fetch_bytes"):
        assert setting in text
    assert dq_topic in text
    async with DataQueueConsumer(dq_bootstrap, topics=[dq_topic]) as consumer:
        with pytest.raises(TimeoutError):
            await consumer.receive(timeout_s=0.5)  # nothing reached the topic


@pytest.mark.slow
# 95 MiB, not 100: a whole produce request must fit Apache Kafka's broker-wide
# socket.request.max.bytes (100 MiB by default; the broker closes the connection otherwise),
# which no topic or client setting raises.
@pytest.mark.parametrize("mib", [8, 32, 95])
async def test_multi_mib_arrays_move_with_raised_limits(
    dq_bootstrap: str, dq_topic_factory: Callable[..., str], mib: int
) -> None:
    # As on a real cluster: the topic's max.message.bytes and the client limits all raised.
    limit = (mib + 1) * 2**20
    topic = dq_topic_factory(config={"max.message.bytes": str(limit)})
    array = np.arange(mib * 2**20 // 4, dtype=np.float32)
    async with DataQueueProducer(
        dq_bootstrap, topic=topic, encoding="npy", max_request_size=limit
    ) as producer:
        await producer.send(array)
    async with DataQueueConsumer(
        dq_bootstrap,
        topics=[topic],
        encoding="npy",
        max_partition_fetch_bytes=limit,
        fetch_max_bytes=limit,
    ) as consumer:
        _, received = await consumer.receive(timeout_s=60)
    np.testing.assert_array_equal(received, array)


@pytest.mark.slow
async def test_chunked_payload_is_reassembled_on_one_partition(
    dq_bootstrap: str, dq_topic_factory: Callable[..., str]
) -> None:
    topic = dq_topic_factory(partitions=3)
    array = np.random.default_rng(0).normal(size=5 * 2**20 // 8)  # 5 MiB, default 1 MiB limit
    async with DataQueueProducer(
        dq_bootstrap, topic=topic, encoding="npy", chunk_size=512 * 1024
    ) as producer:
        metadata = await producer.send(array)
        await producer.send(np.arange(3.0))  # small: one plain message
    async with DataQueueConsumer(dq_bootstrap, topics=[topic], encoding="npy") as consumer:
        first = await consumer.receive(timeout_s=LIMIT_S)
        second = await consumer.receive(timeout_s=LIMIT_S)
    by_size = sorted([first[1], second[1]], key=len)
    np.testing.assert_array_equal(by_size[0], np.arange(3.0))
    np.testing.assert_array_equal(by_size[1], array)
    assert metadata.offset >= 10  # 5 MiB in 512 KiB chunks: at least 11 messages


async def test_incomplete_chunk_set_is_a_clear_error(dq_bootstrap: str, dq_topic: str) -> None:
    # The chunk headers' internal builder: a chunk set no producer would send, by hand.
    from dq_sdk._chunking import chunk_headers

    async with DataQueueProducer(dq_bootstrap, topic=dq_topic) as raw:
        await raw.send(b"part-0", headers=chunk_headers("set-1", 0, 3, 18))
        await raw.send(b"part-1", headers=chunk_headers("set-1", 1, 3, 18))
    async with DataQueueConsumer(dq_bootstrap, topics=[dq_topic], chunk_timeout_s=0.5) as consumer:
        with pytest.raises(TimeoutError):
            await consumer.receive(timeout_s=0.3)
        with pytest.raises(IncompleteMessageError, match="got 2 of 3 chunks") as caught:
            await consumer.receive(timeout_s=2.0)
    assert (caught.value.topic, caught.value.offset) == (dq_topic, 0)


async def test_reassembly_buffer_is_bounded(dq_bootstrap: str, dq_topic: str) -> None:
    async with DataQueueProducer(
        dq_bootstrap, topic=dq_topic, encoding="npy", chunk_size=64 * 1024
    ) as producer:
        await producer.send(np.zeros(2**20 // 8))  # 1 MiB
    async with DataQueueConsumer(
        dq_bootstrap, topics=[dq_topic], encoding="npy", max_reassembly_bytes=256 * 1024
    ) as consumer:
        with pytest.raises(IncompleteMessageError, match="max_reassembly_bytes=262144"):
            await consumer.receive(timeout_s=LIMIT_S)


async def test_a_bad_chunked_message_is_dead_lettered_whole(
    dq_bootstrap: str, dq_topic_factory: Callable[..., str]
) -> None:
    topic, dead = dq_topic_factory(), dq_topic_factory()
    garbage = bytes(range(256)) * 40  # 10 KiB that is no npy payload
    async with DataQueueProducer(dq_bootstrap, topic=topic, chunk_size=4096) as producer:
        await producer.send(garbage)
    async with DataQueueConsumer(
        dq_bootstrap, topics=[topic], encoding="npy", on_error="dead_letter", dead_letter_topic=dead
    ) as consumer:
        with pytest.raises(TimeoutError):
            await consumer.receive(timeout_s=1.0)
        assert consumer.policy.dead_lettered == 1
    letter = await _first_dead_letter(dq_bootstrap, dead)
    assert letter == garbage


async def test_a_bad_chunked_message_in_a_batch_is_dead_lettered_whole(
    dq_bootstrap: str, transport: TransportName, dq_topic_factory: Callable[..., str]
) -> None:
    """receive_batch dead-letters the reassembled message, as receive does, not its last
    chunk; and the good message after it comes in the batch."""
    topic, dead = dq_topic_factory(), dq_topic_factory()
    garbage = bytes(range(256)) * 40  # 10 KiB that is no msgpack payload
    async with DataQueueProducer(dq_bootstrap, topic=topic, chunk_size=4096) as producer:
        await producer.send(garbage)
    async with Producer(PointingArray, dq_bootstrap, topic=topic) as typed:
        await typed.send(pointing(3, seed=7))
    async with _dead_lettering(dq_bootstrap, topic, dead, transport) as consumer:
        got: list[Received[PointingArray]] = []
        while not got:
            got = await consumer.receive_batch(timeout_s=LIMIT_S)
        assert [int(r.value.array["last_scan_index"][0]) for r in got] == [7]
        assert consumer.policy.dead_lettered == 1
    letter = await _first_dead_letter(dq_bootstrap, dead)
    assert letter == garbage


def _dead_lettering(
    bootstrap: str, topic: str, dead: str, transport: TransportName
) -> Consumer[PointingArray]:
    """A consumer of ``topic`` that dead-letters bad messages to ``dead``."""
    return Consumer(
        PointingArray,
        bootstrap,
        topics=[topic],
        transport=transport,
        on_error="dead_letter",
        dead_letter_topic=dead,
    )


async def _first_dead_letter(bootstrap: str, dead: str) -> bytes:
    """The first message of the dead-letter topic, as its reader gets it (chunks reassembled)."""
    async with DataQueueConsumer(bootstrap, topics=[dead]) as dlq:
        _, letter = await dlq.receive(timeout_s=LIMIT_S)
    assert isinstance(letter, bytes)
    return letter


async def _garbage_then_good(bootstrap: str, topic: str, garbage: bytes, seeds: list[int]) -> None:
    """``garbage`` in 256 KiB chunks (each under every limit), then good messages."""
    async with DataQueueProducer(bootstrap, topic=topic, chunk_size=256 * 1024) as producer:
        await producer.send(garbage)
    async with Producer(PointingArray, bootstrap, topic=topic) as typed:
        for seed in seeds:
            await typed.send(pointing(3, seed=seed))


# 1.5 MiB: reassembled, it is over the 1 MiB max_request_size of any one request.
TOO_LARGE_FOR_ONE_REQUEST = bytes(range(256)) * 6 * 1024


async def test_a_bad_message_larger_than_one_request_is_dead_lettered_in_chunks(
    dq_bootstrap: str, transport: TransportName, dq_topic_factory: Callable[..., str]
) -> None:
    """A bad message that came in chunks is dead-lettered whole: over one request, it goes as
    chunks (each under every broker's default limit) and the dead-letter topic's reader gets
    it back whole. The stream goes on with the good message after it."""
    topic, dead = dq_topic_factory(), dq_topic_factory()
    await _garbage_then_good(dq_bootstrap, topic, TOO_LARGE_FOR_ONE_REQUEST, [1])
    async with _dead_lettering(dq_bootstrap, topic, dead, transport) as consumer:
        after = await consumer.receive(timeout_s=LIMIT_S)
        assert int(after.value.array["last_scan_index"][0]) == 1
        assert consumer.policy.dead_lettered == 1
    letter = await _first_dead_letter(dq_bootstrap, dead)
    assert letter == TOO_LARGE_FOR_ONE_REQUEST


async def test_a_batch_hands_over_its_good_messages_before_a_bad_chunked_one(
    dq_bootstrap: str, transport: TransportName, dq_topic_factory: Callable[..., str]
) -> None:
    """Under on_error="raise", good messages fetched before a bad chunked message come in the
    batch; the next call raises for the bad one; the one after goes on after it."""
    topic = dq_topic_factory()
    async with Producer(PointingArray, dq_bootstrap, topic=topic) as typed:
        await typed.send(pointing(3, seed=1))
    await _garbage_then_good(dq_bootstrap, topic, TOO_LARGE_FOR_ONE_REQUEST, [2])
    async with Consumer(PointingArray, dq_bootstrap, topics=[topic], transport=transport) as c:
        seen: list[int] = []
        failures: list[DQError] = []
        for _ in range(20):  # bounded: 2 good messages and 1 failure are expected
            try:
                batch = await c.receive_batch(timeout_s=LIMIT_S)
            except DQError as error:
                failures.append(error)
                continue
            seen += [int(r.value.array["last_scan_index"][0]) for r in batch]
            if 2 in seen:
                break
        assert seen == [1, 2]
        [failure] = failures
        assert (failure.topic, failure.partition) == (topic, 0)


async def test_leaving_before_a_batchs_kept_failure_is_raised_loses_nothing(
    dq_bootstrap: str, transport: TransportName, dq_topic_factory: Callable[..., str]
) -> None:
    """A batch cut short by a bad message keeps the failure for the next call. A consumer that
    leaves before that call commits nothing past the batch: the next member of the group reads
    the batch again (at least once) and is told of the bad message."""
    topic, group = dq_topic_factory(), f"dq-test-kept-{dq_topic_factory()}"
    async with Producer(PointingArray, dq_bootstrap, topic=topic) as typed:
        await typed.send(pointing(3, seed=1))
    await _garbage_then_good(dq_bootstrap, topic, TOO_LARGE_FOR_ONE_REQUEST, [2])
    async with Consumer(
        PointingArray, dq_bootstrap, topics=[topic], transport=transport, group_id=group
    ) as first:
        batch: list[Received[PointingArray]] = []
        for _ in range(20):  # bounded: chunks of the bad message may come first on their own
            batch = await first.receive_batch(timeout_s=LIMIT_S)
            if batch:
                break
        assert [int(r.value.array["last_scan_index"][0]) for r in batch] == [1]
    async with Consumer(
        PointingArray, dq_bootstrap, topics=[topic], transport=transport, group_id=group
    ) as second:
        again = await second.receive(timeout_s=LIMIT_S)
        assert int(again.value.array["last_scan_index"][0]) == 1
        with pytest.raises(DQError) as caught:
            await second.receive(timeout_s=LIMIT_S)
        assert (caught.value.topic, caught.value.partition) == (topic, 0)
        after = await second.receive(timeout_s=LIMIT_S)
        assert int(after.value.array["last_scan_index"][0]) == 2
