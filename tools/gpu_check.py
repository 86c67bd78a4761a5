"""The GPU check behind tools/gpu_check.sh: export, run and measure each target's build on one machine.

  .venv/bin/python -m tools.gpu_check [--resolution 2048] [--checkpoint CK.pth] [--out build/gpu_check]
  .venv/bin/python -m tools.gpu_check --device cpu --resolution 64 --size 96x64 --runs 1   (no GPU: the plumbing)

For each target (Nuke 16 / 17: the fused attention; Nuke 14 / 15.0: the portable one) it exports the checkpoint
(random weights unless --checkpoint) with validation on the device, then runs the build in Python's
torch.jit.load and in the C++ Inference-node stand-in (tools/inference_host) at fp32 and fp16, next to
upstream's eager model (timm's Hiera as upstream runs it, the same weights, fp32 and fp16). Each run is a process
of its own, so its peak VRAM is its own. Per build it prints the frame time against upstream eager, peak VRAM,
the export's wall time and the fp16-against-fp32 difference, and judges the goal: at 2048 on a GPU, fp16 in at
most 3 GiB of VRAM and no slower than upstream eager. A report.json with every figure goes into --out.

Exit codes: 0 everything ran (whether or not the goal is met), 1 a step failed, 2 no CUDA device (or a bad
argument).
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

ROOT = Path(__file__).resolve().parents[1]
TARGETS = ("nuke16", "nuke14")
GOAL_RESOLUTION = 2048
GOAL_VRAM_GIB = 3.0
EXIT_OK, EXIT_FAILED, EXIT_USER = 0, 1, 2


class StepFailed(RuntimeError):
    """A step of the check did not complete; the message says which and why."""


def parse_args(argv: Optional[List[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tools.gpu_check", description=__doc__.split("\n")[0])
    parser.add_argument("--device", choices=("cuda", "cpu"), default="cuda",
                        help="cuda (default); cpu runs the same steps without a GPU, for testing the check itself")
    parser.add_argument("--resolution", type=int, default=GOAL_RESOLUTION, help="model resolution (default 2048)")
    parser.add_argument("--size", default="1920x1080", help="plate WIDTHxHEIGHT (default 1920x1080)")
    parser.add_argument("--runs", type=int, default=3, help="timed frames per run, after one warm-up (default 3)")
    parser.add_argument("--checkpoint", help="a CorridorKey .pth (default: random weights; the cost is the same)")
    parser.add_argument("--out", default=str(ROOT / "build" / "gpu_check"), help="where builds and report.json go")
    parser.add_argument("--targets", default=",".join(TARGETS), help="target Nukes to build (default nuke16,nuke14)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def _plate(size: str) -> Any:
    from exporter.lanes.lane_check import probe_plate

    width, height = (int(v) for v in size.lower().split("x"))
    return probe_plate(height, width)


def _upstream_model(checkpoint: str, resolution: int) -> Any:
    """Upstream's eager model: timm's Hiera with its own (fused) attention, this checkpoint's weights."""
    import exporter.scripted.network as network_module
    from exporter.checkpoint import load_into, read_state_dict
    from exporter.scripted.nuke_module import CorridorKeyNuke

    keep = network_module.set_attention
    network_module.set_attention = lambda encoder, operators: 0
    try:
        network = network_module.GreenFormer(resolution)
    finally:
        network_module.set_attention = keep
    load_into(network, read_state_dict(checkpoint))
    return CorridorKeyNuke(network.eval(), resolution).eval()


def run_child(spec: Dict[str, Any]) -> Dict[str, Any]:
    """In a process of its own: one model at one precision; frame times, peak VRAM, the output saved."""
    import numpy as np
    import torch

    device = torch.device(spec["device"])
    if spec["model"] == "upstream":
        model = _upstream_model(spec["checkpoint"], spec["resolution"])
    else:
        model = torch.jit.load(spec["model"], map_location="cpu").eval()
    model = model.to(device)
    plate = _plate(spec["size"]).to(device)
    if spec["half"]:
        model, plate = model.half(), plate.half()
    times = []
    with torch.no_grad():
        for index in range(spec["runs"] + 1):
            if device.type == "cuda":
                torch.cuda.synchronize()
            start = time.perf_counter()
            out = model(plate)
            if device.type == "cuda":
                torch.cuda.synchronize()
            if index:  # the first frame pays for allocation and kernel selection
                times.append(time.perf_counter() - start)
    np.save(spec["output"], out.float().cpu().numpy())
    return {"seconds": sorted(times)[len(times) // 2],
            "peak_vram_gib": torch.cuda.max_memory_allocated(device) / 2 ** 30 if device.type == "cuda" else None}


def _in_child(spec: Dict[str, Any]) -> Dict[str, Any]:
    command = [sys.executable, "-m", "tools.gpu_check", "--child", json.dumps(spec)]
    proc = subprocess.run(command, cwd=str(ROOT), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        raise StepFailed("running %s (%s) failed:\n%s" % (spec["model"], "fp16" if spec["half"] else "fp32",
                                                          proc.stderr.strip()[-2000:]))
    return json.loads(proc.stdout.strip().splitlines()[-1])


def export_build(checkpoint: str, out: Path, target: str, resolution: int, device: str) -> Dict[str, Any]:
    """Runs the exporter as Build Model does, timed; returns the wall time and the manifest."""
    pt = out / target / "CorridorKey.pt"
    command = [sys.executable, "-m", "exporter", "--checkpoint", checkpoint, "--output", str(pt), "--resolution",
               str(resolution), "--target-nuke", target, "--validate-device", device, "--progress", "quiet"]
    start = time.perf_counter()
    proc = subprocess.run(command, cwd=str(ROOT), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise StepFailed("the export for %s failed:\n%s" % (target, (proc.stdout + proc.stderr).strip()[-2000:]))
    manifest = json.loads(pt.with_suffix(".json").read_text(encoding="utf-8"))
    return {"pt": str(pt), "export_s": seconds, "manifest": manifest}


def run_host_builds(pt: str, size: str, device: str, runs: int) -> Dict[str, Any]:
    """The build in the C++ host at fp32 and fp16, or why the host could not be built here."""
    from tools.inference_host import HostError, HostUnavailable, build_host, run_host

    try:
        binary = build_host()
    except HostUnavailable as exc:
        return {"skipped": str(exc)}
    image = _plate(size).numpy()
    figures: Dict[str, Any] = {}
    for half in (False, True):
        try:
            result = run_host(binary, Path(pt), image, device=device, half=half, runs=runs, warmup=1)
        except HostError as exc:
            raise StepFailed("the C++ host could not run %s: %s" % (pt, exc))
        peak = result.report.get("cuda_peak_allocated_mb", -1.0)
        figures["fp16" if half else "fp32"] = {
            "seconds": result.report["forward_s_median"],
            "peak_vram_gib": peak / 1024.0 if peak >= 0 else None,
            "output": result.output}
    return figures


def _difference(a: Any, b: Any) -> Dict[str, float]:
    import numpy as np

    delta = np.abs(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64))
    return {"max": float(delta.max()), "mean": float(delta.mean())}


def measure(args: argparse.Namespace, out: Path, checkpoint: str, device_name: str) -> Dict[str, Any]:
    import numpy as np

    from nuke_plugin.contract.torch_targets import TORCH_TARGETS_BY_KEY

    report: Dict[str, Any] = {"device": args.device, "device_name": device_name, "resolution": args.resolution,
                              "size": args.size, "runs": args.runs, "builds": {}}
    base = {"device": args.device, "size": args.size, "runs": args.runs, "resolution": args.resolution,
            "checkpoint": checkpoint}
    print("[gpu check] upstream's eager model, fp32 and fp16", flush=True)
    upstream = {}
    for half in (False, True):
        name = "fp16" if half else "fp32"
        path = out / ("upstream_%s.npy" % name)
        upstream[name] = _in_child(dict(base, model="upstream", half=half, output=str(path)))
    report["upstream"] = upstream
    for target in args.targets.split(","):
        label = TORCH_TARGETS_BY_KEY[target].nuke
        print("[gpu check] %s: exporting at %d with validation on %s" % (label, args.resolution, args.device),
              flush=True)
        build = export_build(checkpoint, out, target, args.resolution, args.device)
        figures: Dict[str, Any] = {"export_s": build["export_s"], "operator_set": build["manifest"]["operator_set"],
                                   "loads_in_nuke": build["manifest"]["loads_in_nuke"], "python": {}}
        outputs = {}
        print("[gpu check] %s: running the build in Python, fp32 and fp16" % label, flush=True)
        for half in (False, True):
            name = "fp16" if half else "fp32"
            path = out / ("%s_%s.npy" % (target, name))
            figures["python"][name] = _in_child(dict(base, model=build["pt"], half=half, output=str(path)))
            outputs[name] = np.load(str(path))
        figures["fp16_vs_fp32"] = _difference(outputs["fp16"], outputs["fp32"])
        figures["vs_upstream_fp32"] = _difference(outputs["fp32"], np.load(str(out / "upstream_fp32.npy")))
        print("[gpu check] %s: running the build in the C++ host, fp32 and fp16" % label, flush=True)
        host = run_host_builds(build["pt"], args.size, args.device, args.runs)
        if "skipped" not in host:
            host["host_vs_python_fp32"] = _difference(host["fp32"].pop("output"), outputs["fp32"])
            host["fp16"].pop("output")
        figures["host"] = host
        report["builds"][target] = figures
    return report


def goal_verdict(report: Dict[str, Any], figures: Dict[str, Any]) -> str:
    if report["device"] != "cuda" or report["resolution"] != GOAL_RESOLUTION:
        return "not judged (the goal is for %d on a GPU)" % GOAL_RESOLUTION
    fp16 = figures["python"]["fp16"]
    upstream = report["upstream"]["fp16"]["seconds"]
    problems = []
    if fp16["peak_vram_gib"] > GOAL_VRAM_GIB:
        problems.append("%.2f GiB of VRAM > %.1f" % (fp16["peak_vram_gib"], GOAL_VRAM_GIB))
    if fp16["seconds"] > upstream:
        problems.append("%.3f s per frame > upstream's %.3f" % (fp16["seconds"], upstream))
    return "met" if not problems else "NOT met: " + "; ".join(problems)


def _vram(figure: Dict[str, Any]) -> str:
    return "" if figure.get("peak_vram_gib") is None else ", peak VRAM %.2f GiB" % figure["peak_vram_gib"]


def print_report(report: Dict[str, Any]) -> None:
    from nuke_plugin.contract.torch_targets import TORCH_TARGETS_BY_KEY
    from nuke_plugin.core.compatibility import nukes_text

    print("\nCorridorKey GPU check: %s (%s), model resolution %d, %s plate, median of %d frame(s) after a warm-up"
          % (report["device_name"], report["device"], report["resolution"], report["size"], report["runs"]))
    for name, figure in report["upstream"].items():
        print("  upstream eager %s: %.3f s per frame%s" % (name, figure["seconds"], _vram(figure)))
    for target, figures in report["builds"].items():
        print("\n%s build (%s attention; loads in %s)" % (TORCH_TARGETS_BY_KEY[target].nuke, figures["operator_set"],
                                                          nukes_text(figures["loads_in_nuke"])))
        print("  export: %.1f s wall, validation on %s" % (figures["export_s"], report["device"]))
        for runner in ("python", "host"):
            if "skipped" in figures[runner]:
                print("  %-6s: not run (%s)" % (runner, figures[runner]["skipped"]))
                continue
            for name in ("fp32", "fp16"):
                figure = figures[runner][name]
                print("  %-6s %s: %.3f s per frame, x%.2f of upstream eager%s" % (
                    runner, name, figure["seconds"], figure["seconds"] / report["upstream"][name]["seconds"],
                    _vram(figure)))
        print("  fp16 vs fp32: max %.2e, mean %.2e; fp32 vs upstream eager: max %.2e" % (
            figures["fp16_vs_fp32"]["max"], figures["fp16_vs_fp32"]["mean"], figures["vs_upstream_fp32"]["max"]))
        if "host_vs_python_fp32" in figures["host"]:
            print("  C++ host vs Python, fp32: max %.2e" % figures["host"]["host_vs_python_fp32"]["max"])
        print("  goal (%d fp16 in <= %.0f GiB of VRAM, no slower than upstream eager): %s" % (
            GOAL_RESOLUTION, GOAL_VRAM_GIB, goal_verdict(report, figures)))


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    sys.path.insert(0, str(ROOT))
    if args.child:
        print(json.dumps(run_child(json.loads(args.child))))
        return EXIT_OK
    import torch

    from nuke_plugin.contract import resolution_problem
    from nuke_plugin.contract.torch_targets import TORCH_TARGETS_BY_KEY

    unknown = [t for t in args.targets.split(",") if t not in TORCH_TARGETS_BY_KEY]
    problem = resolution_problem(args.resolution)
    if unknown or problem:
        print("gpu check: %s" % ("unknown targets %s" % unknown if unknown else "--resolution: " + problem),
              file=sys.stderr)
        return EXIT_USER
    if args.device == "cuda" and not torch.cuda.is_available():
        print("gpu check: this machine has no CUDA device that torch %s can use (its CUDA: %s). Run it on a machine "
              "with an NVIDIA GPU and its driver; --device cpu runs the same steps on the CPU (use a small "
              "--resolution)." % (torch.__version__, torch.version.cuda or "none, a CPU-only torch"), file=sys.stderr)
        return EXIT_USER
    device_name = torch.cuda.get_device_name(0) if args.device == "cuda" else "CPU"
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    checkpoint = args.checkpoint
    if not checkpoint:
        from exporter.demo_checkpoint import make_random_checkpoint

        checkpoint = str(out / "random_weights.pth")
        make_random_checkpoint(checkpoint, args.resolution)
    start = time.perf_counter()
    try:
        report = measure(args, out, checkpoint, device_name)
    except StepFailed as exc:
        print("gpu check: %s" % exc, file=sys.stderr)
        return EXIT_FAILED
    report["wall_s"] = time.perf_counter() - start
    (out / "report.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print_report(report)
    print("\n%.0f s in all; every figure is in %s" % (report["wall_s"], out / "report.json"))
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
