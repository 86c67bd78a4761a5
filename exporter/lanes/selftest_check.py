"""Runs the shipped self-test model the way Nuke's libtorch would and compares it with its stored expectations.

Imports only torch and nuke_plugin.contract, and keeps to Python 3.9, so every torch lane (the torch of each
Nuke release, 1.12 on) runs it as it is: `tools/compat.sh` does, and so can a TD.

  PYTHON -m exporter.lanes.selftest_check [MODEL.pt [EXPECTED.json]]     (run from the repository root)

Exit 0 when every stored output is matched within the tolerance, 1 otherwise; it prints the largest difference.
"""
from __future__ import annotations

import os
import sys
from typing import Any, Dict, List, Optional, Sequence

import torch

from nuke_plugin.contract import selftest
from nuke_plugin.contract.files import read_json
from nuke_plugin.contract.selftest import max_difference
from nuke_plugin.contract.torch_targets import CROSS_TORCH_TOLERANCE

# exporter/lanes/ -> the repository (or plugin) root, which holds nuke_plugin/selftest_model/
DATA_DIR = selftest.data_dir(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def plate_tensor(plate: str) -> torch.Tensor:
    """[1, 4, HEIGHT, WIDTH], top row first, as the Inference node hands a plate to the model."""
    return torch.tensor(selftest.plate_rows(plate), dtype=torch.float32).unsqueeze(0)


def run(module: Any) -> Dict[str, Dict[str, List[List[float]]]]:
    """{setting: {plate: [[r, g, b, a] per sample point]}}: the model's own outputs, before the gizmo's nodes."""
    found: Dict[str, Dict[str, List[List[float]]]] = {}
    plates = {name: plate_tensor(name) for name in selftest.PLATES}
    with torch.no_grad():
        for name, values in selftest.settings():
            for knob, value in values.items():
                setattr(module, knob, value)
            found[name] = {}
            for plate, tensor in plates.items():
                out = module(tensor)[0]
                found[name][plate] = [[float(out[c, selftest.HEIGHT - 1 - y, x]) for c in range(4)]
                                      for x, y in selftest.SAMPLE_POINTS]
    for knob, value in selftest.settings()[0][1].items():
        setattr(module, knob, value)
    return found


def load_expected(path: str) -> Dict[str, Any]:
    """The stored expectations (a regular file of sane size: contract.files.read_json)."""
    data = read_json(path, 16 << 20)
    if not isinstance(data, dict) or not isinstance(data.get("outputs"), dict):
        raise ValueError("%s holds no self-test outputs" % path)
    return data


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) > 2 or any(a.startswith("-") for a in args):
        sys.stderr.write(__doc__ or "")
        return 2
    model = args[0] if args else os.path.join(DATA_DIR, selftest.PT_NAME)
    expected = args[1] if len(args) > 1 else os.path.join(DATA_DIR, selftest.EXPECTED_NAME)
    module = torch.jit.load(model, map_location="cpu").eval()
    error = max_difference(load_expected(expected)["outputs"], run(module))
    ok = error <= CROSS_TORCH_TOLERANCE
    print("torch %s: self-test model %s, max abs difference %.2e (tolerance %.0e)"
          % (torch.__version__, "matches" if ok else "DIFFERS", error, CROSS_TORCH_TOLERANCE))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
