"""The values the gizmo's native nodes share with their numpy replica: the built-in hint, the preview output and the
despill after the network.

The gizmo writer (nuke_plugin.core.gizmo) turns these into knobs and node text; the render check's replica
(tools/render_check/gizmo_maths.py), the self-test's expectations (nuke_plugin.core.selftest_report) and the benchmark
(benchmarks/bench_builtin_hint.py) read the same values, so a default or a threshold changes here and nowhere else.

The built-in hint is a coarse key made of native nodes for when the Hint input is not connected:
- HintKey (Expression): a pixel is the subject when its strongest channel other than the backing's own dominant
  channel reaches THRESHOLD of that channel, THRESHOLD = (the backing's own such ratio) ** KEY_EXPONENT. The ratio
  ignores exposure, and the exponent puts the threshold close to 1 (about 0.94 for the default backing), so only
  pixels that are clearly not screen-coloured count: soft edges, thin strands, semi-transparent areas and spill stay
  out, and a backing brighter, darker or of another hue than the default still keys (benchmarks/bench_builtin_hint.py
  measures it on synthetic plates with known alpha).
- HintErode (Dilate, Nuke's "Erode (fast)"): a square minimum filter of HINT_ERODE pixels, as upstream asks of a
  hint ("coarse and slightly eroded").
- HintSelect (Switch): the Hint input when it is connected (or forced), the built-in hint otherwise.

Nuke re-renders only the nodes whose knobs or inputs change, so every model knob that acts after the network is
applied by a node after the network's own Inference node (NETWORK_NODE), which holds it at a fixed value instead
(`network_held`) and so keeps its result:
- Despill runs as a native Expression node (DESPILL_NODE), because it is pointwise.
- Auto Despeckle and Despeckle Size need connected components, which no native node computes. A second Inference
  node (CLEAN_UP_NODE) runs the same .cat with Clean-up Only on: the network does not run there, and the model's
  own clean-up acts on the first node's result (`clean_up_held` says what it holds). The exporter proves that the
  two nodes give what one gives (exporter/validate.py).
A build from before Clean-up Only existed has no such knob (its manifest says so): its gizmo keeps Auto Despeckle on
the network node. CorridorKey.cat alone, in a plain Inference node, still applies every knob itself.

Pure Python 3.9+: no Nuke, no numpy.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Sequence, Tuple

from .knob_spec import AUTO_DESPECKLE, CLEAN_UP_ONLY, DESPECKLE_SIZE, DESPILL_STRENGTH, ENUM, INT, STAGE_KNOBS, KnobSpec


@dataclass(frozen=True)
class ColourSpec:
    """A colour knob of the gizmo (Nuke's Color_Knob: r g b), its default in the plate's own values."""

    name: str
    label: str
    tooltip: str
    default: Tuple[float, float, float]


HINT_SOURCE = KnobSpec(
    name="hint_source",
    kind=ENUM,
    label="Hint Source",
    tooltip="Where the coarse alpha hint comes from. Automatic: the Hint input when it is connected, otherwise the "
    "built-in hint, a coarse key of the plate made inside the node. Hint input: always the Hint input (black when "
    "nothing is connected). Built-in: always the built-in hint, even with a Hint input connected.",
    default=0,
    items=("Automatic", "Hint input", "Built-in"),
)
HINT_BACKING = ColourSpec(
    name="hint_backing",
    label="Backing Colour",
    tooltip="The screen's colour, for the built-in hint: pick it from the plate (its own values). The default green "
    "keys most green screens; its strongest channel also says whether the screen is green or blue.",
    default=(0.2, 0.6, 0.25),
)
HINT_ERODE = KnobSpec(
    name="hint_erode",
    kind=INT,
    label="Hint Erode",
    tooltip="How many pixels the built-in hint is eroded (a square minimum filter): the model fills edges in well "
    "and is weaker at removing an over-expanded hint. Larger plates may want more; negative values grow it.",
    default=4,
    minimum=-100,
    maximum=100,
)
KEY_EXPONENT = 0.07  # the threshold is the backing's own ratio to this power (see the docstring)
BACKING_FLOOR = 1e-6  # keeps the ratio finite for a black backing colour

# The built-in hint's nodes inside the gizmo.
HINT_CROP_NODE = "HintCrop"
HINT_KEY_NODE = "HintKey"
HINT_ERODE_NODE = "HintErode"
HINT_SELECT_NODE = "HintSelect"
# HintSelect's inputs: 0 the built-in hint, 1 the Hint input (after Hint Channel).
SELECT_BUILTIN, SELECT_INPUT = 0, 1

# The preview outputs: the keyed foreground over a checkerboard or a colour, in linear light.
PREVIEW_COLOUR = ColourSpec(
    name="preview_colour",
    label="Preview Colour",
    tooltip="The background of Output: Over colour (preview), linear.",
    default=(0.18, 0.18, 0.18),
)
CHECKER_SIZE = 32  # pixels per square
CHECKER_LIGHT = 0.38  # linear, about 0.65 on an sRGB display
CHECKER_DARK = 0.10  # linear, about 0.35
PREVIEW_BACKGROUND_NODE = "PreviewBackground"
PREVIEW_OVER_NODE = "PreviewOver"

# The nodes after the network (see the docstring).
NETWORK_NODE = "Inference1"
DESPILL_NODE = "Despill"
CLEAN_UP_NODE = "CleanUp"
# The gizmo knobs the clean-up node follows.
CLEAN_UP_FOLLOWS = (AUTO_DESPECKLE.name, DESPECKLE_SIZE.name)


def splits_clean_up(knobs: Sequence[KnobSpec]) -> bool:
    """Whether this build's gizmo runs despeckle in a clean-up node (its model has Clean-up Only)."""
    return any(k.name == CLEAN_UP_ONLY.name for k in knobs)


def network_held(knobs: Sequence[KnobSpec]) -> Dict[str, Any]:
    """The model knobs the network node holds instead of following the gizmo (a node after it applies them), with
    their held values: despill off; with a clean-up node, Auto Despeckle off, Despeckle Size at its default (unread
    then, and constant so that moving it changes nothing here) and Clean-up Only off."""
    names = {k.name for k in knobs}
    held: Dict[str, Any] = {DESPILL_STRENGTH.name: 0.0} if DESPILL_STRENGTH.name in names else {}
    if splits_clean_up(knobs):
        held.update({k.name: (0 if k.name == AUTO_DESPECKLE.name else k.default) for k in knobs
                     if k.name in CLEAN_UP_FOLLOWS + STAGE_KNOBS})
    return held


def clean_up_held(knobs: Sequence[KnobSpec]) -> Dict[str, Any]:
    """The model knobs the clean-up node holds: Clean-up Only on, despill off (the Despill node applies it) and the
    knobs it does not read at their defaults; it follows only CLEAN_UP_FOLLOWS."""
    fixed = {CLEAN_UP_ONLY.name: 1, DESPILL_STRENGTH.name: 0.0}
    return {k.name: fixed.get(k.name, k.default) for k in knobs if k.name not in CLEAN_UP_FOLLOWS}
