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
# uv resolves the same packages as pip from PyPI in a fraction of the time (a fresh venv: about
# a minute against pip's 4.5, docs/decisions.md "How long CI takes"). pip stays the fallback
# where uv cannot be installed or fails; DQ_SDK_INSTALLER=pip forces it.
pip_install() {
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "$@"
}
install_with_uv() {
  [ "${DQ_SDK_INSTALLER:-uv}" = uv ] || return 1
  [ -x "$VENV/bin/uv" ] || pip_install "uv>=0.9" || return 1
  "$VENV/bin/uv" pip install --quiet --python "$VENV/bin/python" -e ".[all]" "$@"
}
# A venv already set up from this pyproject.toml with these arguments is left alone: the
# editable install follows the sources, and reinstalling it would briefly remove dq-sdk from
# the venv under any test process starting then (the suite runs demo.sh while the second
# engine's pass runs beside it). The stamps live in the venv; a new pyproject.toml misses them.
# Hashed by the venv's Python: no coreutils needed, and a failure here stops the script.
stamp() {
  "$VENV/bin/python" -c 'import hashlib, sys
h = hashlib.sha256(open("pyproject.toml", "rb").read())
h.update("\0".join(sys.argv[1:]).encode())
print(h.hexdigest()[:16])' "$@"
}
STAMPS="$VENV/.dq-sdk-setup"
wanted="$(stamp "$@")"
if [ ! -e "$STAMPS/$wanted" ]; then
  if ! install_with_uv "$@"; then
    [ "${DQ_SDK_INSTALLER:-uv}" = pip ] || echo "uv could not install: falling back to pip" >&2
    # pip >= 25.1 understands dependency groups (--group); the venv's bundled pip may be older.
    pip_install --upgrade "pip>=25.1"
    pip_install -e ".[all]" "$@"
  fi
  # Every install includes dq-sdk[all], so the plain set-up (demo.sh) is done too.
  mkdir -p "$STAMPS" && touch "$STAMPS/$wanted" "$STAMPS/$(stamp)"
fi
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
