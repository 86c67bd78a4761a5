"""What the fake's CatFileCreator checks when `createCatFile` runs, and how its Inference node finds a .cat.

The checks are those the real node makes (Foundry's ".cat File Creation Reference"): the TorchScript file
exists and loads; Channels In/Out are names from Nuke's list of 19; the model id is set; every custom knob is
of a supported kind, its name is an attribute of the loaded module, the attribute's type matches the knob
(Double_Knob -> float, Int_Knob / Enumeration_Knob / Boolean_Knob -> int, XY_Knob / XYZ_Knob -> Tensor) and it
can be set (a TorchScript constant cannot); an existing .cat is not overwritten without asking. Then it writes a
.cat and creates an Inference node that reads it, as the real one does.

The .cat the fake writes is not Foundry's format (nobody outside Foundry can write that): it is a JSON record
of everything the real .cat would carry, readable with `read_fake_cat`, so tests can check what went in.
"""
from __future__ import annotations

import hashlib
import json
import os
from typing import Any, Dict, List, Optional

from . import knobs as K
from . import torchscript

# Foundry's list of channel names usable in CatFileCreator's Channels In / Channels Out (written out here
# independently of the plugin's own copy, so a mistake in one does not hide in the other).
NUKE_CHANNELS = (
    "rgba.red", "rgba.green", "rgba.blue", "rgba.alpha", "depth.Z", "forward.u", "forward.v", "backward.u",
    "backward.v", "deep.front", "deep.back", "disparityL.x", "disparityL.y", "disparityR.x", "disparityR.y",
    "mask.a", "rotopaint_mask.a", "mask_planartrack.a", "mask_splinewarp.a",
)
FAKE_CAT_MAGIC = "fake-nuke-cat"
# Custom knob class -> the TorchScript attribute type the real CatFileCreator maps it to (Foundry's guide lists
# XY and XYZ knobs too: they set a tensor attribute).
ATTRIBUTE_TYPES = {
    "Double_Knob": "float",
    "Int_Knob": "int",
    "Enumeration_Knob": "int",
    "Boolean_Knob": "int",
    "XY_Knob": "Tensor",
    "XYZ_Knob": "Tensor",
}
# User knobs that only lay out the panel and never become model parameters.
LAYOUT_KNOBS = ("Tab_Knob", "Text_Knob")


class CatFileError(RuntimeError):
    """What the real CatFileCreator reports in its error dialog; the fake raises it from execute()."""


def _sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _local_path(text: str) -> str:
    """Nuke file knobs hold forward slashes on every OS."""
    return os.path.normpath(text.replace("/", os.sep)) if text else text


def _channels(node: Any, knob: str) -> List[str]:
    raw = node[knob].value()
    names = [c.strip() for c in raw.split(",") if c.strip()]
    if not names:
        raise CatFileError("CatFileCreator: %s is empty; give comma-separated channel names" % knob)
    unknown = [c for c in names if c not in NUKE_CHANNELS]
    if unknown:
        raise CatFileError("CatFileCreator: %s holds %s, which Nuke does not know (use: %s)"
                           % (knob, ", ".join(unknown), " ".join(NUKE_CHANNELS)))
    if len(set(names)) != len(names):
        raise CatFileError("CatFileCreator: %s names a channel twice: %s" % (knob, raw))
    return names


def _load_torchscript(path: str) -> torchscript.ScriptedModule:
    """What the Inference node learns when it loads the file: read from the archive (no torch needed) and, where
    torch is installed, also loaded with it, as the real node's libtorch would."""
    try:
        module = torchscript.read_module(path)
    except torchscript.NotTorchScript as exc:
        raise CatFileError("CatFileCreator: %s is not a TorchScript model Nuke can load: %s" % (path, exc))
    try:
        import torch
    except ImportError:
        return module
    try:
        torch.jit.load(path, map_location="cpu")
    except Exception as exc:  # any load failure is what the user sees
        raise CatFileError("CatFileCreator: %s is not a TorchScript model Nuke can load: %s"
                           % (path, str(exc).splitlines()[0] if str(exc) else type(exc).__name__))
    return module


def _attribute_value(knob: K.Knob, kind: str) -> Any:
    """What the Inference node stores in the module's attribute for this knob's value."""
    if kind == "Tensor":
        return [float(v) for v in knob.value()]
    value = knob.index() if isinstance(knob, K.Enumeration_Knob) else knob.value()
    return float(value) if kind == "float" else int(value)


def _check_custom_knob(module: torchscript.ScriptedModule, knob: K.Knob) -> Dict[str, Any]:
    cls = knob.Class()
    name = knob.name()
    if cls not in ATTRIBUTE_TYPES:
        raise CatFileError("CatFileCreator: custom knob %s is a %s, which the Inference node cannot pass to a "
                           "model (use Float, Int, Enumeration, Boolean, XY or XYZ knobs)" % (name, cls))
    declared = dict(module.attributes, **module.constants)
    if name not in declared or name == "training":
        raise CatFileError("CatFileCreator: parameter %s not found: the model has no attribute called %s "
                           "(knob names must equal attribute names of the scripted top-level module)" % (name, name))
    wanted = ATTRIBUTE_TYPES[cls]
    if declared[name] != wanted:  # the declared TorchScript type: float, int, bool, Tensor, ...
        raise CatFileError("CatFileCreator: knob %s is a %s, which needs a %s attribute, but the model's %s is %s"
                           % (name, cls, wanted, name, declared[name]))
    if name in module.constants:  # what setting it at render time would meet
        raise CatFileError("CatFileCreator: the model's %s cannot be set (it is a TorchScript constant, Final[%s])"
                           % (name, module.constants[name]))
    value = _attribute_value(knob, wanted)
    record = {"name": name, "class": cls, "label": knob.label(), "tooltip": knob.tooltip(), "value": value}
    if isinstance(knob, (K.Double_Knob, K.Int_Knob)):
        record["range"] = [knob.min(), knob.max()]
    if isinstance(knob, K.Enumeration_Knob):
        record["items"] = knob.values()
    return record


def create_cat_file(fake: Any, node: Any) -> Optional[Any]:
    """The createCatFile button. Returns the Inference node it made, or None if the user kept the old .cat."""
    fake._require_main_thread("pressing createCatFile")
    pt = _local_path(node["torchScriptFile"].value())
    cat = _local_path(node["catFile"].value())
    if not pt:
        raise CatFileError("CatFileCreator: TorchScript File is empty")
    if not os.path.isfile(pt):
        raise CatFileError("CatFileCreator: TorchScript file %s does not exist" % pt)
    if not cat:
        raise CatFileError("CatFileCreator: Cat File is empty")
    if not cat.endswith(".cat"):
        raise CatFileError("CatFileCreator: Cat File %s must end in .cat" % cat)
    if not os.path.isdir(os.path.dirname(cat) or "."):
        raise CatFileError("CatFileCreator: the folder of %s does not exist" % cat)
    channels_in = _channels(node, "channelsIn")
    channels_out = _channels(node, "channelsOut")
    model_id = node["modelId"].value().strip()
    if not model_id:
        raise CatFileError("CatFileCreator: Model Id is empty")
    scale = node["outputScale"].value()
    if scale < 1:
        raise CatFileError("CatFileCreator: Output Scale must be at least 1, got %d" % scale)
    module = _load_torchscript(pt)
    if "forward" not in module.methods:
        raise CatFileError("CatFileCreator: %s has no forward method" % pt)
    custom = [k for k in node.user_knobs() if k.Class() not in LAYOUT_KNOBS]
    records = [_check_custom_knob(module, k) for k in custom]

    if os.path.exists(cat):
        fake.events.append(("catfilecreator-overwrite-prompt", cat))
        if not fake._answer("ask", "The file %s already exists. Do you want to overwrite it?" % cat):
            return None
    payload = {
        "format": FAKE_CAT_MAGIC,
        "modelId": model_id,
        "torchScriptFile": pt.replace(os.sep, "/"),
        "torchScript_sha256": _sha256(pt),
        "channelsIn": channels_in,
        "channelsOut": channels_out,
        "outputScale": scale,
        "knobs": records,
        "nuke_version": fake.NUKE_VERSION_STRING,
    }
    with open(cat, "w", encoding="utf-8") as handle:
        json.dump(payload, handle, indent=1)
    fake.events.append(("catfilecreator-wrote", cat))
    with fake._context_of(node):
        inference = fake.nodes.Inference(modelFile=cat.replace(os.sep, "/"))
    inference.setXYpos(node.xpos(), node.ypos() + 60)
    inference.forceValidate()
    return inference


def read_fake_cat(path: str) -> Dict[str, Any]:
    """Reads a .cat the fake wrote; raises ValueError for anything else (e.g. a stray or partial file)."""
    try:
        with open(path, "r", encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError) as exc:
        raise ValueError("%s is not a .cat the fake CatFileCreator wrote: %s" % (path, exc))
    if not isinstance(data, dict) or data.get("format") != FAKE_CAT_MAGIC:
        raise ValueError("%s is not a .cat the fake CatFileCreator wrote" % path)
    return data


def _knob_from_record(record: Dict[str, Any]) -> K.Knob:
    cls = getattr(K, record["class"])
    knob = cls(record["name"], record.get("label"), record["items"]) if "items" in record \
        else cls(record["name"], record.get("label"))
    if "range" in record:
        knob.setRange(*record["range"])
    knob.setValue(tuple(record["value"]) if isinstance(record["value"], list) else record["value"])
    return knob


def validate_inference(node: Any) -> Optional[str]:
    """Inference node: find the .cat (the modelFile knob may hold Tcl), load it, check serialiseKnob.

    Returns the error the node would show, or None. On success the .cat's custom knobs appear on the node
    (as in Nuke) and the serialised values are applied to them.
    """
    from tests.gizmo_validator import GizmoError, parse_serialise_knob

    fake = node.fake
    raw = node["modelFile"].value()
    if not raw:
        return "Inference: no model file set"
    path = _local_path(node["modelFile"].evaluate())
    if not path or not os.path.isfile(path):
        return "Inference: cannot find model file %r (from %r)" % (path, raw)
    try:
        cat = read_fake_cat(path)
    except ValueError as exc:
        return "Inference: %s" % exc
    node.fake_cat = cat
    node.fake_cat_path = path
    for record in cat["knobs"]:
        if node.knob(record["name"]) is None:
            node.addKnob(_knob_from_record(record))
    try:
        entries = parse_serialise_knob(node["serialiseKnob"].value())
    except GizmoError as exc:
        return "Inference: %s" % exc
    names = [r["name"] for r in cat["knobs"]]
    for name, value in entries.items():
        if name not in names:
            return "Inference: parameter %s not found in %s" % (name, os.path.basename(path))
        try:
            _apply_serialised(node[name], value)
        except (TypeError, ValueError, IndexError, GizmoError) as exc:
            return "Inference: %s" % exc
    fake.events.append(("inference-loaded", path))
    return None


def _apply_serialised(knob: K.Knob, value: str) -> None:
    """One serialiseKnob value: `{"expr"}`, or what the knob's .nk text would hold (`sRGB`, `{parent.x} 100`)."""
    if value.startswith("{") and value.endswith("}") and value.count("{") == 1:
        expression = value[1:-1].strip()
        knob.setExpression(expression[1:-1] if expression[:1] == expression[-1:] == '"' else expression)
    else:
        knob.fromScript(value)


_KNOB_CLASSES = {"float": "Double_Knob", "int": "Int_Knob", "bool": "Boolean_Knob", "enum": "Enumeration_Knob"}


def write_fake_cat(path: str, torchscript_file: str, knobs: Any, nuke_version: str = "16.0v2",
                   model_id: str = "CorridorKey") -> str:
    """Writes the record createCatFile would write for a model with these knob specs (KnobSpec, as the plugin's
    cat_builder adds them), without loading any TorchScript: for tests that need installed builds, not torch."""
    records = []
    for spec in knobs:
        record: Dict[str, Any] = {"name": spec.name, "class": _KNOB_CLASSES[spec.kind], "label": spec.label,
                                  "tooltip": spec.tooltip, "value": spec.default}
        if spec.kind in ("float", "int"):
            record["range"] = [spec.low, spec.high]
        if spec.kind == "bool":
            record["value"] = bool(spec.default)
        if spec.kind == "enum":
            record["items"] = list(spec.items)
        records.append(record)
    payload = {"format": FAKE_CAT_MAGIC, "modelId": model_id, "torchScriptFile": torchscript_file,
               "torchScript_sha256": "", "channelsIn": list(NUKE_CHANNELS[:4]), "channelsOut": list(NUKE_CHANNELS[:4]),
               "outputScale": 1, "knobs": records, "nuke_version": nuke_version}
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(payload, handle, indent=1)
    return path
