#!/usr/bin/env bash
# Runs the whole test suite in the project's environments (created on first use). Extra args go to pytest.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$here/tools/env.sh" "export,test,qt6"

# PySide2 (Nuke <= 15's binding) gets its own environment: it and PySide6 must not share an interpreter, and
# its last release supports Python <= 3.10 -- Nuke 15's own Python. Use a 3.10 when one is found.
find_python310() {
  if [ -n "${CK_QT5_BASE_PYTHON:-}" ]; then echo "$CK_QT5_BASE_PYTHON"; return; fi
  if python3.10 -c "pass" 2>/dev/null; then command -v python3.10; return; fi
  if command -v pyenv >/dev/null 2>&1; then
    for candidate in "$(pyenv root)"/versions/3.10.*/bin/python; do
      if [ -x "$candidate" ]; then echo "$candidate"; return; fi
    done
  fi
}
qt5_venv="${CK_VENV_QT5:-$here/.venv-qt5}"
qt5_base="$(find_python310)"
if [ -n "$qt5_base" ]; then
  CK_VENV="$qt5_venv" CK_TORCH="" CK_PYTHON="$qt5_base" bash -c "source '$here/tools/env.sh' 'test,qt5'"
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
exec "$CK_PY" -m pytest "$@"
