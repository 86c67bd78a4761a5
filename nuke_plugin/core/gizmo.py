"""Writes CorridorKey.gizmo from the knob specs and the folder's builds (pure Python: testable without Nuke).

The node graph inside the gizmo:

    Hint --> HintToAlpha (alpha | red | luminance -> alpha) ------------------> HintSelect
    Plate --> HintCrop --> HintKey --> HintErode (the built-in hint) ----------> HintSelect
    Plate + HintSelect --> CopyHint (hint into the 4th channel) --> CropToFormat (the Hint output taps here)
        --> BuildForThisNuke --> NukeNewEnough --> SameBuild (Asserts) --> Inference1 (the .cat: the network)
        --> CleanUp (the same .cat, Clean-up Only: Auto Despeckle) --> Despill (Expression)
        --> ToLinear (sRGB -> linear on RGB)
        --+--> Premult ------------> \
          +--> (straight) ---------> OutputSelect --> Output
          +--> MatteOnly, previews --> /

Only the knobs that act before or inside the network (and Resample, which scales the network's result to the
plate) reach the network's Inference node. Auto Despeckle and Despeckle Size reach the CleanUp node, where the
network does not run, and Despill and Output are native nodes (contract/node_graph.py: `network_held`), so moving
any of them re-renders those nodes from the network's kept result. A build whose model has no Clean-up Only knob
(made before it existed) gets no CleanUp node: its network node applies Auto Despeckle itself.

CropToFormat clips the image to the plate's format before Inference, as the public RIFE port does
(tests/data/gizmos/RIFE.gizmo): overscan (pixels outside the format) never reaches the model, which sees exactly the
format's frame, at the cost it was measured at, and the node's output ends at the format's edge.

The .cat is found through the plugin path, never an absolute path, so the installed folder can move: the
running Nuke's own build, `[plugins -all CorridorKey_<build>_n$nuke_version_major.cat]`, as public ports pick
theirs (`RIFE_n$nuke_version_major.cat`). The Asserts raise the node's error, with no Python at render time, as
public ports raise version errors: when this Nuke's major version has no build here (another version's .cat is
never used), when it is older than the Nuke that built its .cat, and when the node was keyed with another build
than the one installed (its `keyed_build` knob, saved in the script, against the build ID written here).
The model knobs come from `knob_spec` (or a manifest's copy of it) and are linked to the Inference node through
`serialiseKnob` expressions; nothing here restates a knob's range or default.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from .. import contract
from ..contract import builds, node_graph
from ..contract.knob_spec import BOOL, DESPILL_STRENGTH, ENUM, FLOAT, GAMMA_INPUT, INT, KNOBS, STAGE_KNOBS, KnobSpec
from ..contract.node_graph import (
    HINT_BACKING,
    HINT_ERODE,
    HINT_SOURCE,
    PREVIEW_COLOUR,
    ColourSpec,
    clean_up_held,
    network_held,
    splits_clean_up,
)
from .build_set import BuildSet

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
    "Straight: linear foreground and matte, not premultiplied. Matte only: the matte in all four channels. "
    "Hint: the coarse hint the model gets, in all four channels (the model does not run). "
    "Over checkerboard / Over colour: the keyed foreground merged over a checkerboard or the Preview Colour, to "
    "judge edges without building a Merge (not for comping: its alpha is 1).",
    default=0,
    items=("Premultiplied (linear)", "Straight foreground (linear)", "Matte only", "Hint (what the model gets)",
           "Over checkerboard (preview)", "Over colour (preview)"),
)
OUTPUT_HINT, OUTPUT_OVER_CHECKERBOARD, OUTPUT_OVER_COLOUR = 3, 4, 5


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
        "for a display-referred plate). Hint (optional): a coarse, slightly eroded "
        "matte of the subject (pick its channel with Hint Channel); with nothing connected the node makes a coarse "
        "built-in hint from the plate (Backing Colour, Hint Erode; see it with Output: Hint).\n"
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


def held_text(spec: KnobSpec, value: Any) -> str:
    """A held knob's value as the knob's own .nk text: a number, true / false, or the enumeration's item."""
    if spec.kind == ENUM:
        return word(spec.items[int(value)])
    if spec.kind == BOOL:
        return "true" if value else "false"
    return "%d" % value if spec.kind == INT else number(float(value))


def serialise_knob(knobs: Sequence[KnobSpec], held: Dict[str, Any]) -> str:
    """An Inference node's serialiseKnob value: every model knob follows the gizmo knob of the same name, except
    those in `held` (node_graph.network_held / clean_up_held), which stay at the value given there."""
    return "{" + "".join("%s:%s;" % (k.name, held_text(k, held[k.name])) if k.name in held
                         else '%s:{"parent.%s"};' % (k.name, k.name) for k in knobs) + "}"


def inference_lines(model_id: str, build: int, knobs: Sequence[KnobSpec], held: Dict[str, Any], name: str,
                    y: int) -> List[str]:
    """An Inference node on this build's .cat, following the gizmo's GPU toggles and its model knobs but `held`."""
    return _node("Inference", [
        "useGPUIfAvailable {{parent.%s}}" % USE_GPU.name,
        "halfPrecision {{parent.%s}}" % HALF_PRECISION.name,
        model_file_line(model_id, build),
        "serialiseKnob %s" % serialise_knob(knobs, held),
        "name %s" % name,
    ], 0, y)


def panel_knobs(knobs: Sequence[KnobSpec]) -> List[KnobSpec]:
    """The model knobs the gizmo's panel shows: all but those each of its nodes holds (Clean-up Only)."""
    return [k for k in knobs if k.name not in STAGE_KNOBS]


# -- Despill after the network (contract/node_graph.py): pointwise, so a native node, and a change never re-runs it.
def despill_knobs(spec: KnobSpec = DESPILL_STRENGTH) -> Dict[str, str]:
    """The Despill Expression node's knobs: upstream's "average" green despill of the straight sRGB foreground, as
    the model computes it (exporter/scripted/colour.py): the green above (R + B) / 2, times strength / `spec.high`
    clamped to 0-1, is taken from G and half of it given to R and to B. Alpha passes through."""
    return {
        "temp_name0": "spill",
        "temp_expr0": "max(g - (r + b) * 0.5, 0) * clamp(parent.%s / %s)" % (spec.name, number(spec.high)),
        "expr0": "r + spill * 0.5",
        "expr1": "g - spill",
        "expr2": "b + spill * 0.5",
    }


def despill_lines(knobs: Sequence[KnobSpec], y: int) -> List[str]:
    """The Despill node after the Inference node, when the model has the despill knob (none for another spec)."""
    found = [k for k in knobs if k.name == DESPILL_STRENGTH.name]
    if not found:
        return []
    return _node("Expression", ["%s %s" % (k, quote(v)) for k, v in despill_knobs(found[0]).items()]
                 + ["name %s" % node_graph.DESPILL_NODE], 0, y)


def model_file_expression(model_id: str, build: int) -> str:
    """Finds this build's .cat for the running Nuke's major version on the plugin path when the node is used, so
    no absolute path is stored and no other build's .cat is ever loaded."""
    return "[lsearch -inline [plugins -all %s] *.cat]" % builds.cat_search_name(model_id, build)


def model_file_line(model_id: str, build: int) -> str:
    """The modelFile line as every public Cattery gizmo writes it: only the opening brackets escaped, the Tcl
    variable left for Nuke (`"\\[lsearch -inline \\[plugins -all RIFE_n$nuke_version_major.cat] *.cat]"`)."""
    return 'modelFile "%s"' % model_file_expression(model_id, build).replace("[", "\\[")


# The Assert nodes: each expression is 0 where the node must show its message as its error (public ports raise
# their Nuke version errors this way, `expression {{"\\$nuke_version > 14.1"}}`). The `$` variables are Nuke's Tcl
# variables; the gizmo text escapes them, as those ports do.
KEYED_BUILD = KnobSpec(
    name="keyed_build",
    kind=INT,
    label="Keyed with build",
    tooltip="The build this node was keyed with, saved in the script. A render that finds another build stops "
    "with an error instead of giving another matte. 0: not recorded (a node from before builds had IDs).",
    default=0,
    minimum=0,
    maximum=99999999,
)
INSTALLED_BUILD_KNOB = "installed_build"
USE_INSTALLED = "use_installed_build"


def _expression_line(expression: str) -> str:
    return 'expression {{"%s"}}' % expression.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$")


def _majors_text(build_set: BuildSet) -> str:
    return ", ".join(str(m) for m in build_set.majors) or "none"


def assert_build_for_this_nuke(build_set: BuildSet) -> Tuple[str, str]:
    """(expression, message): the running Nuke's major version has a build here."""
    tests = " || ".join("%s == %d" % (builds.NUKE_MAJOR_VARIABLE, m) for m in build_set.majors) or "0"
    return tests, ("CorridorKey: this install has no build for this Nuke's major version (it has builds for Nuke "
                   "%s). Run CorridorKey > Build Model in this Nuke (NukeX) to add one: another Nuke's build is never "
                   "used." % _majors_text(build_set))


def assert_nuke_new_enough(build_set: BuildSet) -> Optional[Tuple[str, str]]:
    """(expression, message) when a major's .cat was built in a later release than its first (15.1 for Nuke 15):
    a .cat loads only in the Nuke that built it and newer ones. None when every .cat loads in its whole major."""
    late = [s for s in build_set.slots if s.minimum[1] > 0]
    if not late:
        return None
    tests = " && ".join("(%s != %d || $nuke_version >= %d.%d)" % (builds.NUKE_MAJOR_VARIABLE, s.major, s.minimum[0],
                                                                  s.minimum[1]) for s in late)
    which = "; ".join("the build for Nuke %d was made in Nuke %d.%d and loads only there and in newer releases"
                      % (s.major, s.minimum[0], s.minimum[1]) for s in late)
    return tests, ("CorridorKey: %s. Build it again in the oldest release of that Nuke you run (Build Model in it), "
                   "or use a newer release." % which)


def assert_same_build(build_set: BuildSet) -> Tuple[str, str]:
    """(expression, message): the node was keyed with the build installed here, or with none recorded."""
    return ("parent.%s == 0 || parent.%s == %d" % (KEYED_BUILD.name, KEYED_BUILD.name, build_set.build_id),
            "CorridorKey: this node was keyed with another build than build %d, which is installed here (its Info "
            "tab: Keyed with build). Install the build it was keyed with, or press Use the installed build on its "
            "Info tab to key it with this one." % build_set.build_id)


def assert_node(name: str, check: Tuple[str, str], x: int, y: int) -> List[str]:
    expression, message = check
    return _node("Assert", [_expression_line(expression), "message %s" % quote(message), "name %s" % name], x, y)


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


def expression_knob(name: str, expression: str) -> str:
    """A knob driven by an expression, as Nuke writes one: `which {{"..."}}` (a `[` escaped, as public files do)."""
    return "%s {{%s}}" % (name, word(expression))


def colour_knob_lines(spec: ColourSpec) -> List[str]:
    """`addUserKnob {18 ...}` (Nuke's Color_Knob, r g b) plus the value line with its default."""
    return [" addUserKnob {18 %s l %s t %s}" % (spec.name, quote(spec.label), quote(spec.tooltip)),
            " %s {%s}" % (spec.name, " ".join(number(v) for v in spec.default))]


# -- The built-in hint (contract/node_graph.py): a coarse key of the plate for when the Hint input is not connected.
def builtin_hint_knob_lines() -> List[str]:
    return user_knob_lines(HINT_SOURCE) + colour_knob_lines(HINT_BACKING) + user_knob_lines(HINT_ERODE)


def hint_key_knobs() -> Dict[str, str]:
    """HintKey's Expression knobs. key_dom: the pixel's value in the backing's dominant channel; key_rest: the larger
    of its other two; key_limit: the threshold, the backing's own rest / dom to the power KEY_EXPONENT. Alpha 1 where
    key_rest > key_limit * key_dom. (Not `t`, `x` or `y`: those are the frame and the pixel in Nuke expressions.)"""
    backing = "parent.%s" % HINT_BACKING.name
    r, g, b = ("%s.%s" % (backing, c) for c in "rgb")
    green = "%s >= max(%s, %s)" % (g, r, b)
    blue = "%s >= %s" % (b, r)

    def pick(if_green: str, if_blue: str, if_red: str) -> str:
        return "%s ? %s : (%s ? %s : %s)" % (green, if_green, blue, if_blue, if_red)

    def ratio(other_1: str, other_2: str, dominant: str) -> str:
        return "max(%s, %s) / max(%s, %s)" % (other_1, other_2, dominant, number(node_graph.BACKING_FLOOR))

    return {
        "temp_name0": "key_dom", "temp_expr0": pick("g", "b", "r"),
        "temp_name1": "key_rest", "temp_expr1": pick("max(r, b)", "max(r, g)", "max(g, b)"),
        "temp_name2": "key_limit",
        "temp_expr2": "pow(%s, %s)" % (pick(ratio(r, b, g), ratio(r, g, b), ratio(g, b, r)),
                                       number(node_graph.KEY_EXPONENT)),
        "expr3": "key_rest > key_limit * key_dom ? 1 : 0",
    }


def hint_erode_expression() -> str:
    """HintErode's size: Nuke's Dilate erodes for a negative size."""
    return "-parent.%s" % HINT_ERODE.name


def hint_select_expression() -> str:
    """HintSelect's `which`: the Hint input (1) when Hint Source says so, or on Automatic when input 1 is connected
    (`[exists parent.input1]`, as public gizmos test an input); the built-in hint (0) otherwise."""
    auto, forced_input = HINT_SOURCE.items.index("Automatic"), HINT_SOURCE.items.index("Hint input")
    return "parent.%s == %d ? [exists parent.input1] : parent.%s == %d" % (
        HINT_SOURCE.name, auto, HINT_SOURCE.name, forced_input)


def builtin_hint_lines() -> List[str]:
    """The built-in hint's nodes, written after the Plate input with HintToAlpha below it on the stack. Leaves
    HintSelect (0: built-in, 1: the Hint input) under the plate, which CopyHint takes as A and B."""
    key = hint_key_knobs()
    lines = ["set NPlate [stack 0]"]
    lines += crop_to_format(node_graph.HINT_CROP_NODE, -220, -260)
    lines += _node("Expression", ["%s %s" % (k, quote(v) if k.startswith(("temp_expr", "expr")) else word(v))
                                  for k, v in key.items()] + ["name %s" % node_graph.HINT_KEY_NODE], -220, -230)
    lines += _node("Dilate", ["channels alpha", expression_knob("size", hint_erode_expression()),
                              "name %s" % node_graph.HINT_ERODE_NODE], -220, -200)
    lines += _node("Switch", ["inputs 2", expression_knob("which", hint_select_expression()),
                              "name %s" % node_graph.HINT_SELECT_NODE], 220, -180)
    return lines + ["push $NPlate"]


# -- The preview outputs (contract/node_graph.py): the keyed foreground over a checkerboard or a colour.
def preview_background_expressions() -> List[str]:
    """PreviewBackground's expr0-2: the Preview Colour for Over colour, else the checkerboard (x, y: pixel indices
    from the bottom left, squares of CHECKER_SIZE, the light one at the origin)."""
    checker = "fmod(floor(x / %d) + floor(y / %d), 2) < 1 ? %s : %s" % (
        node_graph.CHECKER_SIZE, node_graph.CHECKER_SIZE, number(node_graph.CHECKER_LIGHT),
        number(node_graph.CHECKER_DARK))
    return ["parent.%s == %d ? parent.%s.%s : (%s)" % (OUTPUT_MODE.name, OUTPUT_OVER_COLOUR, PREVIEW_COLOUR.name, c,
                                                       checker) for c in "rgb"]


def _preview_lines(y: int) -> List[str]:
    """Premult (A) merged over PreviewBackground (B), both from the straight result on the stack."""
    background = preview_background_expressions()
    lines = _node("Premult", ["name PreviewPremult"], 440, y)
    lines += ["push $NStraight"]
    lines += _node("Expression", ["expr%d %s" % (c, quote(background[c])) for c in range(3)] + [
        "expr3 1", "name %s" % node_graph.PREVIEW_BACKGROUND_NODE], 660, y)
    lines += _node("Merge2", ["inputs 2", "operation over", "name %s" % node_graph.PREVIEW_OVER_NODE], 440, y + 40)
    return lines + ["set NPreview [stack 0]"]


def _output_branches() -> Dict[str, Tuple[str, Callable[[int], List[str]]]]:
    """How each Output choice is made (node text; `y` is the row): the stack variable it starts from (the straight
    linear result, the model's input, or the preview made for the other preview choice) and its nodes."""
    matte = ["expr0 a", "expr1 a", "expr2 a", "expr3 a"]
    return {
        OUTPUT_MODE.items[0]: ("NStraight", lambda y: _node("Premult", ["name Premult1"], 0, y)),
        OUTPUT_MODE.items[1]: ("NStraight", lambda y: []),
        OUTPUT_MODE.items[2]: ("NStraight", lambda y: _node("Expression", matte + ["name MatteOnly"], 220, y)),
        OUTPUT_MODE.items[OUTPUT_HINT]: ("NModelIn", lambda y: _node("Expression", matte + ["name HintView"], -220,
                                                                     y)),
        OUTPUT_MODE.items[OUTPUT_OVER_CHECKERBOARD]: ("NPreview", lambda y: []),
        OUTPUT_MODE.items[OUTPUT_OVER_COLOUR]: ("NStraight", _preview_lines),
    }


def build_lines(build_set: BuildSet) -> List[str]:
    """The Info tab's build knobs: the installed build, the build the node was keyed with (saved in the script),
    the button that keys it with the installed one, and what the folder holds for each Nuke."""
    lines = [" addUserKnob {3 %s l %s t %s}" % (INSTALLED_BUILD_KNOB, quote("Installed build"), quote(
                 "The build installed where this Nuke found the node. Every Nuke that renders the script must find "
                 "the build it was keyed with.")),
             " %s %d" % (INSTALLED_BUILD_KNOB, build_set.build_id)]
    lines += user_knob_lines(KEYED_BUILD)
    command = "node = nuke.thisNode()\nnode['%s'].setValue(int(node['%s'].value()))" % (KEYED_BUILD.name,
                                                                                      INSTALLED_BUILD_KNOB)
    lines.append(" addUserKnob {22 %s l %s t %s T %s +STARTLINE}" % (
        USE_INSTALLED, quote("Use the installed build"), quote(
            "Key this node with the installed build from now on (after a deliberate rebuild). Save the script."),
        quote(command)))
    text = "\n".join(s.label for s in build_set.slots) or "none yet"
    lines.append(" addUserKnob {26 builds l %s +STARTLINE T %s}" % (quote("Builds here"), quote(text)))
    return lines


def info_tab_lines(build_set: BuildSet, info: Optional[str], built: Optional[str]) -> List[str]:
    """The Info tab: plugin version, build date, the builds, the export (`info`), the model's credit and licence."""
    lines = [" addUserKnob {20 info_tab l Info}",
             " addUserKnob {26 plugin_version l %s +STARTLINE T %s}"
             % (quote("Plugin"), quote("CorridorKey for Nuke %s" % contract.VERSION))]
    if built:
        lines.append(" addUserKnob {26 build_date l %s +STARTLINE T %s}" % (quote("Built"), quote(built)))
    if info:
        lines.append(" addUserKnob {26 model_info l %s +STARTLINE T %s}" % (quote("Model"), quote(info)))
    lines += build_lines(build_set)
    lines.append(' addUserKnob {26 "" +STARTLINE}')
    lines.append(" addUserKnob {26 credit l %s +STARTLINE T %s}" % (quote("Credit"), quote(CREDIT)))
    return lines


def gizmo_text(build_set: BuildSet, knobs: Sequence[KnobSpec] = KNOBS, info: Optional[str] = None,
               built: Optional[str] = None) -> str:
    """The whole .gizmo file for the builds of `build_set` (one build ID, a .cat per Nuke major version). `knobs`
    are the model's (default: knob_spec.KNOBS); `info` (the export) and `built` (the date) go on the Info tab."""
    model_id = build_set.model_id
    lines = ["version 14.0 v1", "Gizmo {", " inputs 2", " help %s" % quote(HELP), " tile_color 0x%08x" % TILE_COLOR,
             " addUserKnob {20 %s l %s}" % (contract.MODEL_ID, word(contract.MODEL_ID))]
    lines += user_knob_lines(HINT_CHANNEL)
    lines += builtin_hint_knob_lines()
    for spec in panel_knobs(knobs):
        lines += user_knob_lines(node_knob(spec))
    lines += user_knob_lines(OUTPUT_MODE)
    lines += colour_knob_lines(PREVIEW_COLOUR)
    lines.append(' addUserKnob {26 "" +STARTLINE}')
    for toggle in TOGGLES:
        lines += toggle_lines(toggle)
    lines += info_tab_lines(build_set, info, built)
    lines.append("}")

    lines += _node("Input", ["inputs 0", "name Hint", "number 1"], 220, -300)
    lines += _node("Expression", ["expr3 %s" % quote(_hint_expression()), "name HintToAlpha"], 220, -220)
    lines += _node("Input", ["inputs 0", "name Plate", "number 0"], 0, -300)
    lines += builtin_hint_lines()
    lines += _node("Copy", ["inputs 2", "from0 rgba.alpha", "to0 rgba.alpha", "bbox B", "name CopyHint"], 0, -220)
    lines += crop_to_format("CropToFormat", 0, -180)
    # The model's input: the Hint output shows its alpha. Taken before the Asserts, which only check the build:
    # the hint can be judged in a Nuke with no build of its own.
    lines.append("set NModelIn [stack 0]")
    lines += assert_node("BuildForThisNuke", assert_build_for_this_nuke(build_set), 0, -160)
    late = assert_nuke_new_enough(build_set)
    if late:
        lines += assert_node("NukeNewEnough", late, 0, -150)
    lines += assert_node("SameBuild", assert_same_build(build_set), 0, -140)
    lines += inference_lines(model_id, build_set.build_id, knobs, network_held(knobs), node_graph.NETWORK_NODE, -115)
    if splits_clean_up(knobs):
        lines += inference_lines(model_id, build_set.build_id, knobs, clean_up_held(knobs), node_graph.CLEAN_UP_NODE,
                                 -90)
    lines += despill_lines(knobs, -65)
    lines += _node("Colorspace", ["colorspace_in sRGB", "colorspace_out linear", "name ToLinear"], 0, -40)
    lines.append("set NStraight [stack 0]")
    # Switch input 0 is the top of the stack, so the branches are stacked from the last choice to the first; the
    # straight result is on the stack already for the first.
    branches = _output_branches()
    on_stack: Optional[str] = "NStraight"
    for item in reversed(OUTPUT_MODE.items):
        source, branch = branches[item]
        if source != on_stack:
            lines.append("push $%s" % source)
        on_stack = None
        lines += branch(20)
    lines += _node("Switch", ["inputs %d" % len(OUTPUT_MODE.items), "which {{parent.%s}}" % OUTPUT_MODE.name,
                              "name OutputSelect"], 0, 100)
    lines += _node("Output", ["name Output1"], 0, 180)
    lines.append("end_group")
    return "\n".join(lines) + "\n"


def gizmo_knob_names(knobs: Sequence[KnobSpec] = KNOBS) -> List[str]:
    """The knobs an artist sees on the node, in panel order (the Info tab's build knobs last)."""
    return ([HINT_CHANNEL.name, HINT_SOURCE.name, HINT_BACKING.name, HINT_ERODE.name]
            + [k.name for k in panel_knobs(knobs)]
            + [OUTPUT_MODE.name, PREVIEW_COLOUR.name] + [t.name for t in TOGGLES]
            + [INSTALLED_BUILD_KNOB, KEYED_BUILD.name, USE_INSTALLED])
