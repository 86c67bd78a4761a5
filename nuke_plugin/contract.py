"""Names and numbers shared by the exporter, the .cat builder and the gizmo.

Pure Python (3.9+): importable by the exporter's environment and by Nuke's own Python alike.
"""
from __future__ import annotations

MODEL_ID = "CorridorKey"
PT_NAME = MODEL_ID + ".pt"
CAT_NAME = MODEL_ID + ".cat"
MANIFEST_NAME = MODEL_ID + ".json"
GIZMO_NAME = MODEL_ID + ".gizmo"

# The TorchScript module's tensor contract: plate RGB + alpha hint in, straight sRGB fg + linear alpha out.
CHANNELS_IN = ("rgba.red", "rgba.green", "rgba.blue", "rgba.alpha")
CHANNELS_OUT = ("rgba.red", "rgba.green", "rgba.blue", "rgba.alpha")
OUTPUT_SCALE = 1

NATIVE_RESOLUTION = 2048
# Hiera needs the side to be a multiple of 32 pixels (patch stride 4 x three 2x poolings)... and of the
# 8x8-token mask units at stage one, which is the same 32 pixels.
RESOLUTION_MULTIPLE = 32

# Temporary files are named ".<final name>" + PARTIAL_MARK + random until they are complete and moved into place.
PARTIAL_MARK = ".partial-"

MANIFEST_FORMAT = "corridorkey-nuke-manifest"
MANIFEST_VERSION = 1
