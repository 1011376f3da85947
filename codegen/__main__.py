"""``python -m codegen [--check] [--schemas DIR] [--output DIR]``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from ._generate import CodegenError, check, generate

ROOT = Path(__file__).resolve().parent.parent


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m codegen",
        description="Generate dq_sdk.schemas from the JSON Schemas with datamodel-code-generator.",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 with a diff if regenerating would change the output",
    )
    parser.add_argument("--schemas", type=Path, default=ROOT / "schemas", help="schema folder")
    parser.add_argument(
        "--output", type=Path, default=ROOT / "src" / "dq_sdk" / "schemas", help="package folder"
    )
    args = parser.parse_args(argv)
    try:
        if args.check:
            diff = check(args.schemas, args.output)
            if diff:
                sys.stdout.writelines(diff)
                print(f"\n{args.output} is stale: run `python -m codegen` (nox -s codegen)")
                return 1
            print(f"{args.output} is up to date")
            return 0
        changed = generate(args.schemas, args.output)
    except CodegenError as error:
        print(f"codegen: {error}", file=sys.stderr)
        return 2
    print(f"{len(changed)} file(s) written in {args.output}" if changed else "nothing to change")
    return 0


if __name__ == "__main__":
    sys.exit(main())
