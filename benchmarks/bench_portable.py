"""Prints what the portable build costs against the previous one: CPU forward time and peak RSS per resolution.

  .venv/bin/python benchmarks/bench_portable.py                    # res 512 and 2048, CPU, 1920x1080 plate
  .venv/bin/python benchmarks/bench_portable.py --device cuda --half

"fused" is the build before the portable export: timm's Hiera attention through scaled_dot_product_attention
(which Nuke 14/15.0's torch cannot load). "portable" is today's: the same attention as matrix products, queries
in chunks whose score matrix stays under 256 MB. Everything else is the same code. Each variant and resolution
runs in its own child process (its own peak RSS); the variants alternate, and the median of the runs is kept.
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def measure(variant, resolution, device, half, width, height):
    """In the child: one warm-up frame, then one timed frame of the eager Nuke module."""
    sys.path.insert(0, ROOT)
    import torch

    import exporter.network as network
    from exporter.memory import limit_heap_retention
    from exporter.nuke_module import CorridorKeyNuke
    from exporter.validate import green_screen_probe

    limit_heap_retention()
    if variant == "fused":
        network.make_attention_portable = lambda encoder: 0  # keep timm's own (fused) attention
    model = CorridorKeyNuke(network.GreenFormer(resolution).eval(), resolution).eval().to(device)
    plate = green_screen_probe(height, width).to(device)
    if half:
        model, plate = model.half(), plate.half()
    with torch.no_grad():
        model(plate)
        if device == "cuda":
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
        start = time.perf_counter()
        model(plate)
        if device == "cuda":
            torch.cuda.synchronize()
        seconds = time.perf_counter() - start
    figures = {"seconds": seconds, "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e9}
    if device == "cuda":
        figures["peak_vram_gb"] = torch.cuda.max_memory_allocated() / 1e9
    return figures


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--resolutions", default="512,2048")
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    parser.add_argument("--half", action="store_true", help="fp16 instead of fp32 (GPU)")
    parser.add_argument("--repeats", type=int, default=3, help="child runs per variant (median kept)")
    parser.add_argument("--size", default="1920x1080", help="plate WxH")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    if args.child:
        variant, resolution = json.loads(args.child)
        print(json.dumps(measure(variant, resolution, args.device, args.half, width, height)))
        return
    for resolution in (int(r) for r in args.resolutions.split(",")):
        runs = {"fused": [], "portable": []}
        for _ in range(args.repeats):
            for variant in runs:
                command = [sys.executable, __file__, "--device", args.device, "--size", args.size,
                           "--child", json.dumps([variant, resolution])] + (["--half"] if args.half else [])
                out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
                runs[variant].append(json.loads(out.strip().splitlines()[-1]))
        median = {}
        for variant, figures in runs.items():
            middle = sorted(figures, key=lambda f: f["seconds"])[len(figures) // 2]
            median[variant] = dict(middle, peak_rss_gb=max(f["peak_rss_gb"] for f in figures))
            vram = ", peak VRAM %.2f GB" % middle["peak_vram_gb"] if "peak_vram_gb" in middle else ""
            print("res %4d %-8s %s %s: %.2f s per %s frame, peak RSS %.2f GB%s" % (
                resolution, variant, args.device, "fp16" if args.half else "fp32", middle["seconds"], args.size,
                median[variant]["peak_rss_gb"], vram), flush=True)
        print("res %4d portable / fused: time %.3f, peak RSS %.3f" % (
            resolution, median["portable"]["seconds"] / median["fused"]["seconds"],
            median["portable"]["peak_rss_gb"] / median["fused"]["peak_rss_gb"]), flush=True)


if __name__ == "__main__":
    main()
