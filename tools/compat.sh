#!/usr/bin/env bash
# Compatibility lanes: proves that builds load and run in the torch inside every supported Nuke.
#
# For each Nuke release in nuke_plugin/contract/torch_targets.py it keeps a venv of that Nuke's Python with that Nuke's
# torch (a faithful stand-in for its libtorch), then:
#   1. checks that each lane knows every operator listed in exporter/portable_ops.json, and loads the shipped
#      self-test model and matches its stored expectations;
#   2. exports a random-weight checkpoint with the project's own environment (the default build) and has every
#      lane load it, set every knob and match this torch's output (max abs <= 1e-5);
#   3. exports with each lane's torch and has the other lanes and the project's torch load that;
#   4. runs the default build through the C++ Inference-node stand-in built against Nuke 16/17's libtorch.
#
# Lanes live in ${CK_LANES_DIR:-~/.cache/corridorkey-nuke/lanes} and their wheels in ~/.cache/corridorkey-nuke/wheels,
# so a second run downloads nothing. First run: about 6.6 GB of downloads (CUDA builds of torch: PyPI has no
# CPU-only Linux wheels of these releases). Pythons come from pyenv, uv or PATH (python3.9, 3.10, 3.11).
# Usage: bash tools/compat.sh [--update-ops]   (--update-ops rewrites portable_ops.json after the lanes agree)
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
while read -r lane python_version torch_version key; do
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
done < <(targets lanes)

work="$(mktemp -d "${TMPDIR:-/tmp}/corridorkey-compat.XXXXXX")"
trap 'rm -rf "$work"' EXIT
cd "$here"
export PYTHONPATH="$here${PYTHONPATH:+:$PYTHONPATH}"
# Old torches warn about their own internals (TypedStorage, __floordiv__) while loading and tracing: noise here.
export PYTHONWARNINGS="ignore::UserWarning,ignore::FutureWarning"

echo "[compat] 1. every lane knows every operator of exporter/portable_ops.json"
for i in "${!lane_pythons[@]}"; do
  "${lane_pythons[$i]}" exporter/lane_check.py ops exporter/portable_ops.json
  echo "         ${lane_names[$i]}: ok"
done

echo "[compat] 1b. the shipped self-test model (nuke_plugin/selftest_model) loads and matches its expectations"
for i in "${!lane_pythons[@]}"; do
  printf '         %s: ' "${lane_names[$i]}"
  "${lane_pythons[$i]}" -m exporter.selftest_check
done

echo "[compat] 2. the default build (project torch) loads and matches in every lane"
"$project_py" -m exporter.demo_checkpoint "$work/ck.pth" --resolution 128 >/dev/null
verify_all=()
for python in "${lane_pythons[@]}"; do verify_all+=(--verify-with "$python"); done
"$project_py" -m exporter --checkpoint "$work/ck.pth" --output "$work/default/CorridorKey.pt" --resolution 128 \
  --progress quiet "${verify_all[@]}"
if [ "$update_ops" = 1 ]; then
  "$project_py" -m exporter.portability update "$work/default/CorridorKey.pt" "${lane_pythons[@]}"
fi
"$project_py" - "$work/default/CorridorKey.json" "${lane_names[@]}" <<'PY'
import json, sys
manifest = json.load(open(sys.argv[1]))
lanes = [name.split("-", 1)[1] for name in sys.argv[2:]]
for field in ("compatible_torch", "verified_torch"):
    missing = [v for v in lanes if v not in manifest[field]]
    assert not missing, "%s lacks %s: %s" % (field, missing, manifest[field])
figures = manifest["validation"]["verified_torch"]
def by_version(item):
    return [int(part) for part in item[0].split(".")]
print("         made by torch %s; max abs difference per torch (own: vs its eager model): %s" % (
    manifest["torch_version"], ", ".join("%s %.1e" % item for item in sorted(figures.items(), key=by_version))))
PY

echo "[compat] 3. each lane's own export loads and matches in the other lanes and in the project's torch"
for i in "${!lane_pythons[@]}"; do
  others=(--verify-with "$project_py")
  for j in "${!lane_pythons[@]}"; do [ "$i" != "$j" ] && others+=(--verify-with "${lane_pythons[$j]}"); done
  "${lane_pythons[$i]}" -m exporter --checkpoint "$work/ck.pth" --output "$work/${lane_names[$i]}/CorridorKey.pt" \
    --resolution 128 --progress quiet "${others[@]}"
  "$project_py" -c "import json,sys; m=json.load(open(sys.argv[1])); print('         %s export: %s' % (sys.argv[2],
    ', '.join('%s %.1e' % kv for kv in sorted(m['validation']['verified_torch'].items(),
                                               key=lambda kv: [int(p) for p in kv[0].split('.')]))))" \
    "$work/${lane_names[$i]}/CorridorKey.json" "${lane_names[$i]}"
done

echo "[compat] 4. the C++ Inference-node stand-in against ${lane_names[0]}'s libtorch runs the default build"
"${lane_pythons[0]}" -m tools.compat.host_lane "$work/default/CorridorKey.pt"
echo "[compat] all lanes passed"
