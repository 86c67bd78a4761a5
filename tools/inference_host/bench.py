"""Frame time of the C++ host against Python's torch.jit.load on the same .pt, plate and knobs.

Prints figures, asserts nothing: `.venv/bin/python -m tools.inference_host bench --pt build/CorridorKey.pt
[--size 1920x1080] [--device cuda] [--half] [--runs 5] [--warmup 2] [--rounds 2]`. Each round runs the host
(one process: warm-up, then timed runs) and then Python, so slow drifts of a shared machine hit both.
For CUDA the host also reports peak allocated/reserved VRAM from libtorch's caching allocator.
"""
from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np

from .build import build_host
from .client import run_host


def _python_forward_times(pt: Path, image: np.ndarray, device: str, half: bool, runs: int, warmup: int):
    import torch

    module = torch.jit.load(str(pt), map_location="cpu").eval().to(device)
    x = torch.from_numpy(image).to(device)
    if half:
        module, x = module.half(), x.half()
    times = []
    with torch.no_grad():
        for index in range(warmup + runs):
            start = time.perf_counter()
            module(x)
            if device.startswith("cuda"):
                torch.cuda.synchronize()
            if index >= warmup:
                times.append(time.perf_counter() - start)
    peak = torch.cuda.max_memory_allocated() / 2 ** 20 if device.startswith("cuda") else -1.0
    return times, peak


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.inference_host bench", description=__doc__)
    parser.add_argument("--pt", type=Path, required=True)
    parser.add_argument("--size", default="1920x1080", help="plate WIDTHxHEIGHT")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--half", action="store_true")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--no-python", action="store_true", help="time the host only")
    args = parser.parse_args(argv)
    width, height = (int(v) for v in args.size.lower().split("x"))
    image = np.random.default_rng(0).uniform(0.0, 1.0, size=(1, 4, height, width)).astype(np.float32)
    binary = build_host()

    host_times, python_times, reports, python_peak = [], [], [], -1.0
    for _ in range(args.rounds):
        result = run_host(binary, args.pt, image, device=args.device, half=args.half, runs=args.runs,
                          warmup=args.warmup)
        reports.append(result.report)
        host_times += result.report["forward_s"]
        if not args.no_python:
            times, python_peak = _python_forward_times(args.pt, image, args.device, args.half, args.runs, args.warmup)
            python_times += times

    last = reports[-1]
    print("model %s, plate %dx%d, device %s%s, libtorch %s" % (args.pt, width, height, last["device"],
                                                               " half" if args.half else "", last["libtorch"]))
    print("host   forward median %.4f s (min %.4f, %d runs), load %.2f s, peak RSS %.0f MB" % (
        statistics.median(host_times), min(host_times), len(host_times), last["load_s"], last["peak_rss_mb"]))
    if last["cuda_peak_allocated_mb"] >= 0:
        print("host   CUDA peak allocated %.0f MB, reserved %.0f MB" % (last["cuda_peak_allocated_mb"],
                                                                       last["cuda_peak_reserved_mb"]))
    if python_times:
        print("python forward median %.4f s (min %.4f, %d runs)%s" % (
            statistics.median(python_times), min(python_times), len(python_times),
            ", CUDA peak allocated %.0f MB" % python_peak if python_peak >= 0 else ""))
        print("host / python median: %.3f" % (statistics.median(host_times) / statistics.median(python_times)))
    return 0
