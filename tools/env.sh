#!/usr/bin/env bash
# Creates (once) the project's virtual environment and installs what the named extras need.
# Usage: source tools/env.sh EXTRAS   e.g. "export" or "export,test"
# The pins come from nuke_plugin/torch_targets.py (the project's environment: its exports load in every supported
# Nuke). CK_TORCH="torch==X torchvision==Y ..." replaces them; CK_VENV moves the environment.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${CK_VENV:-$here/.venv}"
extras="${1:-export}"
py="${CK_PYTHON:-python3}"
torch_pair="${CK_TORCH-$(cd "$here" && "$py" -m nuke_plugin.torch_targets requirements project | tr '\n' ' ')}"
stamp="$venv/.ck-installed-$(echo "$extras $torch_pair" | tr -c 'A-Za-z0-9._=-' '_')"
if [ ! -x "$venv/bin/python" ]; then
  echo "[env] creating $venv" >&2
  "$py" -m venv "$venv"
fi
if [ ! -f "$stamp" ]; then
  echo "[env] installing $torch_pair and extras [$extras] (first run only)" >&2
  # shellcheck disable=SC2086
  "$venv/bin/python" -m pip install -q --disable-pip-version-check $torch_pair -e "$here[$extras]"
  touch "$stamp"
fi
export CK_PY="$venv/bin/python"
