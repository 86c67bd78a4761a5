"""Prints the exporter's performance figures (random weights; not a test, nothing here asserts).

  .venv/bin/python benchmarks/bench_exporter.py                              # ratio at 512, 4K share, export at 512
  .venv/bin/python benchmarks/bench_exporter.py --exports 512,1024,2048      # the README's export figures (slow)
  .venv/bin/python benchmarks/bench_exporter.py --exports 2048 --target nuke16 --no-ratio

(.venv is the export environment that `bash tools/export.sh` or `bash tools/test.sh` creates.)

Figures and targets:
  1. forward of the loaded .pt / eager forward of the same weights, res 512, interleaved, median  (<= 1.00)
  2. share of pre/post-processing in one .pt forward on a 3840x2160 plate, at 512 and at the largest of
     --exports (the wrapper timed around a stub network, the network timed alone)                  (<= 3 %)
  3. per resolution of --exports, for the build of --target (default: none, the portable build): the export's
     wall time, stage times and peak RSS in a child process, then one forward pass of the saved .pt on a
     1920x1080 plate in another (after a warm-up pass), and the export's time in forward passes    (2048: <= 4;
                                                                                                   <= 8 GB)
"""
import argparse
import json
import os
import statistics
import sys
import tempfile

from harness import ROOT, load_average, run_child, timed


def export_in_child(checkpoint, output, resolution, target=""):
    """Runs the real CLI in a child so that its peak RSS is measured alone; returns (seconds, GB, stage times)."""
    seconds, peak_gb, out = run_child([sys.executable, "-m", "exporter", "--checkpoint", checkpoint, "--output",
                                       output, "--resolution", str(resolution), "--progress", "json",
                                       "--validate-device", "cpu", "--target-nuke", target])
    done = [json.loads(line) for line in out.splitlines() if '"event": "done"' in line]
    return seconds, peak_gb, done[-1].get("stages", {}) if done else {}


def export_random(folder, resolution, target=""):
    """A random-weight checkpoint exported at `resolution` in a child; prints and returns (pt, checkpoint, s)."""
    from exporter.demo_checkpoint import make_random_checkpoint

    checkpoint = os.path.join(folder, "ck_%d.pth" % resolution)
    make_random_checkpoint(checkpoint, resolution)
    pt = os.path.join(folder, "r%d%s" % (resolution, target), "CorridorKey.pt")
    seconds, peak, stages = export_in_child(checkpoint, pt, resolution, target)
    print("export at %d (%s build): %.1f s wall, peak RSS %.2f GB; stages: %s" % (
        resolution, target or "no target", seconds, peak,
        ", ".join("%s %.1f s" % item for item in stages.items())), flush=True)
    return pt, checkpoint, seconds


FORWARD_CHILD = """
import sys, torch
sys.path.insert(0, sys.argv[2])
sys.path.insert(0, sys.argv[2] + "/benchmarks")
from harness import timed
from exporter.memory import limit_heap_retention
from exporter.lanes.lane_check import probe_plate
limit_heap_retention()
module = torch.jit.load(sys.argv[1]).eval()
plate = probe_plate(1080, 1920)
with torch.no_grad():
    module(plate)
    print(timed(lambda: module(plate))[0])
"""


def forward_in_child(pt):
    """One forward pass of the saved .pt on a 1920x1080 plate, after a warm-up pass, in a process of its own."""
    _, _, out = run_child([sys.executable, "-c", FORWARD_CHILD, pt, ROOT])
    return float(out.strip().splitlines()[-1])


def forward_seconds(fn, x):
    """Wall seconds of one call without autograd."""
    import torch

    with torch.no_grad():
        return timed(lambda: fn(x))[0]


def ratio_figure(pt, checkpoint, resolution, runs):
    import torch

    from exporter.checkpoint import load_into, read_state_dict
    from exporter.lanes.lane_check import probe_plate
    from exporter.scripted.network import GreenFormer
    from exporter.scripted.nuke_module import CorridorKeyNuke

    loaded = torch.jit.load(pt).eval()
    network = GreenFormer(resolution).eval()
    load_into(network, read_state_dict(checkpoint))
    eager = CorridorKeyNuke(network, resolution).eval()
    plate = probe_plate(resolution, resolution)
    for fn in (loaded, loaded, eager):  # warm-up: the JIT profiles its first calls
        forward_seconds(fn, plate)
    pt_times, eager_times = [], []
    for _ in range(runs):
        pt_times.append(forward_seconds(loaded, plate))
        eager_times.append(forward_seconds(eager, plate))
    return statistics.median(pt_times), statistics.median(eager_times)


def stub_network():
    """Shapes of the real network's outputs at almost no cost: isolates the wrapper's own work."""
    import torch

    class StubNetwork(torch.nn.Module):
        def forward(self, x: torch.Tensor, scale: torch.Tensor):
            return torch.sigmoid(x[:, 3:4] * scale), torch.sigmoid(x[:, 0:3])

    return torch.jit.script(StubNetwork())


def prepost_seconds(resolution, runs, plate):
    """The exported wrapper's pre/post-processing (resizes, colour, despill) around a stub network."""
    import torch

    from exporter.scripted.nuke_module import CorridorKeyNuke

    wrapper = torch.jit.script(CorridorKeyNuke(stub_network(), resolution)).eval()
    wrapper.despill_strength = 5.0  # the despill pass is part of the cost
    for _ in range(2):  # warm-up
        forward_seconds(wrapper, plate)
    return statistics.median(forward_seconds(wrapper, plate) for _ in range(runs))


def network_seconds(pt, resolution, runs):
    import torch

    loaded = torch.jit.load(pt).eval()
    model_input, scale = torch.randn(1, 4, resolution, resolution), torch.ones(1)
    timed_core = lambda _: loaded.network(model_input, scale)  # noqa: E731
    if runs > 1:
        forward_seconds(timed_core, None)
    return statistics.median(forward_seconds(timed_core, None) for _ in range(runs))


def print_share(resolution, prepost, network):
    share = prepost / (prepost + network)
    print("3840x2160 plate at res %d: pre/post %.3f s, network %.2f s, pre/post share %.2f %% (target <= 3 %%)"
          % (resolution, prepost, network, 100 * share))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ratio-resolution", type=int, default=512)
    parser.add_argument("--exports", default="512", help="resolutions to export at and time (comma-separated)")
    parser.add_argument("--target", default="", help="--target-nuke of those exports (default: none, portable)")
    parser.add_argument("--no-ratio", action="store_true", help="skip figures 1 and 2 (the exports only)")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    sys.path.insert(0, ROOT)
    import torch  # after the arguments: --help needs no torch

    from exporter.lanes.lane_check import probe_plate

    print("torch %s, %d threads, %s, load average %.1f" % (torch.__version__, torch.get_num_threads(), sys.platform,
                                                           load_average()), flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        plate = probe_plate(2160, 3840)
        if not args.no_ratio:
            res = args.ratio_resolution
            pt, checkpoint, _ = export_random(tmp, res)
            pt_time, eager_time = ratio_figure(pt, checkpoint, res, args.runs)
            print("forward at %d, median of %d interleaved: .pt %.3f s, eager %.3f s, ratio %.3f (target <= 1.00)"
                  % (res, args.runs, pt_time, eager_time, pt_time / eager_time), flush=True)
            print_share(res, prepost_seconds(res, args.runs, plate), network_seconds(pt, res, args.runs))
        resolutions = [int(r) for r in args.exports.split(",")]
        for resolution in resolutions:
            pt, _, export_s = export_random(tmp, resolution, args.target)
            forward_s = forward_in_child(pt)
            print("export at %d: %.1f s = %.2f forward passes of the saved .pt (%.1f s on a 1920x1080 plate; "
                  "target <= 4); load average %.1f" % (resolution, export_s, export_s / forward_s, forward_s,
                                                        load_average()), flush=True)
            if not args.no_ratio and resolution == max(resolutions) and resolution != args.ratio_resolution:
                # One pass of the network is minutes at 2048 on a CPU: a single run is the figure.
                print_share(resolution, prepost_seconds(resolution, args.runs, plate),
                            network_seconds(pt, resolution, 1))


if __name__ == "__main__":
    main()
