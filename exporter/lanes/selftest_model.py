"""Makes the self-test model shipped in nuke_plugin/selftest_model/, and its expected outputs, on purpose.

  .venv/bin/python -m exporter.lanes.selftest_model [--output-dir DIR]      (default: the shipped folder)

The model is the real Nuke module (`CorridorKeyNuke`: every knob, the same resizes, colour maths, despeckle and
despill) around a tiny stand-in for the network, traced and scripted as the export does, so the self-test in
Nuke drives the same code through the same knobs while the file stays kilobytes. The stand-in is not symmetric
(a 3x3 convolution), so a plate handed over upside down shows in the result. Its coarse alpha follows the
hint, so Auto Despeckle has islands to keep or remove.

Regenerate (and commit the three files) after changing the Nuke module or the knob spec: CI checks that the
stored expectations match a fresh run, and the in-Nuke self-test reads the knobs from the manifest.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any, Dict, Optional, Sequence, Tuple, cast

import torch
import torch.nn as nn

from nuke_plugin.contract import selftest
from nuke_plugin.contract.files import commit_files, sha256_of, write_partial
from nuke_plugin.contract.selftest import max_difference
from nuke_plugin.contract.torch_targets import PORTABLE, release

from ..errors import ExportError
from ..manifest import build_manifest, torchscript_file_version
from ..scripted.nuke_module import CorridorKeyNuke
from .portability import compatible_torch
from .selftest_check import DATA_DIR, run

SEED = 13
HINT_WEIGHT = 8.0  # the coarse alpha logit per unit of hint: the matte follows the hint


class TinyNetwork(nn.Module):
    """The network's interface ((normalised RGB + hint, refiner scale) -> (alpha, foreground)) in 180 weights."""

    def __init__(self) -> None:
        super().__init__()
        self.coarse = nn.Conv2d(4, 4, 1)
        self.refiner = nn.Conv2d(4, 4, 3, padding=1)
        with torch.no_grad():
            self.coarse.weight[0, 3] = HINT_WEIGHT
            cast(torch.Tensor, self.coarse.bias)[0] = -HINT_WEIGHT / 2.0

    def forward(self, x: torch.Tensor, scale: torch.Tensor) -> Any:
        logits = self.coarse(x) + self.refiner(x) * scale.view(1, 1, 1, 1)
        return torch.sigmoid(logits[:, 0:1]), torch.sigmoid(logits[:, 1:4])


def build_module() -> torch.jit.ScriptModule:
    torch.manual_seed(SEED)
    network = TinyNetwork().eval()
    example = torch.zeros(1, 4, selftest.RESOLUTION, selftest.RESOLUTION)
    traced = torch.jit.trace(network, (example, torch.ones(1)))
    return torch.jit.script(CorridorKeyNuke(traced, selftest.RESOLUTION))


def check_knob_effects(outputs: Dict[str, Any]) -> None:
    """Every knob must change the stored pixels, or matching them in Nuke would prove nothing."""
    default = {selftest.DEFAULT_SETTING: outputs[selftest.DEFAULT_SETTING]}
    for name in outputs:
        if name != selftest.DEFAULT_SETTING and max_difference(default, {selftest.DEFAULT_SETTING: outputs[name]}) \
                < selftest.CHANGE_MINIMUM:
            raise ExportError("knob %s hardly changes the self-test pixels; change the plates or the network" % name)


def generate(folder: str = DATA_DIR) -> Dict[str, Any]:
    """Writes the .pt, its manifest and expected.json into `folder`; returns the expectations."""
    os.makedirs(folder, exist_ok=True)
    scripted = build_module()
    unproven = compatible_torch(scripted)["unproven_ops"]
    if unproven:
        raise ExportError("the self-test model uses operators not proven in every Nuke: %s" % ", ".join(unproven))
    # The three files are written as partials and committed together: a failure leaves the previous three.
    pt = os.path.join(folder, selftest.PT_NAME)
    staged = [(write_partial(folder, selftest.PT_NAME, lambda handle: torch.jit.save(scripted, handle)), pt)]
    try:
        expected, manifest = _expectations(scripted, staged[0][0], pt)
        expected_text = json.dumps(expected, separators=(",", ":")) + "\n"
        staged.append((write_partial(folder, selftest.MANIFEST_NAME, json.dumps(manifest, indent=2) + "\n"),
                       os.path.join(folder, selftest.MANIFEST_NAME)))
        staged.append((write_partial(folder, selftest.EXPECTED_NAME, expected_text),
                       os.path.join(folder, selftest.EXPECTED_NAME)))
        commit_files(staged).finish()
    finally:
        for temp, _final in staged:
            if os.path.lexists(temp):
                os.remove(temp)
    return expected


def _expectations(scripted: torch.jit.ScriptModule, saved: str, pt: str) -> Tuple[Dict[str, Any], Dict[str, Any]]:
    """The expectations of the saved file (its outputs at every setting) and its manifest, named for `pt`."""
    outputs = run(torch.jit.load(saved, map_location="cpu"))
    check_knob_effects(outputs)
    version = release(torch.__version__)
    manifest = build_manifest(pt_path=pt, resolution=selftest.RESOLUTION,
                              checkpoint_path="none (tiny stand-in network, seed %d)" % SEED, checkpoint_sha256="",
                              pt_sha256=sha256_of(saved), file_version=torchscript_file_version(saved),
                              operator_set=PORTABLE, compatible_torch=compatible_torch(scripted)["torch"],
                              verified_torch=[version])
    manifest["model_id"] = selftest.MODEL_ID
    expected: Dict[str, Any] = {
        "format": selftest.REPORT_FORMAT + "-expected",
        "model_sha256": manifest["model_sha256"],
        "torch_version": version,
        "width": selftest.WIDTH,
        "height": selftest.HEIGHT,
        "sample_points": [list(p) for p in selftest.SAMPLE_POINTS],
        "settings": {name: values for name, values in selftest.settings()},
        "outputs": outputs,
    }
    return expected, manifest


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m exporter.lanes.selftest_model", description=__doc__.split("\n")[0])
    parser.add_argument("--output-dir", default=DATA_DIR, help="where to write (default: %(default)s)")
    args = parser.parse_args(argv)
    generate(args.output_dir)
    size = os.path.getsize(os.path.join(args.output_dir, selftest.PT_NAME))
    print("wrote %s (%d bytes), %s and %s" % (selftest.PT_NAME, size, selftest.MANIFEST_NAME, selftest.EXPECTED_NAME))
    return 0


if __name__ == "__main__":
    sys.exit(main())
