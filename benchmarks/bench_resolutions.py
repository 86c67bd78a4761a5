"""Prints what each model resolution costs per frame: time, peak RAM, and on a GPU peak VRAM (fp32 and fp16).

  .venv/bin/python benchmarks/bench_resolutions.py                         # CPU: 1024, 1536, 2048 on a 1920x1080 plate
  .venv/bin/python benchmarks/bench_resolutions.py --device cuda --half    # GPU: adds fp16 and peak VRAM

Each resolution runs in its own child process so that its peak RSS is its own. Random weights: the cost of the
network does not depend on them. The model is the eager Nuke wrapper (the exported .pt runs within ~2 % of it,
see bench_exporter.py), so no export is needed. These are the figures the Build Model dialog quotes.
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def measure(resolution, device, half, runs, width, height):
    """Runs in the child: one warm-up and `runs` timed frames; returns the figures as a dict."""
    sys.path.insert(0, ROOT)
    import torch

    from exporter.memory import limit_heap_retention
    from exporter.network import GreenFormer
    from exporter.nuke_module import CorridorKeyNuke
    from exporter.validate import green_screen_probe

    limit_heap_retention()
    model = CorridorKeyNuke(GreenFormer(resolution).eval(), resolution).eval().to(device)
    plate = green_screen_probe(height, width).to(device)
    if half:
        model, plate = model.half(), plate.half()
    times = []
    with torch.no_grad():
        for index in range(runs + 1):
            if device == "cuda":
                torch.cuda.synchronize()
            start = time.perf_counter()
            model(plate)
            if device == "cuda":
                torch.cuda.synchronize()
            if index:  # the first frame pays for allocation and kernel selection
                times.append(time.perf_counter() - start)
    figures = {"seconds": sorted(times)[len(times) // 2],
               "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e9}
    if device == "cuda":
        figures["peak_vram_gb"] = torch.cuda.max_memory_allocated() / 1e9
    return figures


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--resolutions", default="1024,1536,2048")
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    parser.add_argument("--half", action="store_true", help="also measure fp16 (GPU)")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--size", default="1920x1080", help="plate WxH")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    if args.child:
        resolution, half = json.loads(args.child)
        print(json.dumps(measure(resolution, args.device, half, args.runs, width, height)))
        return
    for resolution in (int(r) for r in args.resolutions.split(",")):
        for half in ([False, True] if args.half else [False]):
            out = subprocess.run(
                [sys.executable, __file__, "--device", args.device, "--runs", str(args.runs), "--size", args.size,
                 "--child", json.dumps([resolution, half])], capture_output=True, text=True, check=True).stdout
            figures = json.loads(out.strip().splitlines()[-1])
            vram = " peak VRAM %.2f GB" % figures["peak_vram_gb"] if "peak_vram_gb" in figures else ""
            print("res %4d %s %s: %.2f s per %s frame, peak RSS %.2f GB%s" % (
                resolution, args.device, "fp16" if half else "fp32", figures["seconds"], args.size,
                figures["peak_rss_gb"], vram), flush=True)


if __name__ == "__main__":
    main()
