"""The manifest schema: CorridorKey.json, written beside the .pt by the exporter and read by the Nuke side.

One definition for both: the exporter passes its record through `complete` (every key here, nothing else, each of
its type), and the reader (nuke_plugin.core.manifest) looks each key it uses up in FIELDS. A key is added or
renamed here and nowhere else; the knob entries are KnobSpec.to_manifest / from_manifest.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Dict, Mapping, Tuple

FORMAT = "corridorkey-nuke-manifest"
FORMAT_VERSION = 1


@dataclass(frozen=True)
class Field:
    key: str
    kind: type
    required: bool  # the reader refuses a manifest without it; the others are informative
    doc: str


FIELDS: Tuple[Field, ...] = (
    Field("format", str, True, "always %r" % FORMAT),
    Field("format_version", int, True, "schema version; a reader refuses a newer one"),
    Field("model_id", str, True, "CatFileCreator's model id"),
    Field("model_file", str, True, "the .pt's file name, beside the manifest"),
    Field("model_sha256", str, False, "sha256 of the .pt: tells a .pt from another export"),
    Field("resolution", int, True, "the square size the network runs at"),
    Field("channels_in", list, True, "Nuke channel names the Inference node feeds in"),
    Field("channels_out", list, True, "Nuke channel names it writes"),
    Field("output_scale", int, True, "CatFileCreator's output scale"),
    Field("knobs", list, True, "the model's knobs (KnobSpec.to_manifest entries)"),
    Field("torch_version", str, False, "the torch that wrote the .pt"),
    Field("torchscript_file_version", int, False, "the TorchScript archive's format version (-1: unknown)"),
    Field("timm_version", str, False, "the timm that built the encoder"),
    Field("compatible_torch", list, False, "torch releases (so Nuke releases) whose operators this file uses only"),
    Field("verified_torch", list, False, "torch releases that loaded and ran this very file"),
    Field("target_nuke", str, False, "the Nuke the build is for: a torch-table key (nuke16), empty for none"),
    Field("operator_set", str, False, "the attention's operator set (fused or portable; torch_targets)"),
    Field("loads_in_nuke", list, False, "torch-table keys of the Nukes the .pt loads in (from compatible_torch)"),
    Field("build_id", int, False, "the build's identity: checkpoint, resolution and knobs (contract.builds)"),
    Field("built_in_nuke", str, False, "the Nuke that built the .cat from this .pt: empty in an export, set by "
          "the install (a .cat loads in that Nuke and newer ones)"),
    Field("checkpoint_name", str, False, "the checkpoint's file name"),
    Field("checkpoint_sha256", str, False, "the checkpoint's sha256"),
    Field("created_utc", str, False, "when the export finished, ISO 8601 UTC"),
    Field("exporter_version", str, False, "the plugin version that exported it"),
    Field("validation", dict, False, "the export's validation figures"),
)
FIELDS_BY_KEY: Dict[str, Field] = {f.key: f for f in FIELDS}
KEYS = tuple(f.key for f in FIELDS)


def type_matches(field: Field, value: Any) -> bool:
    """JSON types as the schema means them: a bool is not an int."""
    return not isinstance(value, bool) and isinstance(value, field.kind)


def complete(record: Mapping[str, Any]) -> Dict[str, Any]:
    """The writer's check: `record` has every schema key and no other, each of its type. Returns it in schema order.

    Raises ValueError (a bug in the writer, never the user's doing)."""
    missing = [k for k in KEYS if k not in record]
    extra = sorted(k for k in record if k not in FIELDS_BY_KEY)
    wrong = [k for k in KEYS if k in record and not type_matches(FIELDS_BY_KEY[k], record[k])]
    if missing or extra or wrong:
        raise ValueError("manifest record does not follow the schema: missing %s, unknown %s, wrong type %s"
                         % (missing or "none", extra or "none", wrong or "none"))
    return {k: record[k] for k in KEYS}


def path_for(pt_path: str) -> str:
    """The manifest that belongs to a .pt: the same name with .json (CorridorKey.pt -> CorridorKey.json)."""
    return os.path.splitext(pt_path)[0] + ".json"
