#!/usr/bin/env bash
# Install dq-sdk with its test tools into ./.venv and run every check CI runs:
# generated models up to date, ruff, mypy --strict, then the whole pytest suite against a real
# local Kafka-protocol broker that the tests start themselves (DQ_SDK_BOOTSTRAP overrides it).
source "$(dirname "${BASH_SOURCE[0]}")/_setup.sh" --group test
set -x
python -m codegen --check
# A change to schemas/ since the merge base with main has the right x-version bump.
dq-sdk schemas versions
ruff check .
ruff format --check .
mypy
exec pytest "$@"
