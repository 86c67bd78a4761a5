"""The contract between the exporter (torch environment) and the Nuke side (Nuke's Python): names, channels and
resolution rules here; the knob spec, the manifest schema, exit codes, progress events, partial files, torch
targets and the atomic write in the sub-modules.

Imports only the standard library and itself, runs on Python 3.9+: both processes import it, and it is the only
part of nuke_plugin the exporter imports.
"""
from __future__ import annotations

from typing import Optional

VERSION = "0.1.0"  # the plugin's one version string (pyproject.toml reads it from here)
# Where things come from, for the dialogs and the docs: the upstream project and its released weights.
UPSTREAM_URL = "https://github.com/nikopueringer/CorridorKey"
WEIGHTS_REPO = "nikopueringer/CorridorKey_v1.0"
WEIGHTS_URL = "https://huggingface.co/" + WEIGHTS_REPO
WEIGHTS_FILE = "CorridorKey_v1.0.pth"
# The packages the export environment must import (pyproject.toml's extra "export" lists them: a test keeps them
# together); the Nuke side asks a candidate Python for each, the exporter names the one that is missing.
EXPORT_PACKAGES = ("torch", "torchvision", "timm", "numpy")

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
MIN_RESOLUTION = 64  # the exporter's floor; tiny sizes are for tests and quick checks
MAX_RESOLUTION = 4096  # what the Nuke side offers (settings, environment variables)


def resolution_problem(value: int) -> Optional[str]:
    """Why the Nuke side cannot use a model resolution, or None. Other sizes than the offered three are allowed."""
    if value < MIN_RESOLUTION or value > MAX_RESOLUTION:
        return "resolution %d is outside %d-%d" % (value, MIN_RESOLUTION, MAX_RESOLUTION)
    if value % RESOLUTION_MULTIPLE:
        return "resolution %d is not a multiple of %d (Hiera's patch grid)" % (value, RESOLUTION_MULTIPLE)
    return None
