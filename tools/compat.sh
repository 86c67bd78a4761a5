#!/usr/bin/env bash
# Compatibility lanes: proves that each build loads and runs in the torch inside every Nuke that it claims, and in
# no other.
#
# For each Nuke release in nuke_plugin/contract/torch_targets.py it keeps a venv of that Nuke's Python with that Nuke's
# torch (a faithful stand-in for its libtorch), then:
#   1. checks that each lane knows every operator of each operator set exporter/lanes/portable_ops.json claims for its
#      torch (and reports what keeps the others out), and loads the shipped self-test model and matches its stored
#      expectations;
#   2. exports a random-weight checkpoint with the project's own environment and no target (the portable build,
#      which must load everywhere) and has every lane load it, set every knob and match this torch's output
#      (max abs <= 1e-5);
#   3. has each lane export its own Nuke's build (Nuke 14: portable; Nuke 15.1 and 16: the fused attention), which
#      the lanes of the Nukes it claims and the project's torch load, knob by knob, and match; a lane it does not
#      claim must refuse to load it (the fused op in Nuke 14's torch);
#   4. runs Nuke 16's own build through the C++ Inference-node stand-in built against Nuke 16/17's libtorch.
#
# Lanes live in ${CK_LANES_DIR:-~/.cache/corridorkey-nuke/lanes} and their wheels in ~/.cache/corridorkey-nuke/wheels,
# so a second run downloads nothing. First run: about 6.6 GB of downloads (CUDA builds of torch: PyPI has no
# CPU-only Linux wheels of these releases). Pythons come from pyenv, uv or PATH (python3.9, 3.10, 3.11).
# Usage: bash tools/compat.sh [--update-ops]   (--update-ops rewrites portable_ops.json from the project's builds of
#                                               each operator set, once the lanes that must know them do)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/corridorkey-nuke"
lanes_dir="${CK_LANES_DIR:-$cache/lanes}"
update_ops=0
[ "${1:-}" = "--update-ops" ] && update_ops=1

source "$here/tools/env.sh" export
project_py="$CK_PY"
targets() { (cd "$here" && "$project_py" -m nuke_plugin.contract.torch_targets "$@"); }

find_python() {  # an interpreter of exactly version $1 (e.g. 3.9), from pyenv, uv or PATH
  local want="$1" candidate
  if command -v pyenv >/dev/null 2>&1; then
    for candidate in "$(pyenv root)"/versions/"$want".*/bin/python"$want"; do
      [ -x "$candidate" ] && { echo "$candidate"; return 0; }
    done
  fi
  if command -v uv >/dev/null 2>&1; then
    candidate="$(uv python find "$want" 2>/dev/null || true)"
    [ -n "$candidate" ] && { echo "$candidate"; return 0; }
  fi
  candidate="$(command -v "python$want" || true)"
  [ -n "$candidate" ] && { echo "$candidate"; return 0; }
  return 1
}

lane_pythons=()
lane_names=()
lane_keys=()
while read -r lane python_version torch_version key operators; do
  venv="$lanes_dir/$lane"
  requirements="$(targets requirements "$key" | tr '\n' ' ')"
  stamp="$venv/.ck-requirements"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$requirements" ]; then
    base="$(find_python "$python_version")" || {
      echo "[compat] $lane needs Python $python_version (the Python of $key): install it with" >&2
      echo "         'pyenv install $python_version' or 'uv python install $python_version', then run again." >&2
      exit 2
    }
    echo "[compat] creating lane $lane: Python $python_version, $requirements"
    echo "         (first run only; torch $torch_version with its CUDA libraries is 1.5-3 GB to download)"
    rm -rf "$venv"
    "$base" -m venv "$venv"
    # Wheels are kept in a folder of our own, so a lane can be rebuilt without downloading anything again.
    wheels="$cache/wheels/$lane"
    mkdir -p "$wheels"
    if ! PIP_CONFIG_FILE=/dev/null "$venv/bin/python" -m pip install -q --disable-pip-version-check --no-index \
        --find-links "$wheels" $requirements >/dev/null 2>&1; then
      PIP_CONFIG_FILE=/dev/null "$venv/bin/python" -m pip download --disable-pip-version-check --progress-bar off \
        -d "$wheels" $requirements | { grep --line-buffered -E "^(Collecting|  Downloading|Saved)" || true; } \
        | sed 's/^ */         /'
      PIP_CONFIG_FILE=/dev/null "$venv/bin/python" -m pip install -q --disable-pip-version-check --no-index \
        --find-links "$wheels" $requirements
    fi
    echo "$requirements" > "$stamp"
  fi
  lane_pythons+=("$venv/bin/python")
  lane_names+=("$lane")
  lane_keys+=("$key")
done < <(targets lanes)

work="$(mktemp -d "${TMPDIR:-/tmp}/corridorkey-compat.XXXXXX")"
trap 'rm -rf "$work"' EXIT
cd "$here"
export PYTHONPATH="$here${PYTHONPATH:+:$PYTHONPATH}"
# Old torches warn about their own internals (TypedStorage, __floordiv__) while loading and tracing: noise here.
export PYTHONWARNINGS="ignore::UserWarning,ignore::FutureWarning"

echo "[compat] 1. every lane knows every operator that exporter/lanes/portable_ops.json claims for its torch, and"
echo "         computes the portable attention exactly however it is chunked (the builds below run one chunk)"
for i in "${!lane_pythons[@]}"; do
  "${lane_pythons[$i]}" exporter/lanes/lane_check.py ops exporter/lanes/portable_ops.json | sed 's/^/         /'
  "${lane_pythons[$i]}" - <<'PY'
import torch
from exporter.scripted.attention import chunked_attention
torch.manual_seed(0)
for shape in ((1, 2, 37, 16), (1, 2, 3, 37, 16)):  # global attention; mask units
    q, k, v = (torch.randn(*shape) for _ in range(3))
    expected = torch.softmax(torch.matmul(q, k.transpose(-1, -2)) * 0.25, -1).matmul(v)
    for budget in (1 << 30, 4 * 37 * 37 * 2, 4 * 37 * 5, 1):  # whole, groups, queries, one query at a time
        error = float((chunked_attention(q, k, v, 0.25, budget) - expected).abs().max())
        assert error < 1e-5, (torch.__version__, shape, budget, error)
PY
  echo "         ${lane_names[$i]}: ok"
done

echo "[compat] 1b. the shipped self-test model (nuke_plugin/selftest_model) loads and matches its expectations"
for i in "${!lane_pythons[@]}"; do
  printf '         %s: ' "${lane_names[$i]}"
  "${lane_pythons[$i]}" -m exporter.lanes.selftest_check
done

echo "[compat] 2. the default build (project torch, no target: portable) loads and matches in every lane"
"$project_py" -m exporter.demo_checkpoint "$work/ck.pth" --resolution 128 >/dev/null
verify_all=()
for python in "${lane_pythons[@]}"; do verify_all+=(--verify-with "$python"); done
"$project_py" -m exporter --checkpoint "$work/ck.pth" --output "$work/default/CorridorKey.pt" --resolution 128 \
  --progress quiet "${verify_all[@]}"
if [ "$update_ops" = 1 ]; then
  "$project_py" -m exporter --checkpoint "$work/ck.pth" --output "$work/fused/CorridorKey.pt" --resolution 128 \
    --progress quiet --target-nuke nuke16
  "$project_py" -m exporter.lanes.portability update "portable=$work/default/CorridorKey.pt" \
    "fused=$work/fused/CorridorKey.pt" "${lane_pythons[@]}"
fi
# Prints the verified differences; exits 1 unless the manifest claims exactly the Nukes (and their torches) that
# the torch table gives a build for TARGET ("" for none), and every torch that loaded it.
check_claims() {  # MANIFEST TARGET LABEL
  "$project_py" - "$@" <<'PY'
import json, sys
from nuke_plugin.contract.torch_targets import TORCH_TARGETS_BY_KEY, nukes_for_target, release, version_tuple
manifest = json.load(open(sys.argv[1]))
claimed = [t.key for t in nukes_for_target(sys.argv[2])]
assert manifest["loads_in_nuke"] == claimed, "loads_in_nuke %s, the torch table says %s" % (
    manifest["loads_in_nuke"], claimed)
compatible = set(manifest["compatible_torch"])
needed = {TORCH_TARGETS_BY_KEY[key].torch for key in claimed} | set(manifest["validation"]["verified_torch"])
assert needed <= compatible, "compatible_torch %s lacks %s" % (sorted(compatible), sorted(needed - compatible))
others = [key for key in TORCH_TARGETS_BY_KEY if key not in claimed and TORCH_TARGETS_BY_KEY[key].supported]
wrong = [key for key in others if TORCH_TARGETS_BY_KEY[key].torch in manifest["compatible_torch"]]
assert not wrong, "compatible_torch %s claims %s" % (manifest["compatible_torch"], wrong)
figures = sorted(manifest["validation"]["verified_torch"].items(), key=lambda item: version_tuple(item[0]))
print("         %s (%s attention, made by torch %s, loads in %s): max abs difference per torch (own: vs its eager "
      "model): %s" % (sys.argv[3], manifest["operator_set"], release(manifest["torch_version"]),
                      ", ".join(claimed), ", ".join("%s %.1e" % item for item in figures)))
PY
}
check_claims "$work/default/CorridorKey.json" "" "default build"

echo "[compat] 3. each lane's own Nuke build loads and matches where it is claimed, and is refused elsewhere"
echo '[{}]' > "$work/defaults.json"
for i in "${!lane_pythons[@]}"; do
  key="${lane_keys[$i]}"
  claimed=" $(targets loads-in "$key" | tr '\n' ' ')"
  verify=(--verify-with "$project_py")
  refusing=()
  for j in "${!lane_pythons[@]}"; do
    [ "$i" = "$j" ] && continue
    case "$claimed" in
      *" ${lane_keys[$j]} "*) verify+=(--verify-with "${lane_pythons[$j]}") ;;
      *) refusing+=("$j") ;;
    esac
  done
  build="$work/${lane_names[$i]}/CorridorKey.pt"
  "${lane_pythons[$i]}" -m exporter --checkpoint "$work/ck.pth" --output "$build" --resolution 128 \
    --progress quiet --target-nuke "$key" "${verify[@]}"
  check_claims "$work/${lane_names[$i]}/CorridorKey.json" "$key" "$key build"
  for j in ${refusing[@]+"${refusing[@]}"}; do
    if refusal="$("${lane_pythons[$j]}" exporter/lanes/lane_check.py run "$build" "$work/refused.pt" \
        "$work/defaults.json" 2>&1)"; then
      echo "[compat] ${lane_names[$j]} loads the $key build, which claims only: $claimed" >&2
      exit 1
    fi
    echo "         ${lane_names[$j]} refuses the $key build, as claimed: $(echo "$refusal" | \
      grep -o -m1 "Unknown builtin op: [a-z_:]*" || echo "$refusal" | tail -n1)"
  done
done

echo "[compat] 4. the C++ Inference-node stand-in against ${lane_names[0]}'s libtorch runs ${lane_keys[0]}'s build"
"${lane_pythons[0]}" -m tools.compat.host_lane "$work/${lane_names[0]}/CorridorKey.pt"
echo "[compat] all lanes passed"
