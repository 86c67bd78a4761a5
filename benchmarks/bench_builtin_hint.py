"""Figures of the gizmo's built-in hint (the Hint input left unconnected) on synthetic green-screen plates with a
known matte: precision (the hint's share inside the true matte), coverage of the solid matte and of its interior,
per plate variant and per Input Gamma (the plate entering linear, the default, or sRGB-encoded).

The hint is the numpy replica of the gizmo's own nodes (tools/render_check/gizmo_maths.py evaluates the expressions
the gizmo writer puts into them), at the gizmo's defaults unless `--erode` says otherwise.

    .venv/bin/python benchmarks/bench_builtin_hint.py [--size 1920x1080] [--erode N] [--seed S]
"""
from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from nuke_plugin.contract.node_graph import HINT_BACKING, HINT_ERODE, KEY_EXPONENT


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="480x270", help="plate WIDTHxHEIGHT (480x270)")
    parser.add_argument("--erode", type=int, default=None, help="Hint Erode (default: the gizmo's, %d)"
                        % HINT_ERODE.default)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    # numpy only now: --help answers in any Python
    from tools.render_check.hint_figures import ENCODINGS, INTERIOR_COVERAGE_BAR, PRECISION_BAR, measure
    from tools.render_check.plate import HINT_PLATES

    width, height = (int(v) for v in args.size.lower().split("x"))
    erode = HINT_ERODE.default if args.erode is None else args.erode
    print("built-in hint: Backing Colour %s (default), Hint Erode %d, key exponent %g; plate %dx%d, seed %d"
          % (HINT_BACKING.default, erode, KEY_EXPONENT, width, height, args.seed))
    print("bars: precision >= %.2f, interior coverage >= %.2f" % (PRECISION_BAR, INTERIOR_COVERAGE_BAR))
    print("%-34s %-7s %9s %9s %9s %6s" % ("plate", "gamma", "precision", "coverage", "interior", "bars"))
    failed = 0
    start = time.perf_counter()
    for name in HINT_PLATES:
        for encoding in ENCODINGS:
            _, _, found = measure(name, encoding, (width, height), args.seed, erode)
            ok = found["precision"] >= PRECISION_BAR and found["interior_coverage"] >= INTERIOR_COVERAGE_BAR
            failed += not ok
            print("%-34s %-7s %9.3f %9.3f %9.3f %6s" % (name, encoding, found["precision"], found["coverage"],
                                                      found["interior_coverage"], "ok" if ok else "MISSED"))
    print("%d of %d missed a bar; %.1f s" % (failed, 2 * len(HINT_PLATES), time.perf_counter() - start))
    return 0


if __name__ == "__main__":
    sys.exit(main())
