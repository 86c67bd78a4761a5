"""Prints what one frame costs per build and model resolution: the table nuke_plugin/contract/costs.py holds.

  .venv/bin/python benchmarks/bench_resolutions.py                      # CPU: 1024, 1536, 2048; 1920x1080 plate
  .venv/bin/python benchmarks/bench_resolutions.py --resolutions 1024 --repeats 3
  .venv/bin/python benchmarks/bench_resolutions.py --device cuda --half # GPU: adds fp16 and peak VRAM

Variants: "upstream" is upstream's eager model as it runs (timm's Hiera attention, which calls the fused
scaled_dot_product_attention); "fused" and "portable" are this project's two operator sets
(nuke_plugin.contract.torch_targets), in the eager Nuke module (the exported .pt runs within a few per cent of it,
see bench_exporter.py). Each frame runs in a child process of its own (its own peak RSS) after one warm-up frame;
the variants alternate, so they see the same machine load, and the median of the repeats is kept. The last lines
are the rows of contract/costs.py, with today's date and the load average.
"""
import argparse
import datetime
import json
import os
import subprocess
import sys

from harness import ROOT, load_average, own_peak_rss_gb, timed

VARIANTS = ("upstream", "fused", "portable")


def measure(variant, resolution, device, half, width, height):
    """In the child: one warm-up frame, then one timed frame."""
    sys.path.insert(0, ROOT)
    import torch

    from exporter.lanes.lane_check import probe_plate
    from exporter.memory import limit_heap_retention
    from exporter.scripted.network import GreenFormer
    from exporter.scripted.nuke_module import CorridorKeyNuke

    limit_heap_retention()
    network = _upstream_network(resolution) if variant == "upstream" else GreenFormer(resolution, variant)
    model = CorridorKeyNuke(network.eval(), resolution).eval().to(device)
    plate = probe_plate(height, width).to(device)
    if half:
        model, plate = model.half(), plate.half()
    with torch.no_grad():
        model(plate)
        if device == "cuda":
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
        seconds, _cpu = timed(lambda: (model(plate), torch.cuda.synchronize() if device == "cuda" else None))
    figures = {"seconds": seconds, "peak_rss_gb": own_peak_rss_gb()}
    if device == "cuda":
        figures["peak_vram_gb"] = torch.cuda.max_memory_allocated() / 1e9
    return figures


def _upstream_network(resolution):
    """The network with timm's own Hiera attention left in place (what upstream runs)."""
    import exporter.scripted.network as network_module

    keep = network_module.set_attention
    network_module.set_attention = lambda encoder, operators: 0
    try:
        return network_module.GreenFormer(resolution)
    finally:
        network_module.set_attention = keep


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--resolutions", default="1024,1536,2048")
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    parser.add_argument("--half", action="store_true", help="fp16 instead of fp32 (GPU)")
    parser.add_argument("--repeats", type=int, default=1, help="child runs per variant (median kept)")
    parser.add_argument("--size", default="1920x1080", help="plate WxH")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    if args.child:
        variant, resolution = json.loads(args.child)
        print(json.dumps(measure(variant, resolution, args.device, args.half, width, height)))
        return
    variants = args.variants.split(",")
    rows = []
    for resolution in (int(r) for r in args.resolutions.split(",")):
        runs = {variant: [] for variant in variants}
        loads = []
        for _ in range(args.repeats):
            for variant in variants:
                command = [sys.executable, os.path.abspath(__file__), "--device", args.device, "--size", args.size,
                           "--child", json.dumps([variant, resolution])] + (["--half"] if args.half else [])
                out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
                runs[variant].append(json.loads(out.strip().splitlines()[-1]))
                loads.append(load_average())
        median = {}
        for variant, figures in runs.items():
            middle = sorted(figures, key=lambda f: f["seconds"])[len(figures) // 2]
            median[variant] = dict(middle, peak_rss_gb=max(f["peak_rss_gb"] for f in figures))
            vram = ", peak VRAM %.2f GB" % middle["peak_vram_gb"] if "peak_vram_gb" in middle else ""
            print("res %4d %-8s %s %s: %.2f s per %s frame, peak RSS %.2f GB%s" % (
                resolution, variant, args.device, "fp16" if args.half else "fp32", middle["seconds"], args.size,
                median[variant]["peak_rss_gb"], vram), flush=True)
        load = sum(loads) / len(loads)
        if "upstream" in median:
            for variant in variants:
                print("res %4d %s / upstream eager: time %.3f, peak RSS %.3f" % (
                    resolution, variant, median[variant]["seconds"] / median["upstream"]["seconds"],
                    median[variant]["peak_rss_gb"] / median["upstream"]["peak_rss_gb"]), flush=True)
        print("res %4d load average during the runs: %.1f" % (resolution, load), flush=True)
        rows += [(variant, resolution, median[variant], load) for variant in variants if variant != "upstream"]
    if args.device == "cpu" and not args.half and args.size == "1920x1080":
        today = datetime.date.today().isoformat()
        print("rows for nuke_plugin/contract/costs.py:")
        for variant, resolution, figures, load in rows:
            print("    FrameCost(%s, %d, %.1f, %.2f, %r, %.1f)," % (
                variant.upper(), resolution, figures["seconds"], figures["peak_rss_gb"], today, load))


if __name__ == "__main__":
    main()
