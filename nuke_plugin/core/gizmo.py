"""Writes CorridorKey.gizmo from the knob specs (pure Python: no Nuke needed, so it is testable anywhere).

The node graph inside the gizmo:

    Hint --> HintToAlpha (alpha | red | luminance -> alpha)
    Plate ----------------> CopyHint (hint into the 4th channel) --> CropToFormat --> Inference (the .cat)
        --> ToLinear (sRGB -> linear on RGB) --+--> Premult ------------> \
                                               +--> (straight) ---------> OutputSelect --> Output
                                               +--> MatteOnly (alpha in RGBA) --> /

CropToFormat clips the image to the plate's format before Inference, as the public RIFE port does
(tests/data/gizmos/RIFE.gizmo): overscan (pixels outside the format) never reaches the model, which sees exactly the
format's frame, at the cost it was measured at, and the node's output ends at the format's edge.

The .cat is found through the plugin path (`[plugins -all CorridorKey.cat]`), never an absolute path, so the
installed folder can move. The model knobs come from `knob_spec` (or a manifest's copy of it) and are linked to
the Inference node through `serialiseKnob` expressions; nothing here restates a knob's range or default.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Callable, Dict, List, Optional, Sequence

from .. import contract
from ..contract.knob_spec import BOOL, ENUM, FLOAT, GAMMA_INPUT, INT, KNOBS, KnobSpec

# Where the node's default differs from the model's own. Input Gamma: a Read node in a Nuke script delivers
# scene-linear pixels, so the node starts at Linear; the .cat's knob keeps the reference default (sRGB), which
# is upstream's and what the exporter validates against.
NODE_DEFAULTS = {GAMMA_INPUT.name: GAMMA_INPUT.items.index("Linear")}


def node_knob(spec: KnobSpec) -> KnobSpec:
    """A model knob as the node shows it: the model's spec with the node's own default, if it has one."""
    return replace(spec, default=NODE_DEFAULTS[spec.name]) if spec.name in NODE_DEFAULTS else spec


# The gizmo's own knobs (not model attributes): they steer the nodes around the Inference node.
HINT_CHANNEL = KnobSpec(
    name="hint_channel",
    kind=ENUM,
    label="Hint Channel",
    tooltip="Which channel of the Hint input is the coarse alpha hint: its alpha, its red channel (a roto or "
    "key rendered into red) or its luminance. A rough, slightly eroded hint works best.",
    default=0,
    items=("alpha", "red", "luminance"),
)
OUTPUT_MODE = KnobSpec(
    name="output_mode",
    kind=ENUM,
    label="Output",
    tooltip="Premultiplied: linear foreground premultiplied by the matte, ready to merge over a background. "
    "Straight: linear foreground and matte, not premultiplied. Matte only: the matte in all four channels.",
    default=0,
    items=("Premultiplied (linear)", "Straight foreground (linear)", "Matte only"),
)


@dataclass(frozen=True)
class Toggle:
    """A checkbox on the gizmo, passed through to the Inference knob of the same name."""

    name: str
    label: str
    tooltip: str
    default: bool


USE_GPU = Toggle("useGPUIfAvailable", "Use GPU if available",
                 "Render on the GPU when this machine has one that Nuke can use; otherwise the CPU is used.", True)
HALF_PRECISION = Toggle("halfPrecision", "Optimize for Speed and Memory",
                        "Run the model in half precision on the GPU: faster and lighter, with small numerical "
                        "differences in the matte.", False)
TOGGLES = (USE_GPU, HALF_PRECISION)

# Expression of each hint choice in Nuke's Expression node (r g b a are the input's channels; Rec.709 luma).
HINT_EXPRESSIONS = {
    "alpha": "a",
    "red": "r",
    "luminance": "0.2126*r + 0.7152*g + 0.0722*b",
}

HELP = ("CorridorKey neural green-screen keyer (Corridor Digital), run by Nuke's Inference node.\n"
        "Plate: the green-screen plate (Input Gamma: Linear, the default, for a Read into a linear script; sRGB "
        "for a display-referred plate). Hint: a coarse, slightly eroded "
        "matte of the subject (pick its channel with Hint Channel).\n"
        "Output: linear RGBA, premultiplied by default, ready to merge over a background.\n"
        "Model: CorridorKey by Corridor Digital, CC BY-NC-SA 4.0 licence variant.")
# The Info tab: which plugin built the node and whose model it runs (the licence asks for the credit).
CREDIT = ("CorridorKey by Corridor Digital (Niko Pueringer), "
          "<a href=\"https://github.com/nikopueringer/CorridorKey\">github.com/nikopueringer/CorridorKey</a>. "
          "Licence: a CC BY-NC-SA 4.0 variant: use in productions is fine, selling the model or offering it "
          "as a paid service is not.")
TILE_COLOR = 0x3A9A4AFF
_BARE = re.compile(r"^[A-Za-z0-9_.+\-/]+$")
# Nuke's own writer escapes only "[" (a "]" cannot open a command), so every public Cattery gizmo reads
# `"\[lsearch -inline \[plugins -all X.cat] *.cat]"`; the same form is written here.
_ESCAPES = {"\\": "\\\\", '"': '\\"', "[": "\\[", "{": "\\{", "}": "\\}", "$": "\\$", "\n": "\\n"}


def quote(text: str) -> str:
    """A Tcl double-quoted word, escaped so that Nuke reads back exactly `text` (no substitution)."""
    return '"' + "".join(_ESCAPES.get(ch, ch) for ch in text) + '"'


def word(text: str) -> str:
    """A bare word when that is unambiguous, else a quoted one."""
    return text if _BARE.match(text) else quote(text)


def number(value: float) -> str:
    return "%.10g" % value


def _enum_items(items: Sequence[str]) -> str:
    return "{" + " ".join(word(item) for item in items) + "}"


def user_knob_lines(spec: KnobSpec) -> List[str]:
    """`addUserKnob {...}` plus the value line that sets the default."""
    head = "%s l %s t %s" % (spec.name, quote(spec.label), quote(spec.tooltip))
    if spec.kind == FLOAT:
        return [" addUserKnob {7 %s R %s %s}" % (head, number(spec.low), number(spec.high)),
                " %s %s" % (spec.name, number(float(spec.default)))]
    if spec.kind == INT:
        # No `R lo hi` on an Int knob: no public gizmo or script writes one, and the model clamps the value itself.
        return [" addUserKnob {3 %s}" % head, " %s %d" % (spec.name, spec.default)]
    if spec.kind == BOOL:
        return [" addUserKnob {6 %s +STARTLINE}" % head, " %s %s" % (spec.name, "true" if spec.default else "false")]
    return [" addUserKnob {4 %s M %s}" % (head, _enum_items(spec.items)),
            " %s %s" % (spec.name, word(spec.items[int(spec.default)]))]


def toggle_lines(toggle: Toggle) -> List[str]:
    lines = [" addUserKnob {6 %s l %s t %s +STARTLINE}" % (toggle.name, quote(toggle.label), quote(toggle.tooltip))]
    return lines + [" %s %s" % (toggle.name, "true" if toggle.default else "false")]


def serialise_knob(knobs: Sequence[KnobSpec]) -> str:
    """The Inference node's serialiseKnob value: every model knob follows the gizmo knob of the same name."""
    return "{" + "".join('%s:{"parent.%s"};' % (k.name, k.name) for k in knobs) + "}"


def model_file_expression(cat_name: str = contract.CAT_NAME) -> str:
    """Finds the .cat on the plugin path when the node is used, so no absolute path is stored."""
    return "[lsearch -inline [plugins -all %s] *.cat]" % cat_name


def _hint_expression() -> str:
    parts = [HINT_EXPRESSIONS[item] for item in HINT_CHANNEL.items]
    expr = parts[-1]
    for index in range(len(parts) - 2, -1, -1):
        expr = "parent.%s == %d ? %s : (%s)" % (HINT_CHANNEL.name, index, parts[index], expr)
    return "clamp(%s)" % expr


def _node(cls: str, knobs: List[str], x: int, y: int) -> List[str]:
    return [" %s {" % cls] + ["  " + k for k in knobs] + ["  xpos %d" % x, "  ypos %d" % y, " }"]


def crop_to_format(name: str, x: int, y: int) -> List[str]:
    """A Crop to the input's format, written as public Cattery ports write it (RIFE: `box {0 0 {width} {height}}`,
    `crop false`): the bounding box ends at the format, with no black edge added."""
    return _node("Crop", ["box {0 0 {width} {height}}", "crop false", "name %s" % name], x, y)


def _output_branches() -> Dict[str, Callable[[int], List[str]]]:
    """How each Output choice is made from the straight linear result (node text; `y` is the row)."""
    return {
        OUTPUT_MODE.items[0]: lambda y: _node("Premult", ["name Premult1"], 0, y),
        OUTPUT_MODE.items[1]: lambda y: [],
        OUTPUT_MODE.items[2]: lambda y: _node("Expression", ["expr0 a", "expr1 a", "expr2 a", "expr3 a",
                                                             "name MatteOnly"], 220, y),
    }


def info_tab_lines(info: Optional[str], built: Optional[str]) -> List[str]:
    """The Info tab: plugin version, build date, the export (`info`) and the model's credit and licence."""
    lines = [" addUserKnob {20 info_tab l Info}",
             " addUserKnob {26 plugin_version l %s +STARTLINE T %s}"
             % (quote("Plugin"), quote("CorridorKey for Nuke %s" % contract.VERSION))]
    if built:
        lines.append(" addUserKnob {26 build_date l %s +STARTLINE T %s}" % (quote("Built"), quote(built)))
    if info:
        lines.append(" addUserKnob {26 model_info l %s +STARTLINE T %s}" % (quote("Model"), quote(info)))
    lines.append(' addUserKnob {26 "" +STARTLINE}')
    lines.append(" addUserKnob {26 credit l %s +STARTLINE T %s}" % (quote("Credit"), quote(CREDIT)))
    return lines


def gizmo_text(knobs: Sequence[KnobSpec] = KNOBS, cat_name: str = contract.CAT_NAME,
               info: Optional[str] = None, built: Optional[str] = None) -> str:
    """The whole .gizmo file. `knobs` are the model's (default: knob_spec.KNOBS); `info` (the export) and
    `built` (the build date) go on the Info tab."""
    lines = ["version 14.0 v1", "Gizmo {", " inputs 2", " help %s" % quote(HELP), " tile_color 0x%08x" % TILE_COLOR,
             " addUserKnob {20 %s l %s}" % (contract.MODEL_ID, word(contract.MODEL_ID))]
    lines += user_knob_lines(HINT_CHANNEL)
    for spec in knobs:
        lines += user_knob_lines(node_knob(spec))
    lines += user_knob_lines(OUTPUT_MODE)
    lines.append(' addUserKnob {26 "" +STARTLINE}')
    for toggle in TOGGLES:
        lines += toggle_lines(toggle)
    lines += info_tab_lines(info, built)
    lines.append("}")

    lines += _node("Input", ["inputs 0", "name Hint", "number 1"], 220, -300)
    lines += _node("Expression", ["expr3 %s" % quote(_hint_expression()), "name HintToAlpha"], 220, -220)
    lines += _node("Input", ["inputs 0", "name Plate", "number 0"], 0, -300)
    lines += _node("Copy", ["inputs 2", "from0 rgba.alpha", "to0 rgba.alpha", "bbox B", "name CopyHint"], 0, -220)
    lines += crop_to_format("CropToFormat", 0, -180)
    lines += _node("Inference", [
        "useGPUIfAvailable {{parent.%s}}" % USE_GPU.name,
        "halfPrecision {{parent.%s}}" % HALF_PRECISION.name,
        "modelFile %s" % quote(model_file_expression(cat_name)),
        "serialiseKnob %s" % serialise_knob(knobs),
        "name Inference1",
    ], 0, -140)
    lines += _node("Colorspace", ["colorspace_in sRGB", "colorspace_out linear", "name ToLinear"], 0, -60)
    lines.append("set NStraight [stack 0]")
    # Switch input 0 is the top of the stack, so the branches are stacked from the last choice to the first.
    branches = _output_branches()
    for order, item in enumerate(reversed(OUTPUT_MODE.items)):
        if order:
            lines.append("push $NStraight")
        lines += branches[item](20)
    lines += _node("Switch", ["inputs %d" % len(OUTPUT_MODE.items), "which {{parent.%s}}" % OUTPUT_MODE.name,
                              "name OutputSelect"], 0, 100)
    lines += _node("Output", ["name Output1"], 0, 180)
    lines.append("end_group")
    return "\n".join(lines) + "\n"


def gizmo_knob_names(knobs: Sequence[KnobSpec] = KNOBS) -> List[str]:
    """The knobs an artist sees on the node, in panel order."""
    return [HINT_CHANNEL.name] + [k.name for k in knobs] + [OUTPUT_MODE.name] + [t.name for t in TOGGLES]
