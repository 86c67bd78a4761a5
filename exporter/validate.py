"""Checks a saved .pt the way Nuke will use it, before it replaces a previous build.

One full pass of the network, the saved file's `forward` on an odd-sized probe, must match the eager model. Every
other check calls the saved file's stages (nuke_module: `prepare`, `refiner_scale`, `finish`) where each knob
acts, so it costs no further network pass (minutes each at 2048 on a CPU) and does not depend on what the
weights make of a probe: the knobs after the network are checked on a synthetic network output built so that
each of them must act, and a matte without islands cannot hide despeckle. Clean-up Only is checked as the gizmo
uses it: `forward` with it on, given the result made with Auto Despeckle off, must give the one-node result.
"""
from __future__ import annotations

from typing import Any, Callable, Dict, List, Tuple

import torch

from nuke_plugin.contract.knob_spec import (
    AUTO_DESPECKLE,
    CLEAN_UP_ONLY,
    DESPECKLE_SIZE,
    DESPILL_STRENGTH,
    GAMMA_INPUT,
    REFINER_STRENGTH,
    RESAMPLE,
    STAGE_KNOBS,
)

from .errors import ExportError
from .lanes.lane_check import PROBE_SIZES, probe_plate

# The saved (traced) model against the eager one in the same torch: fused and reordered kernels, so more than
# the same file in two torches (CROSS_TORCH_TOLERANCE) but far below what an artist could see.
TOLERANCE = 1e-4
# One non-default value per knob, each chosen to move the output where the knob acts.
KNOB_CHANGES = (
    (DESPILL_STRENGTH.name, DESPILL_STRENGTH.maximum),
    (GAMMA_INPUT.name, GAMMA_INPUT.items.index("Linear")),
    (REFINER_STRENGTH.name, REFINER_STRENGTH.minimum),
    (RESAMPLE.name, RESAMPLE.items.index("Bilinear")),
    (AUTO_DESPECKLE.name, 0),
    # Larger than the plate: every island goes, so the matte changes wherever despeckle kept something.
    (DESPECKLE_SIZE.name, DESPECKLE_SIZE.maximum),
    (CLEAN_UP_ONLY.name, 1),
)
# Each knob by the stage of the saved module that reads it: the stage its liveness is checked on.
PREPARE_KNOBS = (GAMMA_INPUT.name,)
NETWORK_KNOBS = (REFINER_STRENGTH.name,)
FINISH_KNOBS = (RESAMPLE.name, AUTO_DESPECKLE.name, DESPECKLE_SIZE.name, DESPILL_STRENGTH.name)
# STAGE_KNOBS (knob_spec) are read by `forward` itself: checked by comparing stages (see _clean_up_split).
# The whole-frame view of the same changes (the C++ host checks run `forward` only, on random weights): switching
# despeckle off shows only where it removed something, so it is switched off from a size that removes everything.
KNOB_CONTEXT = {AUTO_DESPECKLE.name: {DESPECKLE_SIZE.name: DESPECKLE_SIZE.maximum}}
# The plate size the post-network knobs are checked at: odd, and wide enough that the synthetic speck lies
# outside the 25-pixel margin despeckle keeps around the large island.
FINISH_SIZE = (121, 173)
# Full forward passes of the network a validation costs: the saved file's forward on the reference probe.
VALIDATION_PASSES = 1


def network_output_probe(resolution: int) -> torch.Tensor:
    """A made-up network output, [1, 4, res, res] fg RGB + alpha, on which every post-network knob must act when
    finished to FINISH_SIZE: a spilled (green) foreground for despill; a hard-edged matte, which Lanczos and
    bilinear resample differently; a large island (about 7000 plate pixels: kept by the default despeckle, removed
    by the largest size) and, 70 pixels from it, a speck of about 30 (removed by the default size)."""
    height, width = FINISH_SIZE
    keyed = torch.zeros(1, 4, resolution, resolution)
    keyed[0, 0].fill_(0.2)
    keyed[0, 1].fill_(0.7)
    keyed[0, 2].fill_(0.3)

    def rows(first: int, last: int) -> slice:
        return slice(first * resolution // height, last * resolution // height)

    def cols(first: int, last: int) -> slice:
        return slice(first * resolution // width, last * resolution // width)

    keyed[0, 3, rows(10, 110), cols(10, 80)] = 1.0
    keyed[0, 3, rows(55, 61), cols(150, 157)] = 1.0
    return keyed


def reference_probe() -> torch.Tensor:
    """The frame the eager reference and the saved model are compared on."""
    return probe_plate(*PROBE_SIZES[0])


def eager_reference(eager: torch.nn.Module, device: torch.device) -> torch.Tensor:
    """The eager pipeline's output on the reference probe (the GPU path: there a second pass costs nothing)."""
    with torch.no_grad():
        return eager.to(device).eval()(reference_probe().to(device)).cpu()


# Operators that read only a tensor's shape, type or device: a value that reaches the output only through them
# does not move it.
_METADATA_OPS = frozenset(("aten::size", "aten::dim", "aten::numel", "prim::device", "prim::dtype", "prim::layout",
                           "aten::empty_like", "aten::zeros_like", "aten::ones_like", "aten::full_like"))


def _reaches_output(graph: Any, value: Any) -> bool:
    """Whether `value` (a graph input) flows into what the graph returns through operators that read its numbers:
    a weight-free proof that it is used."""
    seen = set()
    pending = [value]
    returned = graph.return_node()
    while pending:
        current = pending.pop()
        for use in current.uses():
            node = use.user
            if node == returned:
                return True
            if node.kind() in _METADATA_OPS:
                continue
            for output in node.outputs():
                if output.debugName() not in seen:
                    seen.add(output.debugName())
                    pending.append(output)
    return False


def network_uses_refiner_scale(loaded: Any) -> bool:
    """The saved network's second input (the refiner scale) reaches its outputs."""
    graph = loaded.network.graph
    inputs = list(graph.inputs())  # self, the model input, the refiner scale
    return len(inputs) == 3 and _reaches_output(graph, inputs[2])


Stage = Callable[[Any], torch.Tensor]


def _prepare(plate: torch.Tensor) -> Stage:
    return lambda module: module.prepare(plate)


def _refiner_scale(plate: torch.Tensor) -> Stage:
    return lambda module: module.refiner_scale(plate)


def _finish(keyed: torch.Tensor, height: int, width: int) -> Stage:
    return lambda module: module.finish(keyed, height, width)


def _forward(image: torch.Tensor) -> Stage:
    return lambda module: module(image)


class _Checker:
    """Runs one stage of the saved module and of the eager one at the same knob values, and keeps the figures."""

    def __init__(self, loaded: Any, eager: Any, device: torch.device) -> None:
        self.loaded = loaded
        self.eager = eager
        self.device = device
        self.defaults = {name: getattr(loaded, name) for name, _ in KNOB_CHANGES}
        self.worst = 0.0

    def run(self, stage: Stage, values: Dict[str, Any], what: str) -> torch.Tensor:
        outputs = []
        for module in (self.loaded, self.eager):
            for name, value in dict(self.defaults, **values).items():
                setattr(module, name, value)
            try:
                outputs.append(stage(module).cpu())
            finally:
                for name, value in self.defaults.items():
                    setattr(module, name, value)
        saved, eager = outputs
        if not torch.isfinite(saved).all():
            raise ExportError("Saved model produced non-finite values in %s." % what)
        error = float((saved.float() - eager.float()).abs().max())
        self.worst = max(self.worst, error)
        if error > TOLERANCE:
            raise ExportError("Saved model differs from the eager model by %.3g in %s (tolerance %.0e). "
                              "Report this with the exporter's log." % (error, what, TOLERANCE))
        return saved


def _require_shape(out: torch.Tensor, shape: Tuple[int, ...], what: str) -> None:
    if tuple(out.shape) != shape:
        raise ExportError("Saved model returned shape %s from %s; expected %s." % (tuple(out.shape), what, shape))


def _require_change(name: str, before: torch.Tensor, after: torch.Tensor, where: str) -> float:
    changed = float((after - before).abs().max())
    if changed == 0.0:
        raise ExportError("Knob %s has no effect on the saved model's %s; it would be dead in Nuke." % (name, where))
    return changed


def _clean_up_split(check: _Checker, keyed: torch.Tensor, name: str, value: Any) -> float:
    """The gizmo's two nodes against one: `forward` with Clean-up Only on, given what the network node gives (the
    finish with Auto Despeckle and Despill off), must give the finish with both at their defaults (despeckle on).
    No network runs: with the knob dead, `forward` would run the network and could not match. Returns how much the
    clean-up changed its input."""
    height, width = FINISH_SIZE
    whole = check.run(_finish(keyed, height, width), {}, "post-processing at the defaults")
    held = check.run(_finish(keyed, height, width), {AUTO_DESPECKLE.name: 0, DESPILL_STRENGTH.name: 0.0},
                     "post-processing with Auto Despeckle and Despill off")
    cleaned = check.run(_forward(held), {name: value}, "forward with %s=%s" % (name, value))
    _require_shape(cleaned, tuple(whole.shape), "forward with %s=%s" % (name, value))
    error = float((cleaned - whole).abs().max())
    if error > TOLERANCE:
        raise ExportError("Saved model's clean-up stage (%s=%s) differs from its whole post-processing by %.3g "
                          "(tolerance %.0e); the gizmo's two nodes would not give one node's matte. Report this "
                          "with the exporter's log." % (name, value, error, TOLERANCE))
    return _require_change(name, held, cleaned, "clean-up stage")


def validate(loaded: torch.nn.Module, reference: torch.Tensor, device: torch.device,
             progress: Callable[[str, float], None], resolution: int) -> Dict[str, Any]:
    """Checks the loaded module: its forward against `reference` (the eager output on the reference probe), its
    stages at two odd sizes against the eager module's, and every knob live where it acts.

    Returns figures for the manifest; raises ExportError on any failure.
    """
    from .scripted.nuke_module import CorridorKeyNuke  # the eager stages; the network plays no part in them

    loaded = loaded.to(device).eval()
    eager = CorridorKeyNuke(torch.nn.Identity(), resolution).to(device).eval()
    check = _Checker(loaded, eager, device)
    results: Dict[str, Any] = {"device": str(device), "sizes": [list(s) for s in PROBE_SIZES]}
    with torch.no_grad():
        height, width = PROBE_SIZES[0]
        progress("Running the saved model on a %dx%d frame" % (width, height), 0.0)
        probe = reference_probe().to(device)
        out = loaded(probe)
        _require_shape(out, (1, 4, height, width), "a %dx%d input" % (width, height))
        if not torch.isfinite(out).all():
            raise ExportError("Saved model produced non-finite values on a %dx%d frame." % (width, height))
        error = float((out.cpu() - reference).abs().max())
        results["max_abs_error_vs_eager"] = error
        if error > TOLERANCE:
            raise ExportError("Saved model differs from the eager model by %.3g (tolerance %.0e). "
                              "Report this with the exporter's log." % (error, TOLERANCE))

        # The network pass is nearly all of this stage's time; the stage checks that follow take seconds.
        progress("Checking the saved model's stages and that every knob changes the result", 0.9)
        keyed = network_output_probe(resolution).to(device)
        for height, width in PROBE_SIZES:
            plate = probe_plate(height, width).to(device)
            prepared = check.run(_prepare(plate), {}, "prepare on a %dx%d frame" % (width, height))
            _require_shape(prepared, (1, 4, resolution, resolution), "prepare on a %dx%d frame" % (width, height))
            finished = check.run(_finish(keyed, height, width), {}, "finish to %dx%d" % (width, height))
            _require_shape(finished, (1, 4, height, width), "finish to %dx%d" % (width, height))

        live: List[Tuple[str, float]] = []
        for name, value in KNOB_CHANGES:
            if name in STAGE_KNOBS:
                live.append((name, _clean_up_split(check, keyed, name, value)))
                continue
            if name in PREPARE_KNOBS:
                stage, where = _prepare(probe), "network input"
            elif name in NETWORK_KNOBS:
                stage, where = _refiner_scale(probe), "refiner scale"
                if not network_uses_refiner_scale(loaded):
                    raise ExportError("Knob %s has no effect: the saved network ignores its refiner scale input; it "
                                      "would be dead in Nuke." % name)
            else:
                stage, where = _finish(keyed, FINISH_SIZE[0], FINISH_SIZE[1]), "post-processing"
            before = check.run(stage, {}, "%s at the defaults" % where)
            after = check.run(stage, {name: value}, "%s with %s=%s" % (where, name, value))
            live.append((name, _require_change(name, before, after, where)))
        results["knob_effect"] = dict(live)
        results["max_abs_error_of_stages_vs_eager"] = check.worst
    progress("Validation passed", 1.0)
    return results
