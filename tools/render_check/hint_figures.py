"""How good the built-in hint is on a plate whose true matte is known: the figures benchmarks/bench_builtin_hint.py
prints and the tests hold to their bars.

- precision: the share of the hint's pixels (hint > 0.5) where the true matte is over 0.5, i.e. inside the subject;
- coverage: the share of the solid matte (true alpha > 0.99) the hint covers;
- interior coverage: the same over the solid matte's interior, what is left of it after eroding it by Hint Erode
  + 1 pixels: the part an eroded hint is meant to cover.
"""
from __future__ import annotations

from typing import Dict, Optional, Tuple

import numpy as np

from nuke_plugin.contract.node_graph import HINT_BACKING, HINT_ERODE

from .gizmo_maths import builtin_hint, dilate
from .plate import HINT_PLATES, Plate, synthetic_plate

ENCODINGS = ("linear", "sRGB")  # the plate as it enters the node: Input Gamma Linear (the default) or sRGB
PRECISION_BAR = 0.95  # the issue's: the hint's inside lies within the true matte
INTERIOR_COVERAGE_BAR = 0.85  # "covers most of its interior"


def figures(hint: np.ndarray, alpha: np.ndarray, erode: int) -> Dict[str, float]:
    inside = hint > 0.5
    solid = alpha > 0.99
    interior = dilate(solid.astype(np.float32), -(abs(erode) + 1)) > 0.5
    return {
        "precision": float((alpha[inside] > 0.5).mean()) if inside.any() else float("nan"),
        "coverage": float(inside[solid].mean()) if solid.any() else float("nan"),
        "interior_coverage": float(inside[interior].mean()) if interior.any() else float("nan"),
        "hint_share": float(inside.mean()),
    }


def measure(name: str, encoding: str, size: Tuple[int, int] = (480, 270), seed: int = 0,
            erode: Optional[int] = None) -> Tuple[Plate, np.ndarray, Dict[str, float]]:
    """One plate of HINT_PLATES through the built-in hint at the gizmo's defaults (or its own Backing Colour)."""
    options, backing = HINT_PLATES[name]
    width, height = size
    plate = synthetic_plate(height, width, seed, options)
    knobs = {HINT_BACKING.name: backing or HINT_BACKING.default,
             HINT_ERODE.name: HINT_ERODE.default if erode is None else erode}
    hint = builtin_hint(plate.linear if encoding == "linear" else plate.rgb, knobs)
    return plate, hint, figures(hint, plate.alpha, int(knobs[HINT_ERODE.name]))
