"""Drives Nuke's CatFileCreator to turn the exported TorchScript file into a .cat (the thin layer on `nuke`).

What it does, all on Nuke's main thread: create a CatFileCreator at the root of the script, fill in the
TorchScript file, the .cat path, channels, model id and output scale from the manifest, add one custom knob
per manifest knob (float -> Double_Knob and int -> Int_Knob with their ranges, bool -> Boolean_Knob, enum ->
Enumeration_Knob with its items; name = the module attribute, default = the knob's default), press
createCatFile, and delete every node it made (the creator and the Inference node Nuke adds) whatever happens.

The .cat is written to a fresh temporary name, so CatFileCreator never meets an existing file (and never
opens its own overwrite prompt); the caller moves it into place after asking the user.
"""
from __future__ import annotations

import os
from typing import Any, Dict

from ..contract.knob_spec import BOOL, FLOAT, INT, KnobSpec
from ..core.errors import CatBuildError, EditionError
from ..core.manifest import ModelManifest
from .edition import EDITION_MESSAGE, cat_files_supported
from .session import delete_nodes_made_since, root_node_names


def nuke_path(path: str) -> str:
    """Nuke's file knobs want forward slashes on every OS (a backslash is a Tcl escape)."""
    return os.path.abspath(path).replace(os.sep, "/")


def make_knob(nuke: Any, spec: KnobSpec) -> Any:
    """The CatFileCreator custom knob for one model attribute."""
    if spec.kind == FLOAT:
        knob = nuke.Double_Knob(spec.name, spec.label)
        knob.setRange(spec.low, spec.high)
        knob.setValue(float(spec.default))
    elif spec.kind == INT:
        knob = nuke.Int_Knob(spec.name, spec.label)
        knob.setRange(spec.low, spec.high)
        knob.setValue(int(spec.default))
    elif spec.kind == BOOL:
        knob = nuke.Boolean_Knob(spec.name, spec.label)
        knob.setValue(bool(spec.default))
    else:
        knob = nuke.Enumeration_Knob(spec.name, spec.label, list(spec.items))
        knob.setValue(int(spec.default))
    knob.setTooltip(spec.tooltip)
    return knob


def build_cat(manifest: ModelManifest, cat_path: str) -> str:
    """Runs CatFileCreator for `manifest` into `cat_path` (which must not exist); returns cat_path."""
    import nuke

    if not cat_files_supported():
        raise EditionError(EDITION_MESSAGE)
    if os.path.exists(cat_path):
        raise CatBuildError("Internal error: %s exists already; the .cat must be built under a fresh name." % cat_path)
    before = root_node_names(nuke)
    settings: Dict[str, Any] = {
        "torchScriptFile": nuke_path(manifest.model_path),
        "catFile": nuke_path(cat_path),
        "channelsIn": ",".join(manifest.channels_in),
        "channelsOut": ",".join(manifest.channels_out),
        "modelId": manifest.model_id,
    }
    try:
        with nuke.root():
            creator = nuke.nodes.CatFileCreator()
            for name, value in settings.items():
                creator[name].setValue(value)
            creator["outputScale"].setValue(int(manifest.output_scale))
            for spec in manifest.knobs:
                creator.addKnob(make_knob(nuke, spec))
            creator["createCatFile"].execute()
    except EditionError:
        raise
    except Exception as exc:  # whatever Nuke raises, the user needs its words
        raise CatBuildError("CatFileCreator could not build the .cat from %s:\n%s\nCheck that the export finished "
                            "and that it loads in this Nuke's torch (the manifest says it was made by torch %s and "
                            "loads in torch %s)." % (manifest.model_path, exc, manifest.torch_version,
                                                     ", ".join(manifest.compatible_torch) or "unknown"))
    finally:
        delete_nodes_made_since(nuke, before)
    if not os.path.isfile(cat_path) or os.path.getsize(cat_path) == 0:
        raise CatBuildError("CatFileCreator wrote no .cat at %s. Its reason is in Nuke's Script Editor or terminal; "
                            "a model exported with a newer torch than this Nuke's is the usual cause (the manifest "
                            "says torch %s)." % (cat_path, manifest.torch_version))
    return cat_path
