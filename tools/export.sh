#!/usr/bin/env bash
# Exports a CorridorKey checkpoint to Nuke-ready TorchScript, creating the export environment on first use.
# Usage: bash tools/export.sh --checkpoint CorridorKey_v1.0.pth [--output build/CorridorKey.pt] [exporter options]
#        bash tools/export.sh --demo [--output build/demo/CorridorKey.pt] [--resolution 512]
# --demo needs no checkpoint: it exports random weights (a meaningless matte through the real plumbing), at 512 unless
# --resolution says otherwise, into build/demo/ so that it never replaces a real build; a first run still creates the
# export environment (tools/env.sh says what it downloads). Other options go to `python -m exporter` (--help lists
# them). Relative paths are taken from the folder you run this in.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PYTHONPATH="$here${PYTHONPATH:+:$PYTHONPATH}"  # this clone's exporter, from wherever it is run
py="${CK_PYTHON:-python3}"
# The demo proves the plumbing, which is the same at every resolution, so it runs at a small one (README,
# Performance: what an export costs at 512 and at the native 2048).
demo_resolution=512

demo=0 help=0 has_output=0 has_resolution=0 checkpoint=""
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --demo) demo=1 ;;
    -h|--help) help=1 ;;
    --checkpoint) checkpoint="${2-}"; args+=("$1" "${2-}"); [ $# -gt 1 ] && shift ;;
    --checkpoint=*) checkpoint="${1#*=}"; args+=("$1") ;;
    --output|--output=*) has_output=1; args+=("$1") ;;
    --resolution|--resolution=*) has_resolution=1; args+=("$1") ;;
    *) args+=("$1") ;;
  esac
  shift
done

fail() {  # a problem the user can fix: exit 2, as the exporter does (nuke_plugin/contract/exits.py)
  echo "tools/export.sh: $1" >&2
  exit 2
}
weights_hint() {  # where the real weights come from, read from the contract (its one home)
  "$py" -c 'from nuke_plugin import contract as c; print("Download %s from %s (Hugging Face)" % (c.WEIGHTS_FILE, c.WEIGHTS_URL))'
}

if [ "$help" = 1 ]; then
  sed -n '2,8s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
  echo
  exec "$py" -m exporter --help  # needs no torch: it works before the environment exists
fi
# Checked before the environment is created, which takes minutes and gigabytes on a first run.
if [ "$demo" = 1 ]; then
  [ -z "$checkpoint" ] || fail "--demo makes its own checkpoint: drop --checkpoint $checkpoint, or drop --demo"
elif [ -z "$checkpoint" ]; then
  fail "needs --checkpoint CorridorKey_v1.0.pth ($(weights_hint)), or --demo to try the chain on random weights"
elif [ ! -e "$checkpoint" ]; then
  case "$checkpoint" in /*) where="$checkpoint" ;; *) where="$PWD/$checkpoint" ;; esac
  fail "checkpoint not found: $where. $(weights_hint), or run with --demo to try the chain on random weights"
fi

source "$here/tools/env.sh" "export"

if [ "$demo" = 1 ]; then
  checkpoint="${XDG_CACHE_HOME:-$HOME/.cache}/corridorkey-nuke/demo/random_weights.pth"
  [ "$has_output" = 1 ] || args+=(--output build/demo/CorridorKey.pt)
  [ "$has_resolution" = 1 ] || args+=(--resolution "$demo_resolution")
  echo "[demo] RANDOM WEIGHTS: the matte will be meaningless; the export, validation, .pt and manifest are real." >&2
  [ "$has_resolution" = 1 ] || echo "[demo] model resolution $demo_resolution (quick on a CPU; the real model" \
    "runs at 2048): pass --resolution to change it" >&2
  if [ ! -f "$checkpoint" ]; then
    "$CK_PY" -m exporter.demo_checkpoint "$checkpoint" >&2
  fi
  args=(--checkpoint "$checkpoint" "${args[@]}")
elif [ "$has_output" = 0 ]; then
  args+=(--output build/CorridorKey.pt)
fi
exec "$CK_PY" -m exporter "${args[@]}"
