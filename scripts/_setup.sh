# Sourced by demo.sh and test.sh: make ./.venv with dq-sdk and everything its tests need.
# Works on a fresh machine with only Python 3.11+ and access to PyPI.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-python3}"
VENV="${DQ_SDK_VENV:-$ROOT/.venv}"
if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -m venv "$VENV"
fi
# pip >= 25.1 understands dependency groups (--group); the venv's bundled pip may be older.
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade "pip>=25.1"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e ".[all]" "$@"
export PATH="$VENV/bin:$PATH"
# kcat (librdkafka's command-line client, from Debian): the independent client the interop tests
# use. Installed only when missing (CI machines may be fresh; we run as root there).
if ! command -v kcat >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get install -y -qq kcat >/dev/null 2>&1 \
      || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq kcat >/dev/null; }
  else
    echo "kcat is missing and cannot be installed here: install it (Debian: apt-get install kcat)" >&2
  fi
fi
# The view's browser tests drive Debian's Chromium (Playwright cannot download its own here).
if [ ! -x /usr/bin/chromium ] && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  apt-get update -qq && apt-get install -y -qq chromium >/dev/null
fi
