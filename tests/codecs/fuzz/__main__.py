"""``python -m tests.codecs.fuzz [--iterations 100000] [--seed 0] [--decoders npy,json] [--save DIR]
[--warnings-as-errors]``

Runs the fuzz targets of every decoder (or the ones named), prints what came out of each, and
exits with 1 if any input made a decoder raise something other than a dq-sdk error, unpickle,
or take longer than a second. ``--save DIR`` writes those inputs there, to replay with
``dq_sdk.codecs.decode(Path(file).read_bytes(), encoding)``.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

from dq_sdk.codecs import Encoding

from ._engine import DECODERS, SLOW_S, FuzzReport, run


def _line(report: FuzzReport, wall_s: float) -> str:
    rejected = ", ".join(f"{name} {count}" for name, count in report.rejected.most_common())
    escaped = ", ".join(f"{name} {count}" for name, count in report.escaped.most_common())
    warned = ", ".join(f"{name} {count}" for name, count in report.warned.most_common())
    return (
        f"{report.encoding:<14} {report.inputs:>8} inputs  {report.decoded:>7} decoded  "
        f"rejected: {rejected or '-'}  escaped: {escaped or 'none'}  "
        f"warnings: {warned or 'none'}  "
        f"slow (>{SLOW_S:g} s): {report.slow}  max {report.max_s * 1000:.1f} ms  "
        f"largest input {report.max_input_bytes} B  {wall_s:.1f} s"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.codecs.fuzz", description=__doc__)
    parser.add_argument("--iterations", type=int, default=100_000, help="inputs per decoder")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--decoders",
        default=",".join(e.value for e in DECODERS),
        help="comma-separated encodings (default: all six)",
    )
    parser.add_argument("--save", type=Path, default=None, help="write failing inputs here")
    parser.add_argument(
        "--warnings-as-errors",
        action="store_true",
        help="raise warnings (as filterwarnings=error does); one escaping a decoder is a finding",
    )
    args = parser.parse_args(argv)
    chosen = [Encoding(name.strip()) for name in args.decoders.split(",") if name.strip()]

    mode = "warnings as errors" if args.warnings_as_errors else "warnings counted"
    print(f"dq-sdk decoder fuzz: {args.iterations} inputs per decoder, seed {args.seed}, {mode}")
    started = time.perf_counter()
    failed = False
    for encoding in chosen:
        begun = time.perf_counter()
        report = run(
            encoding, args.iterations, seed=args.seed, warnings_as_errors=args.warnings_as_errors
        )
        print(_line(report, time.perf_counter() - begun), flush=True)
        for finding in report.findings:
            failed = True
            print(f"    input #{finding.index} ({len(finding.data)} B): {finding.detail}")
            if args.save is not None:
                args.save.mkdir(parents=True, exist_ok=True)
                name = f"{finding.encoding}-{args.seed}-{finding.index}.bin"
                (args.save / name).write_bytes(finding.data)
        failed = failed or not report.ok
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"total {len(chosen) * args.iterations} inputs in {time.perf_counter() - started:.1f} s; "
        f"peak RSS {peak_mib:.0f} MiB; {'FINDINGS (see above)' if failed else 'no findings'}"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
