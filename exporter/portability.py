"""Which Nuke releases can load a build: its operators against those proven in every Nuke's torch, and real loads.

A .pt fails in an older Nuke when it names an operator that Nuke's libtorch does not know. `portable_ops.json`
lists every operator the exporter's module uses, each proven (by `tools/compat.sh`, which reads it in every
lane) to exist in the torch of each supported Nuke. A build whose operators all appear there is compatible with
all of those torches; one that uses any other operator is compatible only with the torch that wrote it, and the
manifest says so. `verify_in` goes further: it loads the saved file in another Python's torch, runs it on the
fixed probes with every knob set, and compares with this torch.

  .venv/bin/python -m exporter.portability update MODEL.pt LANE_PYTHON...   rewrite portable_ops.json from MODEL's ops,
                                                                             after every lane has confirmed each one
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from typing import Any, Dict, Iterable, List, Optional, Sequence

import torch

from nuke_plugin.contract.files import read_json
from nuke_plugin.contract.knob_spec import KNOBS

from . import lane_check
from .errors import ExportError
from .safe_load import load_tensors

OPS_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "portable_ops.json")
LANE_CHECK_SCRIPT = os.path.abspath(lane_check.__file__)
# fp32 outputs of one file in two torches: the same kernels, so only summation order may differ.
TOLERANCE = 1e-5
LANE_TIMEOUT_S = 1800.0


def operators(module: torch.jit.ScriptModule) -> List[str]:
    """Every `aten::` operator a scripted module's forward can call, branches and submodules included."""
    found = set()

    def walk(block: Any) -> None:
        for node in block.nodes():
            if node.kind().startswith("aten::"):
                found.add(node.kind())
            for inner in node.blocks():
                walk(inner)

    walk(module.inlined_graph)
    return sorted(found)


def load_proven(path: str = OPS_FILE) -> Dict[str, Any]:
    return read_json(path, 1 << 20)


def compatible_torch(module: torch.jit.ScriptModule, proven: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    """{"torch": [versions this build loads in], "unproven_ops": [...]}; the exporting torch is always listed."""
    proven = load_proven() if proven is None else proven
    unproven = sorted(set(operators(module)) - set(proven["ops"]))
    versions = [] if unproven else list(proven["torch"])
    own = torch.__version__.split("+")[0]
    if own not in versions:
        versions.append(own)
    return {"torch": versions, "unproven_ops": unproven}


def knob_settings(knobs: Iterable[Any]) -> List[Dict[str, Any]]:
    """Defaults, each knob alone at its far end, then all of them together: proves every knob is live there."""
    changes = {knob.name: knob.clamp(knob.high if knob.default == knob.low else knob.low) for knob in knobs}
    return [{}] + [{name: value} for name, value in changes.items()] + [dict(changes)]


def _run_lane(python: str, model_path: str, settings: List[Dict[str, Any]], folder: str) -> Dict[str, Any]:
    settings_path = os.path.join(folder, "settings.json")
    out_path = os.path.join(folder, "outputs.pt")
    with open(settings_path, "w", encoding="utf-8") as handle:
        json.dump(settings, handle)
    proc = subprocess.run([python, LANE_CHECK_SCRIPT, "run", model_path, out_path, settings_path],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                          timeout=LANE_TIMEOUT_S, universal_newlines=True)
    if proc.returncode != 0:
        tail = "\n".join(proc.stdout.strip().splitlines()[-5:])
        raise ExportError("The saved model does not run under %s:\n%s" % (python, tail))
    return load_tensors(out_path)


def lane_outputs(model_path: str, knobs: Iterable[Any]) -> List[List[torch.Tensor]]:
    """This torch's outputs of the saved model on the lane probes at every knob setting: what the others match."""
    return lane_check.run(model_path, knob_settings(knobs))


def verify_passes(pythons: int) -> int:
    """Full forward passes `verify_in` costs for that many other Pythons (this torch's outputs included)."""
    return (pythons + 1) * len(knob_settings(KNOBS)) * len(lane_check.PROBE_SIZES) if pythons else 0


def verify_in(model_path: str, pythons: Sequence[str], knobs: Iterable[Any],
              expected: Optional[List[List[torch.Tensor]]] = None) -> Dict[str, float]:
    """Loads the file in each Python's torch and compares its outputs with this torch's: {version: max diff}.
    `expected` is `lane_outputs` when the caller already has it.

    Raises ExportError when a torch cannot load or run it, or disagrees by more than TOLERANCE.
    """
    settings = knob_settings(knobs)
    reference = lane_check.run(model_path, settings) if expected is None else expected
    figures: Dict[str, float] = {}
    for python in pythons:
        with tempfile.TemporaryDirectory(prefix="corridorkey-lane-") as folder:
            result = _run_lane(python, model_path, settings, folder)
        version = str(result["torch"]).split("+")[0]
        error = lane_check.max_difference(reference, result["outputs"])
        if not error <= TOLERANCE:
            raise ExportError("torch %s (%s) runs the saved model but differs from torch %s by %.3g "
                              "(tolerance %.0e)." % (version, python, torch.__version__, error, TOLERANCE))
        figures[version] = error
    return figures


def update(model_path: str, lane_pythons: Sequence[str]) -> Dict[str, Any]:
    """Writes OPS_FILE from a saved model's operators once every lane confirms it has each of them."""
    ops = operators(torch.jit.load(model_path, map_location="cpu"))
    versions = [torch.__version__.split("+")[0]]
    with tempfile.TemporaryDirectory(prefix="corridorkey-ops-") as folder:
        ops_path = os.path.join(folder, "ops.json")
        with open(ops_path, "w", encoding="utf-8") as handle:
            json.dump({"ops": ops}, handle)
        for python in lane_pythons:
            proc = subprocess.run([python, LANE_CHECK_SCRIPT, "ops", ops_path], stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, universal_newlines=True, timeout=LANE_TIMEOUT_S)
            if proc.returncode != 0:
                raise ExportError("%s cannot take these operators:\n%s" % (python, proc.stdout.strip()))
            version = subprocess.run([python, "-c", "import torch; print(torch.__version__)"],
                                     stdout=subprocess.PIPE, universal_newlines=True, check=True).stdout
            versions.append(version.strip().split("+")[0])
    proven = {"torch": sorted(set(versions), key=lambda v: [int(p) for p in v.split(".")]), "ops": ops}
    with open(OPS_FILE, "w", encoding="utf-8") as handle:
        json.dump(proven, handle, indent=1)
        handle.write("\n")
    return proven


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) < 3 or args[0] != "update":
        sys.stderr.write(__doc__ + "\n")
        return 2
    proven = update(args[1], args[2:])
    print("%s: %d operators, proven in torch %s" % (OPS_FILE, len(proven["ops"]), ", ".join(proven["torch"])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
