"""Prints what moving each of the gizmo's knobs costs to re-render, as a share of a whole frame.

  .venv/bin/python benchmarks/bench_post_knobs.py [--width 3840 --height 2160 --resolution 2048 --runs 1]

A Python pipeline of the gizmo's stages, as Nuke runs them:
- the network node: the Nuke module (random weights) with the knobs its Inference node holds
  (node_graph.network_held: despill and despeckle off);
- the CleanUp node: the same module, scripted as an export saves it, with Clean-up Only on
  (node_graph.clean_up_held) on the network node's result. Clean-up Only never calls the network, so the
  scripted copy carries a stand-in network and costs what the saved file costs there;
- the native nodes after them: the numpy replica of the gizmo's nodes (tools/render_check/gizmo_maths.py),
  which evaluates the very expressions the gizmo writer puts into them.
Nuke re-renders only the nodes whose knobs or inputs changed, so a knob read after the network node costs the nodes
after it alone, and a knob read before or inside it costs a whole frame. Despeckle's cost depends on the matte (a
random network's is no guide: it has no islands at all), so the clean-up is timed on the synthetic plate's true
matte and on the same matte with specks (1 % of its pixels set, thousands of small islands, like tracking markers);
the dearer counts. Everything is timed in one process, interleaved, so every stage sees the same load; the first round
is a warm-up. The replica is numpy in float64 on one core, slower than Nuke's own nodes, so its shares are an upper
bound.
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

    from benchmarks.harness import load_average
    from exporter.lanes.selftest_model import build_module
    from exporter.memory import limit_heap_retention
    from exporter.scripted.network import GreenFormer
    from exporter.scripted.nuke_module import CorridorKeyNuke
    from nuke_plugin.contract.knob_spec import DESPILL_STRENGTH, KNOBS, STAGE_KNOBS
    from nuke_plugin.contract.node_graph import CLEAN_UP_FOLLOWS, network_held
    from nuke_plugin.core.gizmo import OUTPUT_OVER_CHECKERBOARD, node_knob
    from tools.render_check.gizmo_maths import (
        clean_up_knobs,
        despill,
        network_knobs,
        premultiply,
        preview,
        srgb_to_linear,
    )
    from tools.render_check.plate import synthetic_plate

    limit_heap_retention()
    gizmo = {k.name: node_knob(k).default for k in KNOBS}
    network_model = CorridorKeyNuke(GreenFormer(args.resolution).eval(), args.resolution).eval()
    for name, value in network_knobs(gizmo).items():
        setattr(network_model, name, value)
    clean_up_model = build_module()  # scripted; its network never runs with Clean-up Only on
    for name, value in clean_up_knobs(gizmo).items():
        setattr(clean_up_model, name, value)
    plate = synthetic_plate(args.height, args.width, 0)
    model_input = torch.from_numpy(plate.model_input(True))
    true_matte = torch.from_numpy(plate.ideal_output())
    specked = true_matte.clone()
    specks = torch.rand(args.height, args.width, generator=torch.Generator().manual_seed(1)) < 0.01
    specked[0, 3][specks] = 1.0
    state = {}

    def network():
        with torch.no_grad():
            state["network"] = network_model(model_input)

    def clean_up(source):
        with torch.no_grad():
            state["keyed"] = clean_up_model(source).numpy()

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

    steps = {"network": network,
             "clean-up, true matte": lambda: clean_up(true_matte),
             "clean-up, specked matte": lambda: clean_up(specked),
             "clean-up, network result": lambda: clean_up(state["network"]),
             "despill": after_despill,
             "output": after_output}
    times = {name: [] for name in steps}
    for run in range(args.runs + 1):
        for name, step in steps.items():
            start = time.perf_counter()
            step()
            if run:
                times[name].append(time.perf_counter() - start)
            print("round %d: %s %.3f s" % (run, name, time.perf_counter() - start), file=sys.stderr, flush=True)
    median = {name: statistics.median(values) for name, values in times.items()}
    cleaning = max(median["clean-up, true matte"], median["clean-up, specked matte"])
    frame = median["network"] + cleaning + median["despill"]
    print("plate %dx%d, res %d, CPU, torch %s, %d threads, median of %d timed round(s), load %.2f" % (
        args.width, args.height, args.resolution, torch.__version__, torch.get_num_threads(), args.runs,
        load_average()))
    print("whole frame (network node + CleanUp + the nodes after them): %.3f s" % frame)
    print("  CleanUp (Auto Despeckle on, size %d): %.3f s on the true matte, %.3f s with specks" % (
        gizmo[CLEAN_UP_FOLLOWS[1]], median["clean-up, true matte"], median["clean-up, specked matte"]))
    despeckle_labels = ", ".join(k.label for k in KNOBS if k.name in CLEAN_UP_FOLLOWS)
    rows = [(despeckle_labels, cleaning + median["despill"], "CleanUp, Despill, ToLinear, Premult"),
            (DESPILL_STRENGTH.label, median["despill"], "Despill, ToLinear, Premult"),
            ("Output, Preview Colour", median["output"], "Despill, ToLinear, the Over checkerboard preview")]
    held = network_held(KNOBS)
    network_knob_names = [k.label for k in KNOBS if k.name not in held and k.name not in STAGE_KNOBS]
    for label, seconds, what in rows:
        print("%-36s %.3f s = %.2f %% of the frame (re-renders: %s)" % (label, seconds, 100.0 * seconds / frame,
                                                                         what))
    print("%-36s %.3f s = 100 %% (the network re-runs): %s" % ("every other model knob", frame,
                                                                ", ".join(network_knob_names)))


if __name__ == "__main__":
    main()
