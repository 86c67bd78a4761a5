"""The C++ Inference-node stand-in, built against the libtorch of the Python running this, on a saved .pt.

Run by tools/compat.sh with the Python of a Nuke's torch lane (Nuke 16/17's 2.7.1): it builds
tools/inference_host against that wheel's libtorch, runs the model through it at every knob setting of the
compatibility lanes, and compares each result with the same torch's Python loader. Then each knob is moved
from the setting where the exporter proved it acts (its liveness probes, on the exporter's probe plate): a
knob whose value does not reach the model through the host changes nothing there. Exit 1 on any mismatch or
a knob that changes nothing.

  LANE_PYTHON -m tools.compat.host_lane MODEL.pt       (the lane's venv Python, as tools/compat.sh runs it)
"""
from __future__ import annotations

import sys

import torch

from exporter.lanes import lane_check
from exporter.lanes.portability import knob_settings
from exporter.validate import KNOB_CHANGES, KNOB_CONTEXT, reference_probe
from nuke_plugin.contract.knob_spec import KNOBS
from nuke_plugin.contract.torch_targets import CROSS_TORCH_TOLERANCE
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
    for setting, expected in zip(settings, reference):
        got = torch.from_numpy(run_host(binary, model, plate, setting).output)
        error = float((got - expected[0]).abs().max())
        ok = error <= CROSS_TORCH_TOLERANCE
        failures += not ok
        print("[host torch %s] %-60s max diff vs Python %.2e  %s" % (
            torch.__version__, setting or "defaults", error, "ok" if ok else "FAIL"))
    probe = reference_probe().numpy()
    for name, value in KNOB_CHANGES:
        context = KNOB_CONTEXT.get(name, {})
        before = run_host(binary, model, probe, context).output
        after = run_host(binary, model, probe, dict(context, **{name: value})).output
        effect = float(abs(after - before).max())
        failures += not effect > 0.0
        print("[host torch %s] %s=%s from %s changes the output by %.3g  %s" % (
            torch.__version__, name, value, context or "defaults", effect, "ok" if effect > 0.0 else "FAIL"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
