"""The self-test's report and its pixel maths (pure Python: no Nuke, no torch, so it is testable anywhere).

Each check names the line of tests/fake_nuke/LIMITS.md it answers, so a report from a real Nuke can be read
against that file line by line. The expectations are the model's own outputs (expected.json); what the gizmo
shows is computed from them here with the gizmo's own maths (Colorspace sRGB -> linear, then Premult).
"""
from __future__ import annotations

import datetime
import json
import os
from dataclasses import asdict, dataclass, field
from typing import Any, Dict, List, Optional, Sequence

from .. import contract
from ..contract import selftest
from ..contract.files import atomic_write

PASS, FAIL, SKIPPED = "pass", "fail", "skipped"

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
ASSUMPTIONS = (LIBTORCH_LOADS, CREATE_CAT_FAILURE, RENDERING, CATALOGUE, EXPRESSIONS, GIZMO_REREAD, PLUGIN_ADD_PATH,
               ADD_COMMAND, MODEL_FILE, ENUM_LINK, SCRIPT_MODE, PROGRESS_CANCEL, ORIENTATION)


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


def add_check_to_file(path: str, check: Check) -> Dict[str, Any]:
    """Adds a check made outside Nuke (how Nuke ran the script) to a report file; returns the new report."""
    with open(path, "r", encoding="utf-8") as handle:
        data = json.load(handle)
    data["checks"].append(dict(asdict(check), verifies=list(check.verifies)))
    statuses = [c["status"] for c in data["checks"]]
    data["counts"] = {status: statuses.count(status) for status in (PASS, FAIL, SKIPPED)}
    data["ok"] = data["counts"][FAIL] == 0
    atomic_write(path, json.dumps(data, indent=2, default=str) + "\n")
    return data


def default_report_path(folder: Optional[str] = None) -> str:
    import tempfile

    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    return os.path.join(folder or tempfile.gettempdir(), "corridorkey-selftest-%s.json" % stamp)


def load_expected(data_dir: str) -> Dict[str, Any]:
    with open(os.path.join(data_dir, selftest.EXPECTED_NAME), "r", encoding="utf-8") as handle:
        return json.load(handle)


def srgb_to_linear(value: float) -> float:
    """Nuke's Colorspace sRGB -> linear (IEC 61966-2-1); its linear segment carries on below zero."""
    if value <= 0.04045:
        return value / 12.92
    return ((value + 0.055) / 1.055) ** 2.4


def gizmo_pixel(model_rgba: Sequence[float], output_mode: int = 0) -> List[float]:
    """What the gizmo outputs for one pixel of the model: 0 premultiplied linear, 1 straight linear, 2 matte."""
    r, g, b, a = model_rgba
    linear = [srgb_to_linear(c) for c in (r, g, b)]
    if output_mode == 0:
        return [c * a for c in linear] + [a]
    if output_mode == 1:
        return linear + [a]
    return [a, a, a, a]


def plate_pixels(plate: str) -> List[List[float]]:
    """The plate's own values at the sample points (what the Expression node should make)."""
    return [[selftest.plate_value(plate, c, x, y) for c in range(4)] for x, y in selftest.SAMPLE_POINTS]


def max_difference(got: Sequence[Sequence[float]], want: Sequence[Sequence[float]]) -> float:
    """Largest absolute difference; NaN or a missing value counts as infinitely far."""
    if len(got) != len(want):
        return float("inf")
    worst = 0.0
    for a, b in zip(got, want):
        if len(a) != len(b):
            return float("inf")
        for p, q in zip(a, b):
            diff = abs(float(p) - float(q))
            if diff != diff:
                return float("inf")
            worst = max(worst, diff)
    return worst
