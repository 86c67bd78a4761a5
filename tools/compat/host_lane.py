"""The C++ Inference-node stand-in, built against the libtorch of the Python running this, on a saved .pt.

Run by tools/compat.sh with the Python of a Nuke's torch lane (Nuke 16/17's 2.7.1): it builds
tools/inference_host against that wheel's libtorch, runs the model through it at every knob setting of the
compatibility lanes, and compares each result with the same torch's Python loader. Exit 1 on any mismatch
or a knob that changes nothing.

  python -m tools.compat.host_lane MODEL.pt
"""
from __future__ import annotations

import sys

import torch

from exporter import lane_check
from exporter.portability import TOLERANCE, knob_settings
from nuke_plugin.contract.knob_spec import KNOBS
from tools.inference_host import build_host
from tools.inference_host.client import run_host


def main(argv: list) -> int:
    if len(argv) != 1:
        sys.stderr.write(__doc__)
        return 2
    model = argv[0]
    binary = build_host()
    settings = knob_settings(KNOBS)
    reference = lane_check.run(model, settings)
    height, width = lane_check.PROBE_SIZES[0]
    plate = lane_check.probe_plate(height, width).numpy()
    failures = 0
    baseline = None
    for setting, expected in zip(settings, reference):
        got = torch.from_numpy(run_host(binary, model, plate, setting).output)
        error = float((got - expected[0]).abs().max())
        effect = None if baseline is None else float((got - baseline).abs().max())
        baseline = got if baseline is None else baseline
        ok = error <= TOLERANCE and (effect is None or effect > 0.0)
        failures += not ok
        print("[host torch %s] %-60s max diff vs Python %.2e%s  %s" % (
            torch.__version__, setting or "defaults", error,
            "" if effect is None else ", change vs defaults %.3g" % effect, "ok" if ok else "FAIL"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
