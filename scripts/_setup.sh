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
# What only the tests need, from Debian (we run as root on CI; a fresh machine has neither):
# kcat, the independent client of the interop tests, and Chromium for the view's browser tests
# (Playwright cannot download its own browser here). The demo needs neither.
if [[ " $* " == *" --group test "* ]]; then
  missing=()
  command -v kcat >/dev/null 2>&1 || missing+=(kcat)
  [ -x /usr/bin/chromium ] || missing+=(chromium)
  if [ "${#missing[@]}" -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      apt-get update -qq >/dev/null
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    else
      echo "missing ${missing[*]}: install with apt-get install ${missing[*]}" >&2
    fi
  fi
fi
