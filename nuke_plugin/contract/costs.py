"""What one frame costs, per build (the attention's operator set) and model resolution: the measured table.

One home for these figures: the Build Model dialog's quotes (core.settings.cost_text) and the README's table
(`python -m nuke_plugin.cli.cost_docs`, checked by a test) are made from it. `benchmarks/bench_resolutions.py`
measures them and prints these rows; each row carries the day it was measured and the machine's load then, and is
measured again whenever the code it describes changes.

Part of the contract: pure Python 3.9+, standard library only.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Optional, Tuple

from .torch_targets import FUSED, PORTABLE

# Where every row was measured: one 1920x1080 plate through the eager Nuke module (the exported .pt runs within
# a few per cent of it, benchmarks/bench_exporter.py), CPU, fp32, random weights (the cost does not depend on them).
MACHINE = "this project's 2-core CPU machine (cores shared with other jobs), torch 2.14.1"
PLATE = "1920x1080"


@dataclass(frozen=True)
class FrameCost:
    operators: str      # torch_targets.FUSED or PORTABLE: which builds it describes
    resolution: int
    seconds: float      # one frame, median of the runs
    peak_rss_gb: float  # peak resident memory of the process that ran it (model, frame and all)
    measured: str       # the day, YYYY-MM-DD
    load: float         # the machine's 1-minute load average when it was measured (2 cores: 2.0 is full)


FRAME_COSTS: Tuple[FrameCost, ...] = (
    FrameCost(FUSED, 1024, 12.8, 2.31, "2026-12-03", 1.9),
    FrameCost(PORTABLE, 1024, 13.9, 2.31, "2026-12-03", 1.9),
    FrameCost(FUSED, 1536, 33.5, 3.82, "2026-12-03", 2.0),
    FrameCost(PORTABLE, 1536, 37.9, 3.83, "2026-12-03", 2.0),
    FrameCost(FUSED, 2048, 74.0, 5.93, "2026-12-03", 2.0),
    FrameCost(PORTABLE, 2048, 81.7, 5.94, "2026-12-03", 2.0),
)
FRAME_COSTS_BY_KEY: Dict[Tuple[str, int], FrameCost] = {(c.operators, c.resolution): c for c in FRAME_COSTS}
OPERATOR_SET_NAMES = {FUSED: "fused attention (Nuke 15.1+ builds)", PORTABLE: "portable (Nuke 14 / 15.0 builds)"}


def frame_cost(operators: str, resolution: int) -> Optional[FrameCost]:
    return FRAME_COSTS_BY_KEY.get((operators, resolution))
