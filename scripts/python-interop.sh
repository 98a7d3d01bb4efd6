#!/usr/bin/env bash
# Python interop check: the Python reference client (replit-river 0.17.11 from PyPI,
# its `replit_river.v2` client speaks msgpack) against a msgpack server of the interop
# contract (fixtures/python-interop/check.py).
#
#   scripts/python-interop.sh ws://127.0.0.1:PORT [SERVER_ID]
#
# Needs Python >= 3.12 (the v2 client uses 3.12 syntax): python3.13 / python3.12 on
# PATH, or a pyenv 3.12/3.13. The virtualenv lives in .venv-python-interop/ (reused).
set -euo pipefail
cd "$(dirname "$0")/.."

url="${1:-}"
server_id="${2:-SERVER}"
if [[ -z "$url" ]]; then
  echo "usage: $0 ws://127.0.0.1:PORT [SERVER_ID]  (a msgpack interop-server)" >&2
  exit 2
fi

RIVER_PY_VERSION="0.17.11"
VENV=".venv-python-interop"

is_py312() {
  [[ -n "$1" && -x "$1" ]] && "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null
}

find_python() {
  local c p
  for c in python3.13 python3.12; do
    p="$(command -v "$c" 2>/dev/null || true)"
    if is_py312 "$p"; then echo "$p"; return 0; fi
  done
  if command -v pyenv >/dev/null 2>&1; then
    local root
    root="$(pyenv root 2>/dev/null || true)"
    for p in "$root"/versions/3.13*/bin/python3 "$root"/versions/3.12*/bin/python3; do
      if is_py312 "$p"; then echo "$p"; return 0; fi
    done
    for c in 3.13 3.12; do
      p="$(pyenv which "python$c" 2>/dev/null || true)"
      if is_py312 "$p"; then echo "$p"; return 0; fi
    done
  fi
  # pyenv installed but not on PATH.
  for p in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.13*/bin/python3 \
    "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.12*/bin/python3; do
    if is_py312 "$p"; then echo "$p"; return 0; fi
  done
  p="$(command -v python3 2>/dev/null || true)"
  if is_py312 "$p"; then echo "$p"; return 0; fi
  return 1
}

if ! PY="$(find_python)"; then
  echo "FAIL python-interop: no Python >= 3.12 found (looked for python3.13/python3.12 on PATH," >&2
  echo "  \$(pyenv root)/versions/3.1[23]*/bin/python3 and 'pyenv which python3.1[23]';" >&2
  echo "  the default python3 is $(python3 --version 2>&1 || echo 'missing')). replit-river $RIVER_PY_VERSION's" >&2
  echo "  v2 client needs Python 3.12+: install one (e.g. 'pyenv install 3.12') and re-run." >&2
  echo "0 passed, 1 failed"
  exit 1
fi
echo "python-interop: using $PY ($("$PY" --version 2>&1))"

# (Re)create the venv when it is missing or was made by an older Python.
if ! is_py312 "$VENV/bin/python"; then
  rm -rf "$VENV"
  if ! "$PY" -m venv "$VENV"; then
    echo "FAIL python-interop: '$PY -m venv $VENV' failed (is the venv module installed for it?)" >&2
    echo "0 passed, 1 failed"
    exit 1
  fi
fi

installed="$("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("replit-river"))' 2>/dev/null || true)"
if [[ "$installed" != "$RIVER_PY_VERSION" ]]; then
  echo "python-interop: installing replit-river==$RIVER_PY_VERSION into $VENV"
  if ! "$VENV/bin/python" -m pip install --quiet "replit-river==$RIVER_PY_VERSION"; then
    echo "FAIL python-interop: could not install replit-river==$RIVER_PY_VERSION from PyPI into $VENV" >&2
    echo "  (no network access to PyPI, or the release is unavailable)" >&2
    echo "0 passed, 1 failed"
    exit 1
  fi
fi

exec "$VENV/bin/python" fixtures/python-interop/check.py --url "$url" --server-id "$server_id"
