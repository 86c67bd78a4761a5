#!/usr/bin/env bash
# Creates (once) the project's virtual environment and installs what the named extras need.
# Usage: source tools/env.sh EXTRAS   e.g. "export" or "export,test"
# The pins come from the one torch table (nuke_plugin/contract/torch_targets.py, environment "project"); override
# them with CK_TORCH="torch==X torchvision==Y" (CK_TORCH="" installs no torch). CK_VENV moves the environment.
# CK_TORCH_INDEX=cpu takes torch from PyTorch's CPU-only index: on Linux, PyPI's torch brings CUDA libraries and
# triton (most of the download) even to a machine without a GPU. It pins that index's own builds (torch==X+cpu on
# x86-64), so an unreachable index stops pip instead of letting it take PyPI's CUDA torch, and the torch installed
# is checked to be a CPU build before the environment counts as made. To switch an existing environment remove it
# first.
# Sourced: it leaves the caller's shell options (set -e, -u, pipefail) as they were, and returns non-zero on failure.
_ck_env() {
  local here venv extras torch_pair py stamp index_options cpu_flag size torch_pin cpu_url
  here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)" || return 1
  venv="${CK_VENV:-$here/.venv}"
  extras="${1:-export}"
  py="${CK_PYTHON:-python3}"
  case "${CK_TORCH_INDEX:-}" in
    "") index_options="" cpu_flag="" cpu_url="" ;;
    cpu) index_options="$(cd "$here" && "$py" -m nuke_plugin.contract.torch_targets cpu-index-options)" || return 1
         index_options="$(echo $index_options)" cpu_flag="--cpu"
         cpu_url="${index_options#--index-url }" && cpu_url="${cpu_url%% *}" ;;
    *) echo "[env] CK_TORCH_INDEX=$CK_TORCH_INDEX: the one choice is cpu (PyTorch's CPU-only torch)" >&2; return 2 ;;
  esac
  if [ -n "${CK_TORCH+set}" ]; then
    torch_pair="$CK_TORCH"
  else  # the table is pure Python 3.9+: the base interpreter reads it before any environment exists
    torch_pair="$(cd "$here" && "$py" -m nuke_plugin.contract.torch_targets requirements project $cpu_flag)" \
      || return 1
    torch_pair="$(echo $torch_pair)"  # one line, single spaces
  fi
  torch_pin="$(printf '%s\n' $torch_pair | sed -n 's/^torch==//p' | head -n 1)"  # 2.14.1, 2.14.1+cpu or empty
  # The stamp names the extras, the torch pins and checksums of pyproject.toml and of the tools' pins
  # (tools/constraints.txt): editing either reinstalls on the next run instead of leaving the environment behind.
  stamp="$venv/.ck-installed-$(echo "$extras $torch_pair $(cksum < "$here/pyproject.toml") $(cksum < \
    "$here/tools/constraints.txt")" | tr -c 'A-Za-z0-9._=-' '_')"
  # `python -m venv` interrupted (Ctrl+C in the first seconds) leaves bin/python without pip: the ready stamp,
  # written once the environment is whole, tells such a half-made one from a finished one. An environment with an
  # install stamp was finished by an older env.sh, which wrote no ready stamp.
  if [ ! -f "$venv/.ck-venv-ready" ] && ! compgen -G "$venv/.ck-installed-*" >/dev/null; then
    if [ -e "$venv/pyvenv.cfg" ] || [ -e "$venv/bin/python" ]; then
      echo "[env] $venv was left half-made (an earlier first run was interrupted): making it again" >&2
      "$py" -m venv --clear "$venv" || return 1
    elif [ -e "$venv" ] && [ -n "$(ls -A "$venv" 2>/dev/null)" ]; then
      echo "[env] $venv holds files but no Python environment: move them away, or set CK_VENV to another" \
        "folder" >&2
      return 2
    else
      echo "[env] creating $venv" >&2
      "$py" -m venv "$venv" || return 1
    fi
    touch "$venv/.ck-venv-ready" || return 1
  fi
  if [ ! -f "$stamp" ]; then
    if [ -n "$torch_pin" ] && _ck_has_torch "$venv" "$torch_pin"; then
      # torch is there (an export made this environment; the tests add their packages): nothing big to fetch
      echo "[env] adding extras [$extras] to $venv (torch $torch_pin is installed already: a small download)" >&2
    else
      echo "[env] installing $torch_pair and extras [$extras] into $venv (first run only)" >&2
      if [ -n "$index_options" ]; then
        echo "[env] torch from PyTorch's CPU-only index (CK_TORCH_INDEX=cpu): a much smaller download" >&2
      elif [ -z "${CK_TORCH+set}" ] && [ "$(uname -s)" = Linux ]; then
        size="$(cd "$here" && "$py" -m nuke_plugin.contract.torch_targets download-gb project)" || return 1
        echo "[env] downloads about $size GB: PyPI's Linux torch bundles CUDA libraries and triton, used or not." \
          "Without a GPU, CK_TORCH_INDEX=cpu installs the CPU-only torch instead (much smaller)" >&2
      fi
    fi
    # pip's own lines and progress bars show what it downloads (no -q: a first run takes minutes); on stderr, so
    # that stdout stays the exporter's (its --progress json lines).
    if ! "$venv/bin/python" -m pip install --disable-pip-version-check -c "$here/tools/constraints.txt" \
        $index_options $torch_pair -e "$here[$extras]" >&2; then
      if [ -n "$index_options" ]; then
        echo "[env] pip could not install PyTorch's CPU-only torch ($torch_pair) from $cpu_url: is that index" \
          "reachable from here? Run again when it is, or unset CK_TORCH_INDEX to take PyPI's torch (it bundles" \
          "the CUDA libraries: a bigger download)" >&2
        return 2
      fi
      return 1
    fi
    if [ -n "$index_options" ] && [ -n "$torch_pin" ]; then
      _ck_cpu_torch_installed "$venv" "$cpu_url" || return 2
    fi
    touch "$stamp" || return 1
  fi
  export CK_PY="$venv/bin/python"
}
_ck_has_torch() {  # VENV PIN: whether that torch is installed already (pip would download nothing for it)
  local pattern
  for pattern in "$1"/lib/python*/site-packages "$1"/Lib/site-packages; do
    case "$2" in
      *+*) compgen -G "$pattern/torch-$2.dist-info" >/dev/null && return 0 ;;
      *) compgen -G "$pattern/torch-$2.dist-info" >/dev/null && return 0
         compgen -G "$pattern/torch-$2+*.dist-info" >/dev/null && return 0 ;;  # ==X takes any X+label
    esac
  done
  return 1
}
_ck_cpu_torch_installed() {  # VENV URL: CK_TORCH_INDEX=cpu asked for a CPU build; says why not and fails otherwise
  local report version cuda
  report="$("$1/bin/python" -c 'import torch; print(torch.__version__); print(torch.version.cuda)' 2>&1)" || {
    echo "[env] torch does not import in $1 after the install: $report" >&2
    return 1
  }
  version="$(printf '%s\n' "$report" | head -n 1)"
  cuda="$(printf '%s\n' "$report" | tail -n 1)"
  if [ "$cuda" != "None" ]; then
    echo "[env] CK_TORCH_INDEX=cpu asked for PyTorch's CPU-only torch, but $1 now holds torch $version built for" \
      "CUDA $cuda: pip took it from another index (PyPI's bundles the CUDA libraries), usually because" \
      "PyTorch's CPU-only index ($2) could not be reached. Remove $1 and run again once that index answers, or unset" \
      "CK_TORCH_INDEX to keep this torch" >&2
    return 1
  fi
  echo "[env] torch $version is a CPU-only build, as CK_TORCH_INDEX=cpu asked" >&2
}
_ck_env "$@"
_ck_status=$?
unset -f _ck_env _ck_has_torch _ck_cpu_torch_installed
if [ "$_ck_status" -ne 0 ]; then  # 2: something the user can fix, as the exporter's exit codes
  eval "unset _ck_status; return $_ck_status 2>/dev/null || exit $_ck_status"
fi
unset _ck_status
