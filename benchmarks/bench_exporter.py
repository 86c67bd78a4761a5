"""Prints the exporter's performance figures (random weights; not a test, nothing here asserts).

  .venv/bin/python benchmarks/bench_exporter.py                          # ratio at 512, 4K share, export at 512
  .venv/bin/python benchmarks/bench_exporter.py --export-resolution 2048 # the README's export figures (slow)

(.venv is the export environment that `bash tools/export.sh` or `bash tools/test.sh` creates.)

Figures and targets:
  1. forward of the loaded .pt / eager forward of the same weights, res 512, interleaved, median  (<= 1.00)
  2. share of pre/post-processing in one .pt forward on a 3840x2160 plate, at 512 and at
     --export-resolution (the wrapper timed around a stub network, the network timed alone)        (<= 3 %)
  3. export wall time and peak RSS at --export-resolution, in a child process                      (2048: <= 8 GB)
"""
import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def export_in_child(checkpoint, output, resolution):
    """Runs the real CLI in a child so that its peak RSS is measured alone."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "exporter", "--checkpoint", checkpoint, "--output", output,
                    "--resolution", str(resolution), "--progress", "quiet", "--validate-device", "cpu"],
                   cwd=ROOT, check=True)
    seconds = time.perf_counter() - start
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KiB on Linux
    return seconds, peak_kib * 1024


def export_random(folder, resolution, target=""):
    """A random-weight checkpoint exported at `resolution` in a child; prints and returns (pt, checkpoint)."""
    from exporter.demo_checkpoint import make_random_checkpoint

    checkpoint = os.path.join(folder, "ck_%d.pth" % resolution)
    make_random_checkpoint(checkpoint, resolution)
    pt = os.path.join(folder, "r%d" % resolution, "CorridorKey.pt")
    seconds, peak = export_in_child(checkpoint, pt, resolution)
    print("export at %d: %.1f s wall, peak RSS %.2f GB%s" % (resolution, seconds, peak / 1e9, target))
    return pt, checkpoint


def timed(fn, x):
    import torch

    start = time.perf_counter()
    with torch.no_grad():
        fn(x)
    return time.perf_counter() - start


def ratio_figure(pt, checkpoint, resolution, runs):
    import torch

    from exporter.checkpoint import load_into, read_state_dict
    from exporter.network import GreenFormer
    from exporter.nuke_module import CorridorKeyNuke
    from exporter.validate import green_screen_probe

    loaded = torch.jit.load(pt).eval()
    network = GreenFormer(resolution).eval()
    load_into(network, read_state_dict(checkpoint))
    eager = CorridorKeyNuke(network, resolution).eval()
    plate = green_screen_probe(resolution, resolution)
    timed(loaded, plate), timed(loaded, plate), timed(eager, plate)  # warm-up: the JIT profiles its first calls
    pt_times, eager_times = [], []
    for _ in range(runs):
        pt_times.append(timed(loaded, plate))
        eager_times.append(timed(eager, plate))
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

    from exporter.nuke_module import CorridorKeyNuke

    wrapper = torch.jit.script(CorridorKeyNuke(stub_network(), resolution)).eval()
    wrapper.despill_strength = 5.0  # the despill pass is part of the cost
    timed(wrapper, plate), timed(wrapper, plate)
    return statistics.median(timed(wrapper, plate) for _ in range(runs))


def network_seconds(pt, resolution, runs):
    import torch

    loaded = torch.jit.load(pt).eval()
    model_input, scale = torch.randn(1, 4, resolution, resolution), torch.ones(1)
    timed_core = lambda _: loaded.network(model_input, scale)  # noqa: E731
    if runs > 1:
        timed(timed_core, None)
    return statistics.median(timed(timed_core, None) for _ in range(runs))


def print_share(resolution, prepost, network):
    share = prepost / (prepost + network)
    print("3840x2160 plate at res %d: pre/post %.3f s, network %.2f s, pre/post share %.2f %% (target <= 3 %%)"
          % (resolution, prepost, network, 100 * share))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ratio-resolution", type=int, default=512)
    parser.add_argument("--export-resolution", type=int, default=512)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    sys.path.insert(0, ROOT)
    import torch  # after the arguments: --help needs no torch

    from exporter.validate import green_screen_probe

    print("torch %s, %d threads, %s" % (torch.__version__, torch.get_num_threads(), sys.platform))
    with tempfile.TemporaryDirectory() as tmp:
        res = args.ratio_resolution
        pt, checkpoint = export_random(tmp, res)

        pt_time, eager_time = ratio_figure(pt, checkpoint, res, args.runs)
        print("forward at %d, median of %d interleaved: .pt %.3f s, eager %.3f s, ratio %.3f (target <= 1.00)"
              % (res, args.runs, pt_time, eager_time, pt_time / eager_time))

        plate = green_screen_probe(2160, 3840)
        print_share(res, prepost_seconds(res, args.runs, plate), network_seconds(pt, res, args.runs))

        if args.export_resolution != res:
            big = args.export_resolution
            big_pt, _ = export_random(tmp, big, " (target <= 8 GB at 2048)")
            # One pass of the network is minutes at 2048 on a CPU: a single run is the figure.
            print_share(big, prepost_seconds(big, args.runs, plate), network_seconds(big_pt, big, 1))


if __name__ == "__main__":
    main()
