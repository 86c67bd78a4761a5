"""Prints what upstream's CLI post-processing (Lanczos-4 back to the plate + auto-despeckle) costs per frame.

  .venv/bin/python benchmarks/bench_despeckle.py [--width 3840 --height 2160 --resolution 2048 --runs 3 --frame]

Measures the scripted functions the Nuke module calls, on a res x res network output scaled to the plate: a
soft subject, specks and a few tracking dots (what despeckle exists for). With --frame it also times whole
frames of the Nuke module (random weights, every knob at its default) in the same process, interleaved with the
post-processing runs, and prints the post-processing's share of a frame: both see the same machine load.
"""
import argparse
import os
import statistics
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def network_output(resolution, device):
    """[1, 4, res, res]: grey foreground and a soft elliptical subject with specks and dots in the alpha."""
    import torch

    gen = torch.Generator().manual_seed(0)
    y, x = torch.meshgrid(torch.linspace(-1, 1, resolution), torch.linspace(-1, 1, resolution), indexing="ij")
    alpha = (1.6 - 2.0 * torch.sqrt((y / 0.8) ** 2 + (x / 0.5) ** 2)).clamp(0, 1)
    alpha = torch.maximum(alpha, (torch.rand(resolution, resolution, generator=gen) > 0.9995).float())
    for row, col in ((0.1, 0.1), (0.15, 0.8), (0.85, 0.2), (0.9, 0.9)):
        r, c = int(row * resolution), int(col * resolution)
        alpha[r:r + 6, c:c + 6] = 1.0
    out = torch.rand(1, 4, resolution, resolution, generator=gen)
    out[0, 3] = alpha
    return out.to(device)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", type=int, default=3840)
    parser.add_argument("--height", type=int, default=2160)
    parser.add_argument("--resolution", type=int, default=2048)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--frame", action="store_true", help="also time whole frames and print the share")
    args = parser.parse_args(argv)
    sys.path.insert(0, ROOT)
    import torch

    from exporter.scripted.despeckle import despeckle
    from exporter.scripted.lanczos import resize_lanczos4

    lanczos = torch.jit.script(resize_lanczos4)
    clean = torch.jit.script(despeckle)
    keyed = network_output(args.resolution, torch.device(args.device))

    steps = {"lanczos": lambda: lanczos(keyed, args.height, args.width)}
    resized = steps["lanczos"]()
    steps["despeckle"] = lambda: clean(resized[0, 3], 400)
    if args.frame:
        from exporter.lanes.lane_check import probe_plate
        from exporter.scripted.network import GreenFormer
        from exporter.scripted.nuke_module import CorridorKeyNuke

        model = CorridorKeyNuke(GreenFormer(args.resolution).eval(), args.resolution).eval().to(args.device)
        plate = probe_plate(args.height, args.width).to(args.device)
        steps["frame"] = lambda: model(plate)

    times = {name: [] for name in steps}
    with torch.no_grad():
        for run in range(args.runs + 1):  # the first round warms the TorchScript executor and allocator up
            for name, step in steps.items():
                start = time.perf_counter()
                step()
                if args.device.startswith("cuda"):
                    torch.cuda.synchronize()
                if run:
                    times[name].append(time.perf_counter() - start)
    lanczos_s, despeckle_s = statistics.median(times["lanczos"]), statistics.median(times["despeckle"])
    print("plate %dx%d from res %d on %s, torch %s, %d threads, median of %d" % (
        args.width, args.height, args.resolution, args.device, torch.__version__, torch.get_num_threads(), args.runs))
    print("lanczos-4 resample (4 channels): %.3f s" % lanczos_s)
    print("auto-despeckle (size 400):       %.3f s" % despeckle_s)
    print("together:                        %.3f s" % (lanczos_s + despeckle_s))
    if args.frame:
        frame_s = statistics.median(times["frame"])
        print("whole frame (res %d, defaults):  %.3f s; post-processing share %.1f %%" % (
            args.resolution, frame_s, 100.0 * (lanczos_s + despeckle_s) / frame_s))


if __name__ == "__main__":
    main()
