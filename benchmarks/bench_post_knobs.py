"""Prints what moving each of the gizmo's knobs costs to re-render, as a share of a whole frame.

  .venv/bin/python benchmarks/bench_post_knobs.py [--width 3840 --height 2160 --resolution 2048 --runs 1]

A Python pipeline of the gizmo's stages, as Nuke runs them: the network stage is the Nuke module (random weights,
every knob at the gizmo's default, despill held off as the gizmo's Inference node holds it: node_graph.NETWORK_HELD),
and the nodes after it are the numpy replica of the gizmo's native nodes (tools/render_check/gizmo_maths.py), which
evaluates the very expressions the gizmo writer puts into them. Nuke re-renders only the nodes whose knobs or inputs
changed, so a knob read after the Inference node costs those nodes alone, and a knob read before or inside it costs
a whole frame. Frames and post-processing are timed in one process, interleaved, so both see the same load; the
first round is a warm-up. The replica is numpy in float64 on one core, slower than Nuke's own nodes, so its shares
are an upper bound.
"""
import argparse
import os
import statistics
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", type=int, default=3840)
    parser.add_argument("--height", type=int, default=2160)
    parser.add_argument("--resolution", type=int, default=2048)
    parser.add_argument("--runs", type=int, default=1, help="timed rounds after the warm-up round")
    args = parser.parse_args(argv)
    sys.path.insert(0, ROOT)
    import numpy as np
    import torch

    from exporter.memory import limit_heap_retention
    from exporter.scripted.network import GreenFormer
    from exporter.scripted.nuke_module import CorridorKeyNuke
    from exporter.validate import green_screen_probe
    from nuke_plugin.contract.knob_spec import KNOBS
    from nuke_plugin.contract.node_graph import NETWORK_HELD
    from nuke_plugin.core.gizmo import OUTPUT_OVER_CHECKERBOARD, node_knob
    from tools.render_check.gizmo_maths import despill, network_knobs, premultiply, preview, srgb_to_linear

    limit_heap_retention()
    model = CorridorKeyNuke(GreenFormer(args.resolution).eval(), args.resolution).eval()
    for name, value in network_knobs({k.name: node_knob(k).default for k in KNOBS}).items():
        setattr(model, name, value)
    plate = green_screen_probe(args.height, args.width)
    state = {}

    def network():
        with torch.no_grad():
            state["keyed"] = model(plate).numpy()

    def straight():
        """Despill (Expression) and ToLinear (Colorspace): the straight linear result every Output starts from."""
        out = despill(state["keyed"], 5.0)
        fg = np.transpose(out[0, 0:3], (1, 2, 0))
        return srgb_to_linear(fg), out[0, 3]

    def after_despill():
        """Despill moved: Despill, ToLinear, Premult (Output's default)."""
        linear, alpha = straight()
        return premultiply(linear, alpha)

    def after_output():
        """Output moved to the dearest choice, Over checkerboard: Despill, ToLinear, Premult, background, Merge."""
        linear, alpha = straight()
        return preview(linear, alpha, OUTPUT_OVER_CHECKERBOARD)

    steps = {"network": network, "despill": after_despill, "output": after_output}
    times = {name: [] for name in steps}
    for run in range(args.runs + 1):
        for name, step in steps.items():
            start = time.perf_counter()
            step()
            if run:
                times[name].append(time.perf_counter() - start)
            print("round %d: %s %.3f s" % (run, name, time.perf_counter() - start), file=sys.stderr, flush=True)
    median = {name: statistics.median(values) for name, values in times.items()}
    frame = median["network"] + median["despill"]
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    print("plate %dx%d, res %d, CPU, torch %s, %d threads, median of %d timed round(s)%s" % (
        args.width, args.height, args.resolution, torch.__version__, torch.get_num_threads(), args.runs,
        ", load average %.2f %.2f %.2f at the end" % load if load else ""))
    print("whole frame (network stage + nodes after it): %.3f s" % frame)
    rows = [("Despill Strength", median["despill"], "Despill, ToLinear, Premult")]
    rows.append(("Output, Preview Colour", median["output"], "Despill, ToLinear, the Over checkerboard preview"))
    network_knob_names = [k.label for k in KNOBS if k.name not in NETWORK_HELD]
    for label, seconds, what in rows:
        print("%-24s %.3f s = %.2f %% of the frame (re-renders: %s)" % (label, seconds, 100.0 * seconds / frame, what))
    print("%-24s %.3f s = 100 %% (the network re-runs): %s" % ("every other model knob", frame,
                                                                ", ".join(network_knob_names)))


if __name__ == "__main__":
    main()
