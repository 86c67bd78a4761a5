"""The self-test's report and its pixel maths (pure Python: no Nuke, no torch, so it is testable anywhere).

Each check names the line of tests/fake_nuke/LIMITS.md it answers, so a report from a real Nuke can be read
against that file line by line. The expectations are the model's own outputs (expected.json); what the gizmo
shows is computed from them here with the gizmo's own maths (Colorspace sRGB -> linear, then Premult).
"""
from __future__ import annotations

import datetime
import json
import math
import os
import struct
from dataclasses import asdict, dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple

from .. import contract
from ..contract import node_graph, selftest
from ..contract.files import atomic_write, read_json
from .errors import CorridorKeyError, ManifestError
from .gizmo import OUTPUT_HINT, OUTPUT_OVER_CHECKERBOARD, OUTPUT_OVER_COLOUR
from .manifest import ModelManifest, read_manifest

PASS, FAIL, SKIPPED = "pass", "fail", "skipped"
REPORT_SIZE_LIMIT = 16 << 20    # a report is tens of kB
EXPECTED_SIZE_LIMIT = 16 << 20  # the shipped expectations are tens of kB
REINSTALL = ("The self-test's own model files ship with the plugin: reinstall the plugin folder (copy it again from "
             "the release, or check it out again) and run the self-test again.")


class SelfTestFileError(CorridorKeyError):
    """A report or a shipped self-test file cannot be read or written; the message names the file."""

# The assumptions of tests/fake_nuke/LIMITS.md ("What it cannot know about the real Nuke"), each by the words its
# line starts with (a test keeps them in step with the file).
LIBTORCH_LOADS = "Whether the real CatFileCreator accepts *this* `.pt`"
CREATE_CAT_FAILURE = "Whether the real `createCatFile` raises a Python exception or only shows a dialog"
RENDERING = "Rendering: no pixels flow"
CATALOGUE = "Knob catalogues are partial"
EXPRESSIONS = "Expressions other than `parent.<knob>`"
GIZMO_REREAD = "Whether Nuke re-reads a `.gizmo` that changed during the session"
PLUGIN_ADD_PATH = "`pluginAddPath` running the folder's `init.py`"
ENUM_LINK = "Whether an expression-driven Enumeration custom knob follows its gizmo knob"
SCRIPT_MODE = "Whether `-i` runs a script and exits"
PROGRESS_CANCEL = "How `ProgressTask` cancels"
MODEL_FILE = "How a saved `modelFile` string is read"
ORIENTATION = "Which way up the Inference node hands the image to the model"
ADD_COMMAND = "Real `addCommand` may replace an item of the same name"
ASSERT_ERRORS = "Whether an Assert node whose expression is 0 stops a render"
TCL_VERSION = "What Nuke's Tcl variables `$nuke_version_major` and `$nuke_version` hold"
GPU_NAME = "What the Inference node's `gpuName` knob shows"
DILATE = "What Nuke's Dilate (\"Erode (fast)\") computes"
INPUT_EXISTS = "Whether `[exists parent.input1]` in an expression"
SERIALISED_VALUE = "Whether a plain value in `serialiseKnob`"
ASSUMPTIONS = (LIBTORCH_LOADS, CREATE_CAT_FAILURE, RENDERING, CATALOGUE, EXPRESSIONS, GIZMO_REREAD, PLUGIN_ADD_PATH,
               ADD_COMMAND, MODEL_FILE, ENUM_LINK, SCRIPT_MODE, PROGRESS_CANCEL, ORIENTATION, ASSERT_ERRORS,
               TCL_VERSION, GPU_NAME, DILATE, INPUT_EXISTS,
               SERIALISED_VALUE)
# What an Inference node's gpuName says when it found no GPU (lower case); an empty text says the same.
NO_GPU_WORDS = ("not available", "none", "no gpu", "cpu")


@dataclass
class Check:
    name: str
    status: str
    detail: str
    verifies: Sequence[str] = ()
    figures: Dict[str, Any] = field(default_factory=dict)


@dataclass
class Report:
    environment: Dict[str, Any]
    checks: List[Check] = field(default_factory=list)
    cleanup: Dict[str, Any] = field(default_factory=dict)
    created_utc: str = field(default_factory=lambda: datetime.datetime.now(datetime.timezone.utc)
                             .strftime("%Y-%m-%dT%H:%M:%SZ"))

    def add(self, name: str, status: str, detail: str, verifies: Sequence[str] = (),
            figures: Optional[Dict[str, Any]] = None) -> Check:
        check = Check(name, status, detail, tuple(verifies), dict(figures or {}))
        self.checks.append(check)
        return check

    def counts(self) -> Dict[str, int]:
        return {status: sum(1 for c in self.checks if c.status == status) for status in (PASS, FAIL, SKIPPED)}

    @property
    def ok(self) -> bool:
        return self.counts()[FAIL] == 0

    def as_dict(self) -> Dict[str, Any]:
        return {"format": selftest.REPORT_FORMAT, "plugin_version": contract.VERSION, "created_utc": self.created_utc,
                "ok": self.ok, "counts": self.counts(), "environment": self.environment,
                "checks": [dict(asdict(c), verifies=list(c.verifies)) for c in self.checks],
                "cleanup": self.cleanup}

    def write(self, path: str) -> str:
        folder = os.path.dirname(os.path.abspath(path))
        os.makedirs(folder, exist_ok=True)
        return atomic_write(path, json.dumps(self.as_dict(), indent=2, default=str) + "\n")

    def summary(self) -> str:
        """The dialog's text: the verdict, the Nuke, every failure, the reasons for skipping, what passed."""
        counts = self.counts()
        env = self.environment
        lines = ["CorridorKey self-test: %s (%d passed, %d failed, %d skipped)"
                 % ("OK" if self.ok else "FAILED", counts[PASS], counts[FAIL], counts[SKIPPED]),
                 "%s %s, Python %s" % (env.get("edition", "?"), env.get("nuke_version", "?"),
                                       str(env.get("python", "?")).split()[0])]
        lines += ["FAILED %s: %s" % (c.name, c.detail.splitlines()[0] if c.detail else "")
                  for c in self.checks if c.status == FAIL]
        reasons: Dict[str, List[str]] = {}
        for check in self.checks:
            if check.status == SKIPPED:
                reasons.setdefault(check.detail, []).append(check.name)
        lines += ["skipped %s: %s" % (", ".join(names) if len(names) <= 3 else "%d checks (%s ... %s)"
                                      % (len(names), names[0], names[-1]), reason) for reason, names in reasons.items()]
        passed = [c.name for c in self.checks if c.status == PASS]
        if passed:
            lines.append("passed: " + ", ".join(passed))
        return "\n".join(lines)


def gpu_verdict(gpu_name: Optional[str], requested: bool) -> Tuple[str, str]:
    """(status, detail) of the GPU check from the Inference node's gpuName knob. `requested`: Nuke was started with
    --gpu (the command-line self-test's --gpu), so a fall-back to the CPU fails the check."""
    if gpu_name is None:
        return (FAIL if requested else SKIPPED,
                "this Nuke's Inference node has no gpuName knob, so the GPU it uses cannot be read")
    found = gpu_name.strip() and not any(w in gpu_name.lower() for w in NO_GPU_WORDS)
    if found and requested:
        return PASS, "Inference used the GPU %s (Nuke started with --gpu)" % gpu_name.strip()
    if found:
        return PASS, ("Inference shows the GPU %s; a command-line render uses it only when Nuke starts with --gpu"
                      % gpu_name.strip())
    if requested:
        return FAIL, ("Inference fell back to the CPU although Nuke started with --gpu (gpuName %r): check the "
                      "NVIDIA driver and that Nuke sees the card (Preferences > Performance > Hardware)" % gpu_name)
    return PASS, "Inference renders on the CPU here (gpuName %r): no GPU that Nuke can use" % gpu_name


def read_report(path: str) -> Dict[str, Any]:
    """A report file as written by Report.write; SelfTestFileError names the file and what is wrong with it."""
    try:
        data = read_json(path, REPORT_SIZE_LIMIT)
    except (OSError, ValueError) as exc:
        raise SelfTestFileError("the self-test report %s cannot be read (%s)" % (path, exc))
    if not isinstance(data, dict) or data.get("format") != selftest.REPORT_FORMAT or not isinstance(
            data.get("checks"), list) or not all(isinstance(c, dict) for c in data["checks"]):
        raise SelfTestFileError("%s is not a CorridorKey self-test report" % path)
    return data


def add_check_to_file(path: str, check: Check) -> Dict[str, Any]:
    """Adds a check made outside Nuke (how Nuke ran the script) to a report file; returns the new report.
    Raises SelfTestFileError (the file is named) when it cannot be read or written."""
    data = read_report(path)
    data["checks"].append(dict(asdict(check), verifies=list(check.verifies)))
    statuses = [c.get("status") for c in data["checks"]]
    data["counts"] = {status: statuses.count(status) for status in (PASS, FAIL, SKIPPED)}
    data["ok"] = data["counts"][FAIL] == 0
    try:
        atomic_write(path, json.dumps(data, indent=2, default=str) + "\n")
    except OSError as exc:
        raise SelfTestFileError("the self-test report %s cannot be written (%s)" % (path, exc.strerror or exc))
    return data


def default_report_path(folder: Optional[str] = None) -> str:
    import tempfile

    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    return os.path.join(folder or tempfile.gettempdir(), "corridorkey-selftest-%s.json" % stamp)


def load_expected(data_dir: str, knob_names: Sequence[str] = ()) -> Dict[str, Any]:
    """The shipped expectations, checked for the shape the pixel checks read (a value for every sample point of
    every plate, for the defaults and each knob). SelfTestFileError names the file and says to reinstall."""
    path = os.path.join(data_dir, selftest.EXPECTED_NAME)
    try:
        data = read_json(path, EXPECTED_SIZE_LIMIT)
    except (OSError, ValueError) as exc:
        raise SelfTestFileError("%s cannot be read (%s). %s" % (path, exc, REINSTALL))
    outputs = data.get("outputs") if isinstance(data, dict) else None
    names = [selftest.DEFAULT_SETTING] + list(knob_names)
    if not isinstance(outputs, dict) or not all(_sampled(outputs.get(name)) for name in names):
        raise SelfTestFileError("%s is not the self-test's expectations (outputs for %s, each with %d pixels per "
                                "plate). %s" % (path, ", ".join(names), len(selftest.SAMPLE_POINTS), REINSTALL))
    return data


def _sampled(plates: Any) -> bool:
    """{plate: [[r, g, b, a] per sample point]} with finite numbers."""
    if not isinstance(plates, dict):
        return False
    for plate in selftest.PLATES:
        pixels = plates.get(plate)
        if not isinstance(pixels, list) or len(pixels) != len(selftest.SAMPLE_POINTS):
            return False
        for pixel in pixels:
            if not isinstance(pixel, list) or len(pixel) != 4 or not all(
                    isinstance(v, (int, float)) and not isinstance(v, bool) and v == v and abs(v) < 1e30
                    for v in pixel):
                return False
    return True


def load_shipped_model(data_dir: str) -> Tuple[ModelManifest, Dict[str, Any]]:
    """The self-test model shipped in the plugin folder: its manifest (its .pt checked against it) and its expected
    outputs. Any problem is the plugin folder's, so the message names the file and says to reinstall it."""
    try:
        manifest = read_manifest(os.path.join(data_dir, selftest.MANIFEST_NAME), remedy=REINSTALL)
        manifest.verify_model_file()
    except ManifestError as exc:
        raise SelfTestFileError(str(exc))
    return manifest, load_expected(data_dir, [k.name for k in manifest.knobs])


def srgb_to_linear(value: float) -> float:
    """Nuke's Colorspace sRGB -> linear (IEC 61966-2-1); its linear segment carries on below zero."""
    if value <= 0.04045:
        return value / 12.92
    return ((value + 0.055) / 1.055) ** 2.4


def preview_background(x: int, y: int, output_mode: int,
                       colour: Sequence[float] = node_graph.PREVIEW_COLOUR.default) -> List[float]:
    """PreviewBackground at pixel (x, y): the Preview Colour, or the checkerboard (light square at the origin)."""
    if output_mode == OUTPUT_OVER_COLOUR:
        return list(colour)
    square = node_graph.CHECKER_SIZE
    light = (math.floor(x / square) + math.floor(y / square)) % 2 < 1
    return [node_graph.CHECKER_LIGHT if light else node_graph.CHECKER_DARK] * 3


def gizmo_pixel(model_rgba: Sequence[float], output_mode: int = 0, x: int = 0, y: int = 0,
                preview_colour: Sequence[float] = node_graph.PREVIEW_COLOUR.default) -> List[float]:
    """What the gizmo outputs at pixel (x, y) for the model's pixel there: 0 premultiplied linear, 1 straight
    linear, 2 matte, 4 and 5 the preview over the checkerboard or the Preview Colour (Merge over: A + B (1 - a)).
    Output 3 (the hint) does not come from the model: see builtin_hint_rows."""
    r, g, b, a = model_rgba
    linear = [srgb_to_linear(c) for c in (r, g, b)]
    if output_mode == 0:
        return [c * a for c in linear] + [a]
    if output_mode == 1:
        return linear + [a]
    if output_mode in (OUTPUT_OVER_CHECKERBOARD, OUTPUT_OVER_COLOUR):
        background = preview_background(x, y, output_mode, preview_colour)
        return [c * a + bg * (1.0 - a) for c, bg in zip(linear, background)] + [a + (1.0 - a)]
    if output_mode == OUTPUT_HINT:
        raise ValueError("the hint output does not come from the model's pixels")
    return [a, a, a, a]


def _float32(value: float) -> float:
    """The value as a 32-bit float image holds it (the plates reach the key as Nuke's float pixels)."""
    return float(struct.unpack("f", struct.pack("f", value))[0])


def hint_key(rgb: Sequence[float], backing: Sequence[float] = node_graph.HINT_BACKING.default) -> float:
    """HintKey on one pixel (contract/node_graph.py): 1 where the larger of the pixel's two other channels reaches
    the backing's own such ratio ** KEY_EXPONENT of its value in the backing's dominant channel."""
    r, g, b = backing
    dominant = 1 if g >= max(r, b) else (2 if b >= r else 0)
    others = [i for i in range(3) if i != dominant]
    limit = (max(backing[others[0]], backing[others[1]]) / max(backing[dominant], node_graph.BACKING_FLOOR)
             ) ** node_graph.KEY_EXPONENT
    return 1.0 if max(rgb[others[0]], rgb[others[1]]) > limit * rgb[dominant] else 0.0


def dilate_rows(rows: List[List[float]], size: float) -> List[List[float]]:
    """Nuke's Dilate on [row][column]: min (size < 0) or max over a square of 2 * int(|size| + 0.5) + 1 pixels, the
    image's edge repeated beyond it."""
    radius = int(abs(size) + 0.5)
    pick = min if size < 0 else max
    height, width = len(rows), len(rows[0])
    across = [[pick(row[min(max(c + d, 0), width - 1)] for d in range(-radius, radius + 1)) for c in range(width)]
              for row in rows]
    return [[pick(across[min(max(r + d, 0), height - 1)][c] for d in range(-radius, radius + 1))
             for c in range(width)] for r in range(height)]


def builtin_hint_rows(plate: str, backing: Sequence[float] = node_graph.HINT_BACKING.default,
                      erode: int = node_graph.HINT_ERODE.default) -> List[List[float]]:
    """The built-in hint of a self-test plate, [row][column] with row 0 the top: HintKey, then HintErode."""
    channels = selftest.plate_rows(plate)
    keyed = [[hint_key([_float32(channels[c][row][col]) for c in range(3)], backing)
              for col in range(selftest.WIDTH)] for row in range(selftest.HEIGHT)]
    return dilate_rows(keyed, -erode)


def hint_pixels(rows: List[List[float]], points: Sequence[Tuple[int, int]] = selftest.HINT_SAMPLE_POINTS
                ) -> List[List[float]]:
    """Output: Hint's alpha at Nuke's (x, y) points, one value per point."""
    return [[rows[selftest.HEIGHT - 1 - y][x]] for x, y in points]


def plate_pixels(plate: str) -> List[List[float]]:
    """The plate's own values at the sample points (what the Expression node should make)."""
    return [[selftest.plate_value(plate, c, x, y) for c in range(4)] for x, y in selftest.SAMPLE_POINTS]
