#!/usr/bin/env bash
# Runs the whole test suite in the project's environment (created on first use). Extra args go to pytest.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$here/tools/env.sh" "export,test,qt6"
# PySide2 lives in its own environment: it and PySide6 must not share one interpreter.
CK_VENV="${CK_VENV_QT5:-$here/.venv-qt5}" CK_TORCH="" bash -c "source '$here/tools/env.sh' 'test,qt5'" 
export CK_QT5_PYTHON="${CK_VENV_QT5:-$here/.venv-qt5}/bin/python"
export QT_QPA_PLATFORM=offscreen
cd "$here"
"$CK_PY" -m vermin --no-tips --violations -t=3.9- nuke_plugin init.py menu.py
exec "$CK_PY" -m pytest "$@"
