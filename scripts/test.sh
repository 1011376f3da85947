#!/usr/bin/env bash
# Install dq-sdk with its test tools into ./.venv and run every check CI runs:
# generated models up to date, ruff, mypy --strict, the docs site built strictly (a warning
# fails; the suite checks it), then the whole pytest suite against a real
# local Kafka-protocol broker that the tests start themselves (DQ_SDK_BOOTSTRAP overrides it),
# then the broker-backed tests (marker `kafka`, less those marked `fixed_engine`, which choose
# their engine themselves) once more on the second engine: noida-db is the default, tansu the
# second (DQ_SDK_BROKER_ENGINE=tansu swaps them).
source "$(dirname "${BASH_SOURCE[0]}")/_setup.sh" --group test
set -x
python -m codegen --check
# A change to schemas/ since the merge base with main has the right x-version bump.
dq-sdk schemas versions
ruff check .
ruff format --check .
mypy
export NO_MKDOCS_2_WARNING=1 DISABLE_MKDOCS_2_WARNING=true  # a plugin banner, see decisions.md
mkdocs build --strict --site-dir site
export DQ_SDK_DOCS_SITE="$PWD/site"
first="${DQ_SDK_BROKER_ENGINE:-noida}"
if [ "$first" = tansu ]; then second=noida; else second=tansu; fi
status=0
DQ_SDK_BROKER_ENGINE="$first" pytest "$@" || status=$?
# Against an existing cluster (DQ_SDK_BOOTSTRAP) there is no second local engine to try.
if [ -z "${DQ_SDK_BOOTSTRAP:-}" ]; then
  # fixed_engine tests start the engine they are about themselves: the first pass ran them.
  DQ_SDK_BROKER_ENGINE="$second" pytest -m "kafka and not fixed_engine" "$@" || status=$?
fi
exit "$status"
