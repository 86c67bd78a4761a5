"""The self-test's shared facts: the shipped tiny model's names, the plates, the sample points, the knob settings
and the tolerances. Both sides read them: `exporter.lanes.selftest_model` makes the model and its expected outputs from
them, and the in-Nuke self-test (nuke_plugin.host.selftest_checks) builds the same plates from them and compares.

Plates are written in Nuke's pixel coordinates (x to the right, y up from the bottom row, integer pixel indices)
as one linear formula per channel, so the same numbers become Nuke Expression-node text and Python values. The
model is assumed to receive the image top row first (tensor row 0 = Nuke's top row y = height - 1).

Pure Python 3.9+: no Nuke, no torch.
"""
from __future__ import annotations

import os
from typing import Any, Dict, List, Sequence, Tuple

from .knob_spec import KNOBS, KnobSpec

MODEL_ID = "CorridorKeySelfTest"  # a node class of its own, so the user's CorridorKey is never touched
PT_NAME = MODEL_ID + ".pt"
MANIFEST_NAME = MODEL_ID + ".json"
CAT_NAME = MODEL_ID + ".cat"
GIZMO_NAME = MODEL_ID + ".gizmo"
EXPECTED_NAME = "expected.json"
DATA_FOLDER = "selftest_model"  # under nuke_plugin/, shipped with the plugin
RESOLUTION = 64  # the contract's smallest model resolution: keeps the file in kilobytes
REPORT_FORMAT = "corridorkey-nuke-selftest"
# Where the script run in Nuke writes its report when no argument ending in .json names it (the command-line
# self-test sets it, so the report may have any name).
REPORT_VARIABLE = "CORRIDORKEY_SELFTEST_REPORT"
# Set to "1" by the command-line self-test run with --gpu (Nuke started with --gpu): the GPU check then expects
# the Inference node on a GPU, and a fall-back to the CPU fails it.
GPU_VARIABLE = "CORRIDORKEY_SELFTEST_GPU"

WIDTH, HEIGHT = 36, 20  # 720 pixels, so Despeckle Size's default (400) can keep one island and remove another
# channel -> (constant, per x, per y); r, g, b, a (the alpha is the hint, kept within 0-1).
Formula = Tuple[float, float, float]
PLATES: Dict[str, Tuple[Formula, Formula, Formula, Formula]] = {
    "constant": ((0.25, 0.0, 0.0), (0.65, 0.0, 0.0), (0.3, 0.0, 0.0), (0.9, 0.0, 0.0)),
    # a matte island of about 420 pixels: kept by Auto Despeckle's default size
    "gradient": ((0.1, 0.02, 0.0), (0.8, 0.0, -0.02), (0.15, 0.01, 0.01), (0.2, 0.0228, 0.0)),
    # a corner island of about 290 pixels: removed by the default size, kept at size 0
    "corner": ((0.3, 0.01, -0.01), (0.7, -0.01, 0.0), (0.2, 0.0, 0.01), (0.0, 0.016, 0.023)),
}
SAMPLE_X = (0, 7, 17, 26, 35)
SAMPLE_Y = (0, 6, 13, 19)
SAMPLE_POINTS: Tuple[Tuple[int, int], ...] = tuple((x, y) for y in SAMPLE_Y for x in SAMPLE_X)
# The built-in hint is sampled everywhere: its eroded edge is where a kernel of another shape would show.
HINT_SAMPLE_POINTS: Tuple[Tuple[int, int], ...] = tuple((x, y) for y in range(HEIGHT) for x in range(WIDTH))

DEFAULT_SETTING = "default"
# fp32 on CPU or GPU plus Nuke's own colour maths and a 32-bit float EXR round trip.
PIXEL_TOLERANCE = 2e-3
# "Optimize for Speed and Memory" runs the network in fp16.
HALF_TOLERANCE = 3e-2
# A knob's stored effect must exceed this somewhere, so that matching it proves the knob reached the model.
CHANGE_MINIMUM = 1e-2


def data_dir(plugin_root: str) -> str:
    return os.path.join(plugin_root, "nuke_plugin", DATA_FOLDER)


def plate_value(plate: str, channel: int, x: int, y: int) -> float:
    c0, cx, cy = PLATES[plate][channel]
    return c0 + cx * x + cy * y


def plate_rows(plate: str) -> List[List[List[float]]]:
    """[channel][row][column] with row 0 the top of the image (Nuke's y = HEIGHT - 1)."""
    return [[[plate_value(plate, c, x, HEIGHT - 1 - row) for x in range(WIDTH)] for row in range(HEIGHT)]
            for c in range(4)]


def expression(plate: str, channel: int) -> str:
    """The Nuke Expression-node text for one channel of a plate."""
    c0, cx, cy = PLATES[plate][channel]
    return "%r+%r*x+%r*y" % (c0, cx, cy)


def max_difference(got: Any, want: Any) -> float:
    """The largest absolute difference between two trees of numbers (lists and dicts of them: a self-test
    report's samples, its stored expectations); a NaN, a missing key or a list of another length counts as
    infinitely far."""
    if isinstance(want, dict):
        if not isinstance(got, dict) or set(got) != set(want):
            return float("inf")
        return max([max_difference(got[k], want[k]) for k in want] or [0.0])
    if isinstance(want, (list, tuple)):
        if not isinstance(got, (list, tuple)) or len(got) != len(want):
            return float("inf")
        return max([max_difference(g, w) for g, w in zip(got, want)] or [0.0])
    try:
        diff = abs(float(got) - float(want))
    except (TypeError, ValueError, OverflowError):
        return float("inf")
    return diff if diff == diff else float("inf")


def settings(knobs: Sequence[KnobSpec] = KNOBS) -> List[Tuple[str, Dict[str, Any]]]:
    """(name, {knob: value}) for the defaults and for each knob alone at its far end."""
    defaults = {k.name: k.default for k in knobs}
    found = [(DEFAULT_SETTING, dict(defaults))]
    for knob in knobs:
        values = dict(defaults)
        values[knob.name] = knob.far_end()
        found.append((knob.name, values))
    return found
