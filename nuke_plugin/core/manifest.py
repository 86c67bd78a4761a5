"""Reads and checks the exporter's CorridorKey.json before anything is built from it (pure Python, no Nuke).

Why check here: CatFileCreator's own errors are terse dialogs, and a half-written or foreign folder should be
refused with a message that says which file is wrong and how to make a good one (re-run the export).
"""
from __future__ import annotations

import json
import math
import os
import re
from dataclasses import dataclass
from typing import Any, Dict, Optional, Tuple

from .. import contract
from ..contract import knob_spec
from ..contract import manifest as schema
from ..contract.files import sha256_of
from ..contract.knob_spec import KnobSpec
from ..contract.torch_targets import nukes_loading
from .errors import ManifestError

# Foundry's channel names that CatFileCreator accepts for Channels In / Channels Out.
INFERENCE_CHANNELS = (
    "rgba.red", "rgba.green", "rgba.blue", "rgba.alpha", "depth.Z", "forward.u", "forward.v", "backward.u",
    "backward.v", "deep.front", "deep.back", "disparityL.x", "disparityL.y", "disparityR.x", "disparityR.y",
    "mask.a", "rotopaint_mask.a", "mask_planartrack.a", "mask_splinewarp.a",
)
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_RERUN = "Run the export again (CorridorKey > Build Model, or python -m exporter) to write a fresh pair."


@dataclass(frozen=True)
class ModelManifest:
    """What the .cat builder and the gizmo need from an export."""

    path: str                       # the manifest file
    model_path: str                 # the .pt beside it
    model_id: str
    resolution: int
    channels_in: Tuple[str, ...]
    channels_out: Tuple[str, ...]
    output_scale: int
    knobs: Tuple[KnobSpec, ...]
    model_sha256: str
    torch_version: str
    compatible_torch: Tuple[str, ...]  # the torch releases (so the Nuke releases) the .pt loads in
    created_utc: str
    target_nuke: str = ""              # the torch-table key the build was made for ("" for none)
    # torch-table keys of the Nukes the .pt loads in; None when the manifest does not say (an early build)
    loads_in_nuke: Optional[Tuple[str, ...]] = None

    @property
    def directory(self) -> str:
        return os.path.dirname(self.path)

    def verify_model_file(self) -> None:
        """Refuses a .pt that is not the one the manifest describes (e.g. a crash between the two writes)."""
        if not self.model_sha256:
            return
        if sha256_of(self.model_path) != self.model_sha256:
            raise ManifestError("%s does not match its manifest %s (different checksum): the two files come from "
                                "different exports. %s" % (self.model_path, self.path, _RERUN))


def manifest_path_in(folder_or_file: str) -> str:
    if os.path.isdir(folder_or_file):
        return os.path.join(folder_or_file, contract.MANIFEST_NAME)
    return folder_or_file


def _require(data: Dict[str, Any], key: str, path: str) -> Any:
    """A required schema field, of the schema's type."""
    field = schema.FIELDS_BY_KEY[key]
    kind = field.kind
    if key not in data:
        raise ManifestError("%s has no %r entry. %s" % (path, key, _RERUN))
    value = data[key]
    if not schema.type_matches(field, value):
        raise ManifestError("%s: %r should be %s, found %r. %s"
                            % (path, key, kind.__name__, value, _RERUN))
    return value


def _optional(data: Dict[str, Any], key: str, default: Any) -> Any:
    """An informative schema field: its value, or `default` when it is absent."""
    return data.get(schema.FIELDS_BY_KEY[key].key, default)


def _channels(data: Dict[str, Any], key: str, path: str) -> Tuple[str, ...]:
    names = _require(data, key, path)
    unknown = [c for c in names if c not in INFERENCE_CHANNELS]
    if not names or unknown:
        raise ManifestError("%s: %s must list Nuke channel names (%s); got %r. %s"
                            % (path, key, ", ".join(INFERENCE_CHANNELS[:4]) + ", ...", names, _RERUN))
    return tuple(names)


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _knob_problem(entry: Any) -> Optional[str]:
    """What is wrong with one knob entry's values, naming the field; None when it can become a KnobSpec.

    CatFileCreator and the gizmo would take a NaN default, a string of letters as enumeration items or an
    upside-down range and build a node that misbehaves; the manifest is where such a value is wrong."""
    if not isinstance(entry, dict):
        return "a knob entry should be an object, found %r" % (entry,)
    name = entry.get("name", "?")
    kind = entry.get("kind")
    if kind not in knob_spec.KINDS:
        return "knob %s: 'kind' should be one of %s, found %r" % (name, ", ".join(knob_spec.KINDS), kind)
    if kind == knob_spec.ENUM:
        items = entry.get("items")
        if not isinstance(items, list) or not items or not all(isinstance(i, str) and i for i in items):
            return "knob %s: 'items' should be a list of choice names, found %r" % (name, items)
    if kind in knob_spec.RANGED:
        for key in ("min", "max"):
            if not _number(entry.get(key)):
                return "knob %s: %r should be a finite number, found %r" % (name, key, entry.get(key))
        if entry["min"] > entry["max"]:
            return "knob %s: 'min' (%g) is above 'max' (%g)" % (name, entry["min"], entry["max"])
    default: Any = entry.get("default")
    if not _number(default) or (kind != knob_spec.FLOAT and default != int(default)):
        return "knob %s: 'default' should be a finite %s, found %r" % (
            name, "number" if kind == knob_spec.FLOAT else "whole number", default)
    if kind in knob_spec.RANGED:
        low, high = entry["min"], entry["max"]
    else:
        low, high = 0, (1 if kind == knob_spec.BOOL else len(entry.get("items") or ()) - 1)
    if not low <= default <= high:
        return "knob %s: 'default' %g is outside %g-%g" % (name, default, low, high)
    return None


def _knobs(data: Dict[str, Any], path: str) -> Tuple[KnobSpec, ...]:
    entries = _require(data, "knobs", path)
    if not entries:
        raise ManifestError("%s: 'knobs' is empty; a CorridorKey export always lists its knobs. %s" % (path, _RERUN))
    knobs = []
    for entry in entries:
        problem = _knob_problem(entry)
        if problem:
            raise ManifestError("%s: %s. %s" % (path, problem, _RERUN))
        try:
            knob = KnobSpec.from_manifest(entry)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ManifestError("%s: a knob entry is malformed (%s: %s). %s" % (path, type(exc).__name__, exc, _RERUN))
        if not _IDENTIFIER.match(knob.name):
            raise ManifestError("%s: knob name %r is not a valid attribute name. %s" % (path, knob.name, _RERUN))
        if entry.get("type", knob.torch_type) != knob.torch_type:
            raise ManifestError("%s: knob %s says type %r but a %s knob drives a %s attribute. %s"
                                % (path, knob.name, entry.get("type"), knob.kind, knob.torch_type, _RERUN))
        knobs.append(knob)
    names = [k.name for k in knobs]
    if len(set(names)) != len(names):
        raise ManifestError("%s: a knob is listed twice (%s). %s" % (path, ", ".join(names), _RERUN))
    return tuple(knobs)


def read_manifest(folder_or_file: str) -> ModelManifest:
    """Loads the manifest from an export folder (or its path) and checks every field the build uses."""
    path = os.path.abspath(manifest_path_in(folder_or_file))
    if not os.path.isfile(path):
        raise ManifestError("No %s in %s. Choose the folder the export wrote (it holds %s and %s), or run the "
                            "export first." % (contract.MANIFEST_NAME, os.path.dirname(path), contract.PT_NAME,
                                               contract.MANIFEST_NAME))
    try:
        with open(path, "r", encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError) as exc:
        raise ManifestError("%s cannot be read as JSON (%s). %s" % (path, exc, _RERUN))
    if not isinstance(data, dict) or data.get("format") != schema.FORMAT:
        raise ManifestError("%s is not a CorridorKey export manifest (no \"format\": %r). %s"
                            % (path, schema.FORMAT, _RERUN))
    version = _require(data, "format_version", path)
    if version > schema.FORMAT_VERSION:
        raise ManifestError("%s was written by a newer exporter (manifest version %d; this plugin reads up to %d). "
                            "Update the CorridorKey plugin." % (path, version, schema.FORMAT_VERSION))
    model_file = _require(data, "model_file", path)
    if os.path.basename(model_file) != model_file or not model_file.endswith(".pt"):
        raise ManifestError("%s: model_file must be a .pt file name beside the manifest, got %r. %s"
                            % (path, model_file, _RERUN))
    model_path = os.path.join(os.path.dirname(path), model_file)
    if not os.path.isfile(model_path):
        raise ManifestError("%s names %s, which is missing from %s. %s"
                            % (os.path.basename(path), model_file, os.path.dirname(path), _RERUN))
    model_id = _require(data, "model_id", path)
    if not model_id.strip():
        raise ManifestError("%s: model_id is empty. %s" % (path, _RERUN))
    scale = _require(data, "output_scale", path)
    if scale < 1:
        raise ManifestError("%s: output_scale must be 1 or more, got %d. %s" % (path, scale, _RERUN))
    compatible = tuple(str(v) for v in _optional(data, "compatible_torch", None) or () if isinstance(v, str))
    return ModelManifest(
        path=path,
        model_path=model_path,
        model_id=model_id,
        resolution=_require(data, "resolution", path),
        channels_in=_channels(data, "channels_in", path),
        channels_out=_channels(data, "channels_out", path),
        output_scale=scale,
        knobs=_knobs(data, path),
        model_sha256=str(_optional(data, "model_sha256", "")),
        torch_version=str(_optional(data, "torch_version", "unknown")),
        compatible_torch=compatible,
        created_utc=str(_optional(data, "created_utc", "")),
        target_nuke=str(_optional(data, "target_nuke", "")),
        loads_in_nuke=_loads_in_nuke(data, compatible),
    )


def _loads_in_nuke(data: Dict[str, Any], compatible: Tuple[str, ...]) -> Optional[Tuple[str, ...]]:
    """The manifest's list of Nukes; for a build from before that field, its compatible torches' Nukes; None
    when it names neither."""
    listed = _optional(data, "loads_in_nuke", None)
    if isinstance(listed, list):
        return tuple(str(key) for key in listed if isinstance(key, str))
    if isinstance(_optional(data, "compatible_torch", None), list):
        return tuple(target.key for target in nukes_loading(compatible))
    return None
