"""The manifest written beside the .pt: everything the Nuke side needs to build the .cat and the gizmo."""
from __future__ import annotations

import datetime
import os
from typing import Any, Dict, Optional

import timm
import torch

from nuke_plugin import contract
from nuke_plugin.knob_spec import KNOBS

EXPORTER_VERSION = "0.1.0"


def build_manifest(pt_path: str, resolution: int, checkpoint_path: str, checkpoint_sha256: str,
                   pt_sha256: str, validation: Optional[Dict[str, Any]] = None,
                   target_nuke: str = "") -> Dict[str, Any]:
    return {
        "format": contract.MANIFEST_FORMAT,
        "format_version": contract.MANIFEST_VERSION,
        "model_id": contract.MODEL_ID,
        "model_file": os.path.basename(pt_path),
        "model_sha256": pt_sha256,
        "resolution": int(resolution),
        "channels_in": list(contract.CHANNELS_IN),
        "channels_out": list(contract.CHANNELS_OUT),
        "output_scale": contract.OUTPUT_SCALE,
        "knobs": [k.to_manifest() for k in KNOBS],
        "torch_version": torch.__version__,
        "timm_version": timm.__version__,
        # The Nuke the artist built for (free text from the Nuke side); torch_version is what really ran.
        "target_nuke": target_nuke,
        "checkpoint_name": os.path.basename(checkpoint_path),
        "checkpoint_sha256": checkpoint_sha256,
        "created_utc": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "exporter_version": EXPORTER_VERSION,
        "validation": validation or {},
    }
