"""Prints the exporter's performance figures (random weights; not a test, nothing here asserts).

  python benchmarks/bench_exporter.py                          # ratio at 512, 4K pre/post share, export at 512
  python benchmarks/bench_exporter.py --export-resolution 2048 # the README's export figures (slow on a CPU)

Figures and targets:
  1. forward of the loaded .pt / eager forward of the same weights, res 512, interleaved, median  (<= 1.00)
  2. share of pre/post-processing in one .pt forward on a 3840x2160 plate                           (<= 3 %)
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

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from exporter.checkpoint import load_into, read_state_dict  # noqa: E402
from exporter.network import GreenFormer  # noqa: E402
from exporter.nuke_module import CorridorKeyNuke  # noqa: E402
from exporter.validate import green_screen_probe  # noqa: E402


def make_checkpoint(path, resolution):
    torch.manual_seed(0)
    torch.save(GreenFormer(resolution).state_dict(), path)


def export_in_child(checkpoint, output, resolution):
    """Runs the real CLI in a child so that its peak RSS is measured alone."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "exporter", "--checkpoint", checkpoint, "--output", output,
                    "--resolution", str(resolution), "--progress", "quiet", "--validate-device", "cpu"],
                   cwd=ROOT, check=True)
    seconds = time.perf_counter() - start
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KiB on Linux
    return seconds, peak_kib * 1024


def timed(fn, x):
    start = time.perf_counter()
    with torch.no_grad():
        fn(x)
    return time.perf_counter() - start


def ratio_figure(pt, checkpoint, resolution, runs):
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


def prepost_share(pt, resolution, runs):
    """Whole .pt forward on a 4K plate vs its network alone on the model-size input it would see."""
    loaded = torch.jit.load(pt).eval()
    plate = green_screen_probe(2160, 3840)
    model_input = torch.randn(1, 4, resolution, resolution)
    scale = torch.ones(1)
    timed(loaded, plate)
    totals, cores = [], []
    for _ in range(runs):
        totals.append(timed(loaded, plate))
        start = time.perf_counter()
        with torch.no_grad():
            loaded.network(model_input, scale)
        cores.append(time.perf_counter() - start)
    total, core = statistics.median(totals), statistics.median(cores)
    return total, core, (total - core) / total


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ratio-resolution", type=int, default=512)
    parser.add_argument("--export-resolution", type=int, default=512)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print("torch %s, %d threads, %s" % (torch.__version__, torch.get_num_threads(), sys.platform))
    with tempfile.TemporaryDirectory() as tmp:
        res = args.ratio_resolution
        checkpoint = os.path.join(tmp, "ck_%d.pth" % res)
        make_checkpoint(checkpoint, res)
        pt = os.path.join(tmp, "r%d" % res, "CorridorKey.pt")
        seconds, peak = export_in_child(checkpoint, pt, res)
        print("export at %d: %.1f s wall, peak RSS %.2f GB" % (res, seconds, peak / 1e9))

        pt_time, eager_time = ratio_figure(pt, checkpoint, res, args.runs)
        print("forward at %d, median of %d interleaved: .pt %.3f s, eager %.3f s, ratio %.3f (target <= 1.00)"
              % (res, args.runs, pt_time, eager_time, pt_time / eager_time))

        total, core, share = prepost_share(pt, res, args.runs)
        print("3840x2160 plate at res %d: whole forward %.3f s, network %.3f s, pre/post share %.1f %% "
              "(target <= 3 %%)" % (res, total, core, 100 * share))

        if args.export_resolution != res:
            big = args.export_resolution
            checkpoint = os.path.join(tmp, "ck_%d.pth" % big)
            make_checkpoint(checkpoint, big)
            seconds, peak = export_in_child(checkpoint, os.path.join(tmp, "r%d" % big, "CorridorKey.pt"), big)
            print("export at %d: %.1f s wall, peak RSS %.2f GB (target <= 8 GB at 2048)" % (big, seconds, peak / 1e9))


if __name__ == "__main__":
    main()
