#!/usr/bin/env bash
# Creates (once) the project's virtual environment and installs what the named extras need.
# Usage: source tools/env.sh EXTRAS   e.g. "export" or "export,test"
# The pins come from the one torch table (nuke_plugin/contract/torch_targets.py, environment "project"); override
# them with CK_TORCH="torch==X torchvision==Y" (CK_TORCH="" installs no torch). CK_VENV moves the environment.
# Sourced: it leaves the caller's shell options (set -e, -u, pipefail) as they were, and returns non-zero on failure.
_ck_env() {
  local here venv extras torch_pair py stamp
  here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)" || return 1
  venv="${CK_VENV:-$here/.venv}"
  extras="${1:-export}"
  py="${CK_PYTHON:-python3}"
  if [ -n "${CK_TORCH+set}" ]; then
    torch_pair="$CK_TORCH"
  else  # the table is pure Python 3.9+: the base interpreter reads it before any environment exists
    torch_pair="$(cd "$here" && "$py" -m nuke_plugin.contract.torch_targets requirements project)" || return 1
    torch_pair="$(echo $torch_pair)"  # one line, single spaces
  fi
  # The stamp names the extras, the torch pins and a checksum of pyproject.toml: editing a dependency there
  # reinstalls on the next run instead of leaving the environment behind.
  stamp="$venv/.ck-installed-$(echo "$extras $torch_pair $(cksum < "$here/pyproject.toml")" | tr -c 'A-Za-z0-9._=-' '_')"
  if [ ! -x "$venv/bin/python" ]; then
    echo "[env] creating $venv" >&2
    "$py" -m venv "$venv" || return 1
  fi
  if [ ! -f "$stamp" ]; then
    echo "[env] installing $torch_pair and extras [$extras] (first run only)" >&2
    # shellcheck disable=SC2086
    "$venv/bin/python" -m pip install -q --disable-pip-version-check $torch_pair -e "$here[$extras]" || return 1
    touch "$stamp" || return 1
  fi
  export CK_PY="$venv/bin/python"
}
_ck_env "$@"
_ck_status=$?
unset -f _ck_env
if [ "$_ck_status" -ne 0 ]; then
  unset _ck_status
  return 1 2>/dev/null || exit 1
fi
unset _ck_status
