"""A consumer process that the reliability tests start, kill and interrupt.

It reads ``Seq`` messages in a consumer group and, for each, appends ``"<id> <partition>
<offset>\\n"`` to ``--out``. Writing that line is the last step of processing a message, and
only then does it ask for the next one, which is when dq-sdk counts the message as processed
(and may commit it). The file is line-buffered: each line reaches the kernel before the next
message is requested, so a SIGKILL cannot lose a line that was counted as processed, and a
line that is in the file was processed.

Exit: after ``--idle-exit`` seconds without a message (leaving ``async with`` normally, which
commits), after ``--limit`` messages, or on SIGINT (Ctrl-C; exit code 130). With ``--runner
dq`` the loop runs under ``dq_sdk.run``, which ends it on SIGTERM as on Ctrl-C (exit code 143).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from pathlib import Path
from typing import TextIO

from _reliability_support import Seq

import dq_sdk
from dq_sdk import Consumer


async def consume(args: argparse.Namespace, out: TextIO) -> int:
    processed = 0
    async with Consumer(
        Seq,
        args.bootstrap,
        topics=[args.topic],
        group_id=args.group,
        commit_interval_s=args.commit_interval,
        session_timeout_ms=args.session_timeout_ms,
        heartbeat_interval_ms=args.heartbeat_interval_ms,
        transport=args.transport,
    ) as consumer:
        # Joining the group takes a rebalance; after that, silence means the end.
        timeout = args.first_timeout
        while args.limit is None or processed < args.limit:
            try:
                message = await consumer.receive(timeout_s=timeout)
            except TimeoutError:
                break
            if args.delay and (args.slow_first is None or processed < args.slow_first):
                await asyncio.sleep(args.delay)  # the "work"; Ctrl-C may land here
            out.write(f"{message.value.n} {message.partition} {message.offset}\n")
            processed += 1
            timeout = args.idle_exit
    return processed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--group", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--transport", choices=["aiokafka", "confluent"], default="aiokafka")
    parser.add_argument("--commit-interval", type=float, default=0.2)
    parser.add_argument("--session-timeout-ms", type=int, default=10_000)
    parser.add_argument("--heartbeat-interval-ms", type=int, default=3_000)
    parser.add_argument("--first-timeout", type=float, default=30.0)
    parser.add_argument("--idle-exit", type=float, default=3.0)
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--delay", type=float, default=0.0, help="seconds of 'work' a message")
    parser.add_argument("--runner", choices=["asyncio", "dq"], default="asyncio")
    parser.add_argument("--slow-first", type=int, default=None, help="--delay only this many")
    args = parser.parse_args()
    # Group events (joins, assignments, revocations) in the test's log, for when one fails.
    logging.basicConfig(
        level=logging.INFO,
        format=f"%(asctime)s worker {os.getpid()} %(name)s %(levelname)s %(message)s",
    )
    logging.getLogger("aiokafka").setLevel(logging.WARNING)
    try:
        with Path(args.out).open("a", buffering=1) as out:  # line-buffered: a write() a line
            if args.runner == "dq":
                processed = dq_sdk.run(consume(args, out))
            else:
                processed = asyncio.run(consume(args, out))
    except KeyboardInterrupt:
        print("worker: interrupted", file=sys.stderr)
        return 130
    print(f"worker: processed {processed}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
