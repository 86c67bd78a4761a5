#!/usr/bin/env bash
# One command for a GPU machine: exports CorridorKey at 2048 for Nuke 16 and for Nuke 14 with validation on the GPU,
# runs each build in Python and in the C++ Inference-node stand-in at fp32 and fp16 next to upstream's eager model,
# and prints frame time, peak VRAM, export time and the fp16 difference against the goal (2048 fp16 in at most
# 3 GiB, no slower than upstream eager). From a fresh clone it sets up .venv (tools/env.sh) and, when missing,
# CMake for the host; a C++ compiler must be there. Without CUDA it says so and exits 2.
# Usage: bash tools/gpu_check.sh [--checkpoint CK.pth] [--resolution 2048] [--out build/gpu_check]
#        bash tools/gpu_check.sh --device cpu --resolution 64 --size 96x64 --runs 1   (checks the check, no GPU)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
case " $* " in
  *" --device cpu "*|*" --device=cpu "*|*" -h "*|*" --help "*) ;;
  *) if ! command -v nvidia-smi >/dev/null 2>&1; then  # before minutes of set-up
       echo "gpu check: no NVIDIA driver here (nvidia-smi not found). Run it on a machine with a CUDA GPU;" \
         "--device cpu runs the same steps on the CPU (use a small --resolution)." >&2
       exit 2
     fi ;;
esac
source "$here/tools/env.sh" export
export PATH="$(dirname "$CK_PY"):$PATH"
if ! command -v cmake >/dev/null 2>&1; then  # the C++ host's build tool, into the environment
  "$CK_PY" -m pip install --disable-pip-version-check -q "cmake>=3.18" >&2
fi
cd "$here"
exec "$CK_PY" -m tools.gpu_check "$@"
