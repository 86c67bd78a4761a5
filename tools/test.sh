#!/usr/bin/env bash
# Runs the tests in the project's environments (created on first use). The tiers are tests/tiers.py's.
#   bash tools/test.sh [ARGS]         everything (what CI runs): vermin, ruff and mypy; the fast tier on Nuke 14's
#                                     Python 3.9 with pytest alone (no torch, no Qt); then every tier in .venv
#                                     (Python 3.11, torch, PySide6; the PySide2 dialogs in .venv-qt5). ARGS go to
#                                     both pytest runs, e.g. -k exporter -x, or -m export for one tier.
#   bash tools/test.sh fast [ARGS]    the fast tier alone, in .venv-fast: nothing but pytest to install.
# The compatibility lanes (every Nuke's torch) are tools/compat.sh.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

find_python() {  # an interpreter of Python $1 (e.g. 3.9): $2 if given, else from PATH, else from pyenv
  local want="$1" given="${2:-}" candidate
  if [ -n "$given" ]; then echo "$given"; return; fi
  if "python$want" -c "pass" 2>/dev/null; then command -v "python$want"; return; fi
  if command -v pyenv >/dev/null 2>&1; then
    for candidate in "$(pyenv root)"/versions/"$want".*/bin/python; do
      if [ -x "$candidate" ]; then echo "$candidate"; return; fi
    done
  fi
}

# The fast tier on Nuke 14's Python (the oldest the Nuke side supports), in an environment with pytest alone: it
# proves that tier needs neither torch nor Qt, and that the Nuke side runs on 3.9 beyond vermin's reading.
fast_venv="${CK_VENV_FAST:-$here/.venv-fast}"
fast_base="$(find_python 3.9 "${CK_FAST_BASE_PYTHON:-}")"
if [ -z "$fast_base" ]; then
  echo "[test] no Python 3.9 found: the fast tier runs on $(python3 --version 2>&1) (set CK_FAST_BASE_PYTHON)" >&2
  fast_base="python3"
fi
CK_VENV="$fast_venv" CK_TORCH="" CK_PYTHON="$fast_base" bash -c "source '$here/tools/env.sh' pytest"
run_fast_tier() {
  echo "[test] the fast tier (no torch, no Qt) on $("$fast_venv/bin/python" --version 2>&1)"
  (cd "$here" && "$fast_venv/bin/python" -m pytest -m fast "$@")
}
if [ "${1:-}" = "fast" ]; then
  shift
  run_fast_tier "$@"
  exit
fi

source "$here/tools/env.sh" "export,test,qt6"

# PySide2 (Nuke <= 15's binding) gets its own environment: it and PySide6 must not share an interpreter, and
# its last release supports Python <= 3.10 -- Nuke 15's own Python.
qt5_venv="${CK_VENV_QT5:-$here/.venv-qt5}"
qt5_base="$(find_python 3.10 "${CK_QT5_BASE_PYTHON:-}")"
if [ -n "$qt5_base" ]; then
  CK_VENV="$qt5_venv" CK_TORCH="" CK_PYTHON="$qt5_base" bash -c "source '$here/tools/env.sh' 'pytest,qt5'"
  export CK_QT5_PYTHON="$qt5_venv/bin/python"
else
  echo "[test] no Python 3.10 found: the PySide2 dialog tests will be skipped (set CK_QT5_BASE_PYTHON)" >&2
fi

export QT_QPA_PLATFORM=offscreen
cd "$here"
echo "[test] vermin: nuke_plugin/, init.py and menu.py must run on Python 3.9+ (Nuke 14 and later)"
"$(dirname "$CK_PY")/vermin" --no-tips --violations --eval-annotations -t=3.9- nuke_plugin init.py menu.py
echo "[test] ruff (pyproject.toml [tool.ruff])"
"$CK_PY" -m ruff check exporter nuke_plugin init.py menu.py tests tools benchmarks
echo "[test] mypy on exporter/ and nuke_plugin/ (pyproject.toml [tool.mypy])"
"$CK_PY" -m mypy
run_fast_tier "$@"
echo "[test] every tier on $("$CK_PY" --version 2>&1), with torch and Qt"
exec "$CK_PY" -m pytest "$@"
