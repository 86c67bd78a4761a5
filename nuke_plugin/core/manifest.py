"""Reads and checks the exporter's CorridorKey.json before anything is built from it (pure Python, no Nuke).

Why check here: CatFileCreator's own errors are terse dialogs, and a half-written or foreign folder should be
refused with a message that says which file is wrong and how to make a good one (re-run the export). Every field
is checked against the schema's type (a list given as a string, a number too large for a float, a resolution the
exporter can never write are refused like any other bad field), the file is read only if it is a regular file of
a sane size, and whatever is wrong comes out as a ManifestError, never another exception.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any, Dict, Optional, Tuple

from .. import contract
from ..contract import builds, manifest_schema
from ..contract.files import read_json, sha256_of
from ..contract.knob_spec import KnobSpec, short
from ..contract.torch_targets import nukes_loading
from .errors import ManifestError

# Foundry's channel names that CatFileCreator accepts for Channels In / Channels Out.
INFERENCE_CHANNELS = (
    "rgba.red", "rgba.green", "rgba.blue", "rgba.alpha", "depth.Z", "forward.u", "forward.v", "backward.u",
    "backward.v", "deep.front", "deep.back", "disparityL.x", "disparityL.y", "disparityR.x", "disparityR.y",
    "mask.a", "rotopaint_mask.a", "mask_planartrack.a", "mask_splinewarp.a",
)
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
RERUN = "Run the export again (CorridorKey > Build Model, or python -m exporter) to write a fresh pair."
MANIFEST_SIZE_LIMIT = 1 << 20  # an export's manifest is a few kB
MAX_OUTPUT_SCALE = 16


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
    build_id: int = 0               # contract.builds: the same for every export of one checkpoint and resolution
    built_in_nuke: str = ""         # the Nuke that built the installed .cat ("" in an export)
    remedy: str = RERUN             # what to do when the pair is wrong (the self-test's model: reinstall)
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
        try:
            actual = sha256_of(self.model_path)
        except (OSError, ValueError) as exc:
            raise ManifestError("%s cannot be read (%s). %s" % (self.model_path, exc, self.remedy))
        if actual != self.model_sha256:
            raise ManifestError("%s does not match its manifest %s (different checksum): the two files come from "
                                "different exports. %s" % (self.model_path, self.path, self.remedy))


def manifest_path_in(folder_or_file: str) -> str:
    if os.path.isdir(folder_or_file):
        return os.path.join(folder_or_file, contract.MANIFEST_NAME)
    return folder_or_file


class _Reader:
    """One manifest being read: its path, its data, and what to tell the user when a field is wrong."""

    def __init__(self, path: str, data: Dict[str, Any], remedy: str) -> None:
        self.path = path
        self.data = data
        self.remedy = remedy

    def fail(self, problem: str) -> ManifestError:
        return ManifestError("%s: %s. %s" % (self.path, problem, self.remedy))

    def _typed(self, key: str, value: Any) -> Any:
        field = manifest_schema.FIELDS_BY_KEY[key]
        if not manifest_schema.type_matches(field, value):
            raise self.fail("%r should be %s, found %s" % (key, field.kind.__name__, short(value)))
        return value

    def require(self, key: str) -> Any:
        """A required schema field, of the schema's type."""
        if key not in self.data:
            raise self.fail("no %r entry" % key)
        return self._typed(key, self.data[key])

    def optional(self, key: str, default: Any) -> Any:
        """An informative schema field, of the schema's type: its value, or `default` when it is absent."""
        if key not in self.data:
            return default
        return self._typed(key, self.data[key])

    def text_list(self, key: str) -> Tuple[str, ...]:
        """An optional list of text (each entry text: a string is not split into its characters)."""
        values = self.optional(key, [])
        if not all(isinstance(v, str) for v in values):
            raise self.fail("%r should list text, found %s" % (key, short(values)))
        return tuple(values)

    def channels(self, key: str) -> Tuple[str, ...]:
        names = self.require(key)
        unknown = [c for c in names if not isinstance(c, str) or c not in INFERENCE_CHANNELS]
        if not names or unknown:
            raise self.fail("%s must list Nuke channel names (%s); got %s"
                            % (key, ", ".join(INFERENCE_CHANNELS[:4]) + ", ...", short(names)))
        return tuple(names)

    def knobs(self) -> Tuple[KnobSpec, ...]:
        entries = self.require("knobs")
        if not entries:
            raise self.fail("'knobs' is empty; a CorridorKey export always lists its knobs")
        knobs = []
        for entry in entries:
            try:
                knob = KnobSpec.from_manifest(entry)
            except ValueError as exc:
                raise self.fail(str(exc))
            if not _IDENTIFIER.match(knob.name):
                raise self.fail("knob name %s is not a valid attribute name" % short(knob.name))
            knobs.append(knob)
        names = [k.name for k in knobs]
        if len(set(names)) != len(names):
            raise self.fail("a knob is listed twice (%s)" % ", ".join(names))
        return tuple(knobs)


def read_manifest(folder_or_file: str, remedy: str = RERUN, require_model: bool = True) -> ModelManifest:
    """Loads the manifest from an export folder (or its path) and checks every field the build uses.

    `remedy` ends every message (the shipped self-test model's reader says to reinstall the plugin instead).
    require_model=False reads an installed build's copy, which has its .cat beside it instead of the .pt."""
    try:
        path = os.path.abspath(manifest_path_in(folder_or_file))
    except ValueError as exc:  # a NUL in the path
        raise ManifestError("%r is not a usable path (%s)." % (folder_or_file, exc))
    if not os.path.isfile(path):
        raise ManifestError("No %s in %s. Choose the folder the export wrote (it holds %s and %s), or run the "
                            "export first." % (contract.MANIFEST_NAME, os.path.dirname(path), contract.PT_NAME,
                                               contract.MANIFEST_NAME)
                            if remedy == RERUN else "%s is missing. %s" % (path, remedy))
    try:
        data = read_json(path, MANIFEST_SIZE_LIMIT)
    except (OSError, ValueError) as exc:
        raise ManifestError("%s cannot be read as JSON (%s). %s" % (path, exc, remedy))
    if not isinstance(data, dict) or data.get("format") != manifest_schema.FORMAT:
        raise ManifestError("%s is not a CorridorKey export manifest (no \"format\": %r). %s"
                            % (path, manifest_schema.FORMAT, remedy))
    reader = _Reader(path, data, remedy)
    version = reader.require("format_version")
    if version > manifest_schema.FORMAT_VERSION:
        raise ManifestError("%s was written by a newer exporter (manifest version %d; this plugin reads up to %d). "
                            "Update the CorridorKey plugin." % (path, version, manifest_schema.FORMAT_VERSION))
    model_file = reader.require("model_file")
    if os.path.basename(model_file) != model_file or not model_file.endswith(".pt") or "\0" in model_file:
        raise reader.fail("model_file must be a .pt file name beside the manifest, got %s" % short(model_file))
    model_path = os.path.join(os.path.dirname(path), model_file)
    if require_model and not os.path.isfile(model_path):
        raise ManifestError("%s names %s, which is missing from %s. %s"
                            % (os.path.basename(path), model_file, os.path.dirname(path), remedy))
    model_id = reader.require("model_id")
    if not model_id.strip():
        raise reader.fail("model_id is empty")
    resolution = reader.require("resolution")
    problem = contract.resolution_problem(resolution)
    if problem:
        raise reader.fail("the exporter never writes a model of that size: " + problem)
    scale = reader.require("output_scale")
    if not 1 <= scale <= MAX_OUTPUT_SCALE:
        raise reader.fail("output_scale must be from 1 to %d, got %s" % (MAX_OUTPUT_SCALE, short(scale)))
    knobs = reader.knobs()
    model_sha256 = reader.optional("model_sha256", "")
    build = reader.optional("build_id", None)
    if build is None:  # an export made before build IDs: the same rule, from the fields it has
        source = reader.optional("checkpoint_sha256", "") or model_sha256 or os.path.basename(model_path)
        build = builds.build_id(model_id, source, resolution, [k.name for k in knobs])
    elif not builds.is_build_id(build):
        raise reader.fail("build_id must be a %d-digit number, got %s" % (builds.BUILD_ID_DIGITS, short(build)))
    return ModelManifest(
        path=path,
        model_path=model_path,
        model_id=model_id,
        resolution=resolution,
        channels_in=reader.channels("channels_in"),
        channels_out=reader.channels("channels_out"),
        output_scale=scale,
        knobs=knobs,
        model_sha256=model_sha256,
        torch_version=reader.optional("torch_version", "unknown"),
        compatible_torch=reader.text_list("compatible_torch"),
        created_utc=reader.optional("created_utc", ""),
        build_id=build,
        built_in_nuke=reader.optional("built_in_nuke", ""),
        remedy=remedy,
        target_nuke=reader.optional("target_nuke", ""),
        loads_in_nuke=_loads_in_nuke(reader),
    )


def _loads_in_nuke(reader: "_Reader") -> Optional[Tuple[str, ...]]:
    """The manifest's list of Nukes; for a build from before that field, its compatible torches' Nukes; None
    when it names neither."""
    if "loads_in_nuke" in reader.data:
        return reader.text_list("loads_in_nuke")
    if "compatible_torch" in reader.data:
        return tuple(target.key for target in nukes_loading(reader.text_list("compatible_torch")))
    return None
