#!/usr/bin/env bash
# Install dq-sdk with its test tools into ./.venv and run every check CI runs:
# generated models up to date, ruff, mypy --strict, the docs site built strictly (a warning
# fails; the suite checks it), then the whole pytest suite against a real
# local Kafka-protocol broker that the tests start themselves (DQ_SDK_BOOTSTRAP overrides it),
# then the broker-backed tests (marker `kafka`, less those marked `fixed_engine`, which choose
# their engine themselves) once more on the second engine: noida-db is the default, tansu the
# second (DQ_SDK_BROKER_ENGINE=tansu swaps them).
#
# The second engine's pass runs beside everything after ruff (docs/testing.md, "How long CI
# takes"): it mostly waits on its broker's group timers, each pass starts its own broker on a
# free port, and its output goes to a log printed whole once the first pass ends. The exit
# status fails if either pass (or any check) fails.
started=$SECONDS
source "$(dirname "${BASH_SOURCE[0]}")/_setup.sh" --group test
echo "set-up took $((SECONDS - started)) s"
PS4='+ [$(date -u +%T)] '  # each step's start time: where CI's time goes, from its log alone
set -x
python -m codegen --check
# A change to schemas/ since the merge base with main has the right x-version bump.
dq-sdk schemas versions
ruff check .
ruff format --check .
export NO_MKDOCS_2_WARNING=1 DISABLE_MKDOCS_2_WARNING=true  # a plugin banner, see decisions.md
export DQ_SDK_DOCS_SITE="$PWD/site"  # built below; the second pass runs no test that reads it
first="${DQ_SDK_BROKER_ENGINE:-noida}"
if [ "$first" = tansu ]; then second=noida; else second=tansu; fi
second_pid=""
# Against an existing cluster (DQ_SDK_BOOTSTRAP) there is no second local engine to try.
# Nor when the arguments choose a marker expression of their own (-m): theirs would replace it.
own_marker=no
for arg in "$@"; do case "$arg" in -m | -m*) own_marker=yes ;; esac; done
if [ -z "${DQ_SDK_BOOTSTRAP:-}" ] && [ "$own_marker" = no ]; then
  # fixed_engine tests start the engine they are about themselves: the first pass ran them.
  second_log="$(mktemp "${TMPDIR:-/tmp}/dq-sdk-pytest-$second.XXXXXX.log")"
  DQ_SDK_BROKER_ENGINE="$second" pytest -m "kafka and not fixed_engine" "$@" >"$second_log" 2>&1 &
  second_pid=$!
  # A check below failing (set -e) must not leave the second pass running: stop it by its pid.
  # SIGTERM (a background job of a script ignores SIGINT); brokers die with their pytest.
  trap '[ -z "$second_pid" ] || kill "$second_pid" 2>/dev/null || true; rm -f "$second_log"' EXIT
fi
mypy
mkdocs build --strict --site-dir site
status=0
DQ_SDK_BROKER_ENGINE="$first" pytest "$@" || status=$?
if [ -n "$second_pid" ]; then
  second_status=0
  wait "$second_pid" || second_status=$?
  second_pid=""
  { set +x; } 2>/dev/null
  echo "=== the broker-backed tests on $second (pytest -m 'kafka and not fixed_engine', run beside the pass above):"
  cat "$second_log"
  rm -f "$second_log"
  # 5: the arguments (paths, -k) selected no broker-backed test, so there was nothing to repeat.
  [ "$second_status" = 0 ] || [ "$second_status" = 5 ] || status=$second_status
fi
exit "$status"
