"""Which Nuke releases can load a build: its operators against those proven in each Nuke's torch, and real loads.

A .pt fails in an older Nuke when it names an operator that Nuke's libtorch does not know. `portable_ops.json`
lists, for each operator set (torch_targets.OPERATOR_SETS), every operator a build of that set uses and the
torches proven (by `tools/compat.sh`, which checks them in every lane) to know each of them. A build is compatible
with a torch when every operator it uses is proven there; an operator no set lists limits it to the torch that
wrote it, and the manifest says so. `verify_in` goes further: it loads the saved file in another Python's torch,
runs it on the fixed probes with every knob set, and compares with this torch.

  .venv/bin/python -m exporter.lanes.portability update portable=A.pt fused=B.pt LANE_PYTHON...
      rewrite portable_ops.json from each build's operators and the lanes that know all of them (a lane whose
      Nuke gets that set must know them all)
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from typing import Any, Dict, Iterable, List, Optional, Sequence

import torch

from nuke_plugin.contract.files import atomic_write, read_json
from nuke_plugin.contract.knob_spec import KNOBS
from nuke_plugin.contract.torch_targets import (
    CROSS_TORCH_TOLERANCE,
    OPERATOR_SETS,
    PORTABLE,
    SUPPORTED_TARGETS,
    release,
    version_tuple,
)

from ..errors import ExportError
from ..safe_load import load_tensors
from . import lane_check

OPS_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "portable_ops.json")
LANE_CHECK_SCRIPT = os.path.abspath(lane_check.__file__)
LANE_TIMEOUT_S = 1800.0
# Asked of every --verify-with Python before the export: importing torch on a cold disk takes seconds, never this.
PROBE_TIMEOUT_S = 90.0
_PROBE_MARK = "CORRIDORKEY_LANE_TORCH "
_PROBE = "import torch; print(%r + torch.__version__)" % _PROBE_MARK


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


def _by_version(versions: Iterable[str]) -> List[str]:
    return sorted(set(versions), key=version_tuple)


def own_version() -> str:
    return release(torch.__version__)


def compatible_torch(module: torch.jit.ScriptModule, proven: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    """{"torch": [versions this build loads in], "unproven_ops": [...]}; the exporting torch is always listed.

    A torch is listed when every operator of the build belongs to a set proven in that torch."""
    proven = load_proven() if proven is None else proven
    used = set(operators(module))
    sets = proven["sets"].values()
    unproven = sorted(used - {op for entry in sets for op in entry["ops"]})
    versions = [version for version in _by_version(v for entry in sets for v in entry["torch"])
                if used <= {op for entry in sets if version in entry["torch"] for op in entry["ops"]}]
    if own_version() not in versions:
        versions.append(own_version())
    return {"torch": versions, "unproven_ops": unproven}


def knob_settings(knobs: Iterable[Any]) -> List[Dict[str, Any]]:
    """Defaults, each knob alone at its far end, then all of them together: proves every knob is live there."""
    changes = {knob.name: knob.far_end() for knob in knobs}
    return [{}] + [{name: value} for name, value in changes.items()] + [dict(changes)]


def check_lane_python(python: str, timeout: float = PROBE_TIMEOUT_S) -> str:
    """The torch version of a --verify-with interpreter, asked before the export (which takes minutes to hours):
    ExportError says what is wrong when it does not exist, is a folder, is no Python, has no torch or hangs."""
    where = "--verify-with %s" % python
    if not os.path.exists(python):
        raise ExportError("%s: no such file. Give the python of an environment holding the torch of a Nuke release "
                          "(e.g. ENV/bin/python)." % where)
    if os.path.isdir(python):
        raise ExportError("%s is a folder. Give the python inside it (e.g. %s)."
                          % (where, os.path.join(python, "Scripts" if os.name == "nt" else "bin", "python")))
    if not os.access(python, os.X_OK):
        raise ExportError("%s is not an executable file. Give the python of an environment with torch." % where)
    try:
        proc = subprocess.run([python, "-c", _PROBE], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              stdin=subprocess.DEVNULL, timeout=timeout, universal_newlines=True, errors="replace")
    except subprocess.TimeoutExpired:
        raise ExportError("%s did not answer within %.0f s (importing torch hung). Check that it runs from a "
                          "terminal: %s -c \"import torch\"" % (where, timeout, python))
    except OSError as exc:
        raise ExportError("%s cannot be run (%s)." % (where, exc.strerror or exc))
    for line in proc.stdout.splitlines():
        if line.startswith(_PROBE_MARK):
            return release(line[len(_PROBE_MARK):])
    said = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-3:])
    if "No module named" in said and "torch" in said:
        raise ExportError("%s has no torch: give the python of an environment holding the torch of a Nuke release "
                          "(Set up in Build Model makes one)." % where)
    raise ExportError("%s is not a Python that can load torch (exit status %s%s)."
                      % (where, proc.returncode, ": " + said if said else ", no output"))


def _run_lane(python: str, model_path: str, settings: List[Dict[str, Any]], folder: str) -> Dict[str, Any]:
    """The lane's outputs; every way it can fail is an ExportError that names the interpreter and says why."""
    settings_path = atomic_write(os.path.join(folder, "settings.json"), json.dumps(settings))
    out_path = os.path.join(folder, "outputs.pt")
    failed = "The saved model could not be checked under %s: " % python
    try:
        proc = subprocess.run([python, LANE_CHECK_SCRIPT, "run", model_path, out_path, settings_path],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                              timeout=LANE_TIMEOUT_S, universal_newlines=True, errors="replace")
    except subprocess.TimeoutExpired:
        raise ExportError(failed + "it did not finish within %.0f s and was stopped." % LANE_TIMEOUT_S)
    except OSError as exc:
        raise ExportError(failed + "it cannot be run (%s)." % (exc.strerror or exc))
    if proc.returncode != 0:
        tail = "\n".join(proc.stdout.strip().splitlines()[-5:])
        raise ExportError("The saved model does not run under %s:\n%s" % (python, tail))
    try:
        result = load_tensors(out_path)
        if not isinstance(result, dict) or "torch" not in result or not isinstance(result.get("outputs"), list):
            raise ValueError("no torch version and outputs in it")
    except Exception as exc:  # a file from another process: anything it holds is its problem, not a bug here
        raise ExportError(failed + "it ended without writing its outputs (%s)." % exc)
    return result


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

    Raises ExportError when a torch cannot load or run it, or disagrees by more than CROSS_TORCH_TOLERANCE.
    """
    settings = knob_settings(knobs)
    reference = lane_check.run(model_path, settings) if expected is None else expected
    figures: Dict[str, float] = {}
    for python in pythons:
        with tempfile.TemporaryDirectory(prefix="corridorkey-lane-") as folder:
            result = _run_lane(python, model_path, settings, folder)
        version = release(result["torch"])
        try:
            error = lane_check.max_difference(reference, result["outputs"])
        except Exception as exc:  # outputs of another shape or kind than this torch's
            raise ExportError("torch %s (%s) runs the saved model but its outputs cannot be compared with torch %s's "
                              "(%s)." % (version, python, torch.__version__, exc))
        if not error <= CROSS_TORCH_TOLERANCE:
            raise ExportError("torch %s (%s) runs the saved model but differs from torch %s by %.3g "
                              "(tolerance %.0e)." % (version, python, torch.__version__, error, CROSS_TORCH_TOLERANCE))
        figures[version] = error
    return figures


def _lane_knows(python: str, ops: Sequence[str], folder: str) -> str:
    """'' when the lane's torch knows every operator, else its list of what it lacks."""
    ops_path = atomic_write(os.path.join(folder, "ops.json"), json.dumps({"ops": list(ops)}))
    proc = subprocess.run([python, LANE_CHECK_SCRIPT, "ops", ops_path], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, universal_newlines=True, timeout=LANE_TIMEOUT_S)
    return "" if proc.returncode == 0 else (proc.stdout.strip() or "exit status %d" % proc.returncode)


def required_torches(operator_set: str) -> List[str]:
    """The torches that must know a set: those of the Nukes whose builds use it (the portable set: every Nuke,
    since a build without a target must load in all of them)."""
    return [t.torch for t in SUPPORTED_TARGETS if operator_set == PORTABLE or t.operators == operator_set]


def update(models: Dict[str, str], lane_pythons: Sequence[str]) -> Dict[str, Any]:
    """Writes OPS_FILE: for each operator set, a build's operators and the lanes (plus this torch) that know every
    one of them. Raises ExportError when a lane whose Nuke gets that set lacks any."""
    unknown = sorted(set(models) - set(OPERATOR_SETS))
    missing = sorted(set(OPERATOR_SETS) - set(models))
    if unknown or missing:
        raise ExportError("update needs one build per operator set (%s): unknown %s, missing %s"
                          % (", ".join(OPERATOR_SETS), unknown or "none", missing or "none"))
    sets: Dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="corridorkey-ops-") as folder:
        versions = {python: check_lane_python(python) for python in lane_pythons}
        for name in OPERATOR_SETS:
            ops = operators(torch.jit.load(models[name], map_location="cpu"))
            knows = [own_version()]
            for python, version in versions.items():
                lacking = _lane_knows(python, ops, folder)
                if not lacking:
                    knows.append(version)
                elif version in required_torches(name):
                    raise ExportError("%s (torch %s) must load %s builds but cannot take these operators:\n%s"
                                      % (python, version, name, lacking))
            sets[name] = {"torch": _by_version(knows), "ops": ops}
    proven = {"sets": sets}
    atomic_write(OPS_FILE, json.dumps(proven, indent=1) + "\n")
    return proven


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    models = dict(arg.split("=", 1) for arg in args[1:] if "=" in arg)
    lanes = [arg for arg in args[1:] if "=" not in arg]
    if not args or args[0] != "update" or not models or not lanes:
        sys.stderr.write(__doc__ + "\n")
        return 2
    try:
        proven = update(models, lanes)
    except ExportError as exc:
        sys.stderr.write("%s\n" % exc)
        return 1
    for name, entry in proven["sets"].items():
        print("%s: %s, %d operators, proven in torch %s" % (OPS_FILE, name, len(entry["ops"]),
                                                          ", ".join(entry["torch"])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
