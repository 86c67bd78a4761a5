#!/usr/bin/env bash
# Exports a CorridorKey checkpoint to Nuke-ready TorchScript, creating the export environment on first use.
# Usage: bash tools/export.sh --checkpoint CorridorKey.pth --output build/CorridorKey.pt [--resolution 2048]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$here/tools/env.sh" "export"
cd "$here"
exec "$CK_PY" -m exporter "$@"
