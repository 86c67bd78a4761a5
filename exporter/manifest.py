"""The manifest written beside the .pt: everything the Nuke side needs to build the .cat and the gizmo."""
from __future__ import annotations

import datetime
import os
import zipfile
from typing import Any, Dict, Optional, Sequence

import timm
import torch

from nuke_plugin import contract
from nuke_plugin.contract import builds, manifest_schema
from nuke_plugin.contract.knob_spec import KNOBS
from nuke_plugin.contract.torch_targets import nukes_loading

EXPORTER_VERSION = contract.VERSION


def torchscript_file_version(pt_path: str) -> int:
    """The file-format version torch wrote into the archive: an older libtorch (an older Nuke) refuses a file
    whose version it does not know, so a TD comparing builds wants to see it. -1 if it cannot be read."""
    try:
        with zipfile.ZipFile(pt_path) as archive:
            for name in archive.namelist():
                if name.endswith("/version") and name.count("/") <= 2:
                    return int(archive.read(name).decode("ascii").strip())
    except (OSError, ValueError, zipfile.BadZipFile):
        pass
    return -1


def build_manifest(*, pt_path: str, resolution: int, checkpoint_path: str, checkpoint_sha256: str,
                   pt_sha256: str, file_version: int, validation: Optional[Dict[str, Any]] = None,
                   target_nuke: str = "", operator_set: str = "", compatible_torch: Sequence[str] = (),
                   verified_torch: Sequence[str] = ()) -> Dict[str, Any]:
    return manifest_schema.complete({
        "format": manifest_schema.FORMAT,
        "format_version": manifest_schema.FORMAT_VERSION,
        "model_id": contract.MODEL_ID,
        "model_file": os.path.basename(pt_path),
        "model_sha256": pt_sha256,
        "resolution": int(resolution),
        "channels_in": list(contract.CHANNELS_IN),
        "channels_out": list(contract.CHANNELS_OUT),
        "output_scale": contract.OUTPUT_SCALE,
        "knobs": [k.to_manifest() for k in KNOBS],
        "torch_version": torch.__version__,
        "torchscript_file_version": file_version,
        "timm_version": timm.__version__,
        # The torch releases (so the Nuke releases) this file loads in: every operator it uses is proven to
        # exist there (exporter/lanes/portable_ops.json), and those in verified_torch loaded and ran this very file.
        "compatible_torch": list(compatible_torch),
        "verified_torch": list(verified_torch),
        # The Nuke the build is for (a torch-table key, "" for none) and the attention's operator set it chose; the
        # Nukes it loads in are those whose embedded torch is compatible (the Nuke side refuses to install it
        # into any other).
        "target_nuke": target_nuke,
        "operator_set": operator_set,
        "loads_in_nuke": [target.key for target in nukes_loading(compatible_torch)],
        # The same for every export of this checkpoint at this resolution: what a script was keyed with.
        "build_id": builds.build_id(contract.MODEL_ID, checkpoint_sha256, resolution, [k.name for k in KNOBS]),
        "built_in_nuke": "",  # the install fills it in: the Nuke whose CatFileCreator made the .cat
        "checkpoint_name": os.path.basename(checkpoint_path),
        "checkpoint_sha256": checkpoint_sha256,
        "created_utc": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "exporter_version": EXPORTER_VERSION,
        "validation": validation or {},
    })
