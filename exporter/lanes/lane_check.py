"""Runs a saved .pt the way Nuke's libtorch would, under any torch from 1.12 on: the compatibility lanes' probe,
and the one home of the probe plates, their sizes and the tensor comparison that the export's validation, the
lanes, --verify-with and the C++ host's checks all use.

This file is run as a script by another Python (a venv holding the torch of one Nuke release), so it imports
only torch and the standard library and keeps to Python 3.9.

  PYTHON lane_check.py run MODEL.pt OUT.pt SETTINGS.json   outputs of MODEL on the fixed probes, per setting
  PYTHON lane_check.py ops OPS.json                         exit 1 and list the operators this torch lacks

OPS.json is portable_ops.json ({"sets": {name: {"torch": [...], "ops": [...]}}}: the sets that list this torch
are checked, the others only reported) or {"ops": [...]}.

SETTINGS.json is a list of {attribute: value} dicts; each is applied on top of the module's defaults.
OUT.pt holds {"torch": version, "outputs": [[tensor per probe] per setting]}.
"""
import json
import math
import sys
from typing import Any, Dict, List, Set

import torch

# Odd, non-square sizes: shape arithmetic that only works on even or square frames shows up here.
PROBE_SIZES = ((37, 53), (5, 3))


def probe_plate(height: int, width: int, seed: int = 0) -> torch.Tensor:
    """A deterministic [1, 4, H, W] plate from arithmetic only (no RNG, so every torch makes the same one):
    a green backing, a warm subject in the middle, a gradient, a few over-range values and a rough hint. `seed`
    shifts the ripple (the plate's grain) for a different plate of the same kind."""
    rows = torch.arange(height, dtype=torch.float32).view(height, 1).expand(height, width)
    cols = torch.arange(width, dtype=torch.float32).view(1, width).expand(height, width)
    ripple = 0.05 * torch.sin(rows * 0.7 + cols * 1.3 + 2.1 * seed)
    inside = ((rows - height / 2.0).abs() < height / 4.0 + 0.5) & ((cols - width / 2.0).abs() < width / 4.0 + 0.5)
    subject = inside.float()
    plate = torch.stack([
        0.10 + 0.45 * subject + ripple,
        0.75 - 0.25 * subject + ripple + 0.3 * cols / max(width - 1, 1),
        0.15 + 0.30 * subject - ripple,
        subject,
    ]).unsqueeze(0)
    plate[0, 0, 0, 0] = 4.0    # a highlight above 1
    plate[0, 1, -1, -1] = -0.2  # a negative value from a grade
    return plate.contiguous()


def _apply(module: Any, setting: Dict[str, Any], defaults: Dict[str, Any]) -> None:
    for name, value in defaults.items():
        setattr(module, name, value)
    for name, value in setting.items():
        setattr(module, name, value)


def run(model_path: str, settings: List[Dict[str, Any]]) -> List[List[torch.Tensor]]:
    """Outputs of the saved model for every setting on every probe, on the CPU in fp32."""
    module = torch.jit.load(model_path, map_location="cpu").eval()
    names: Set[str] = set()
    for setting in settings:
        names.update(setting)
    defaults = {name: getattr(module, name) for name in sorted(names)}
    outputs = []
    with torch.no_grad():
        for setting in settings:
            _apply(module, setting, defaults)
            outputs.append([module(probe_plate(h, w)) for h, w in PROBE_SIZES])
    _apply(module, {}, defaults)
    return outputs


def max_difference(a: List[List[torch.Tensor]], b: List[List[torch.Tensor]]) -> float:
    """The largest absolute difference between two `run` results (inf if their shapes differ)."""
    worst = 0.0
    if len(a) != len(b):
        return math.inf
    for row_a, row_b in zip(a, b):
        if len(row_a) != len(row_b):
            return math.inf
        for x, y in zip(row_a, row_b):
            if x.shape != y.shape:
                return math.inf
            worst = max(worst, float((x.float() - y.float()).abs().max()))
    return worst


def missing_operators(names: List[str]) -> List[str]:
    """Operators of `names` that this torch's TorchScript does not know."""
    return [name for name in names if not torch._C._jit_get_schemas_for_operator(name)]


def _version() -> str:
    return str(torch.__version__).split("+")[0]


def check_operator_sets(sets: Dict[str, Any]) -> int:
    """1 when a set that claims this torch names an operator it lacks (each listed); sets that do not claim it
    are reported with what keeps them out."""
    failed = 0
    for name, entry in sorted(sets.items()):
        missing = missing_operators(entry["ops"])
        label = "%s operators" % name if name else "operators"
        if _version() in entry["torch"]:
            failed += len(missing)
            for op in missing:
                print("torch %s lacks %s, which its %s claim" % (_version(), op, label))
        else:
            print("%s: not claimed for torch %s, which lacks %s" % (
                label, _version(), ", ".join(missing) if missing else "none of them (rerun --update-ops)"))
    return 1 if failed else 0


def main(argv: List[str]) -> int:
    if len(argv) == 4 and argv[0] == "run":
        with open(argv[3], "r", encoding="utf-8") as handle:
            settings = json.load(handle)
        torch.save({"torch": str(torch.__version__), "outputs": run(argv[1], settings)}, argv[2])
        return 0
    if len(argv) == 2 and argv[0] == "ops":
        with open(argv[1], "r", encoding="utf-8") as handle:
            data = json.load(handle)
        return check_operator_sets(data.get("sets", {"": {"torch": [_version()], "ops": data.get("ops", [])}}))
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
