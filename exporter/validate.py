"""Checks a saved .pt the way Nuke will use it, before it replaces a previous build."""
from __future__ import annotations

from typing import Any, Callable, Dict, List, Tuple

import torch

from nuke_plugin.contract.knob_spec import (
    AUTO_DESPECKLE,
    DESPECKLE_SIZE,
    DESPILL_STRENGTH,
    GAMMA_INPUT,
    REFINER_STRENGTH,
    RESAMPLE,
)

from .errors import ExportError

# Odd sizes on purpose: they catch shape arithmetic that only works on even or square frames.
PROBE_SIZES = ((37, 53), (5, 3))
TOLERANCE = 1e-4
# One non-default value per knob, each chosen to move the output of a green-screen probe.
KNOB_CHANGES = (
    (DESPILL_STRENGTH.name, DESPILL_STRENGTH.maximum),
    (GAMMA_INPUT.name, GAMMA_INPUT.items.index("Linear")),
    (REFINER_STRENGTH.name, REFINER_STRENGTH.minimum),
    (RESAMPLE.name, RESAMPLE.items.index("Bilinear")),
    (AUTO_DESPECKLE.name, 0),
    # Larger than the probe: every island goes, so the matte changes wherever despeckle kept something.
    (DESPECKLE_SIZE.name, DESPECKLE_SIZE.maximum),
)
# Knobs whose effect depends on the picture are checked from a setting where they must act: with the
# size above the frame, despeckle clears the whole matte, so switching it off has to bring the matte back.
KNOB_CONTEXT = {AUTO_DESPECKLE.name: {DESPECKLE_SIZE.name: DESPECKLE_SIZE.maximum}}


def green_screen_probe(height: int, width: int, seed: int = 0) -> torch.Tensor:
    """A deterministic [1, 4, H, W] plate: grainy green backing, a grey subject in the middle, a rough hint."""
    gen = torch.Generator().manual_seed(seed)
    plate = torch.empty(1, 4, height, width)
    plate[0, 0].fill_(0.10)
    plate[0, 1].fill_(0.75)
    plate[0, 2].fill_(0.15)
    plate[0, 3].zero_()
    top, left = height // 4, width // 4
    bottom, right = max(top + 1, 3 * height // 4), max(left + 1, 3 * width // 4)
    plate[0, 0:3, top:bottom, left:right] = torch.tensor([0.55, 0.5, 0.45]).view(3, 1, 1)
    plate[0, 3, top:bottom, left:right] = 1.0
    plate[0, 0:3] += 0.05 * torch.rand(3, height, width, generator=gen)
    return plate


Setting = Tuple[Tuple[str, Any], ...]


def _setting(values: Dict[str, Any]) -> Setting:
    return tuple(sorted(values.items()))


def knob_runs() -> List[Tuple[str, Setting, Setting]]:
    """(knob, setting it is checked from, setting with the knob changed) for every knob."""
    runs = []
    for name, value in KNOB_CHANGES:
        context = KNOB_CONTEXT.get(name, {})
        runs.append((name, _setting(context), _setting(dict(context, **{name: value}))))
    return runs


def _distinct_knob_settings() -> List[Setting]:
    """Every setting the knob checks need beyond the defaults, each once: a context that is another knob's
    change (despeckle's size) is the same frame and is run once."""
    seen: List[Setting] = [()]
    for _, before, after in knob_runs():
        seen.extend(s for s in (before, after) if s not in seen)
    return seen[1:]


# Full forward passes of the network a validation costs: the dominant cost of an export at 2048 on a CPU.
VALIDATION_PASSES = len(PROBE_SIZES) + len(_distinct_knob_settings())


def _knob_values(module: Any) -> Dict[str, Any]:
    return {name: getattr(module, name) for name, _ in KNOB_CHANGES}


def _output_with(module: Any, probe: torch.Tensor, values: Dict[str, Any], defaults: Dict[str, Any]) -> torch.Tensor:
    _set_knobs(module, dict(defaults, **values))
    try:
        return module(probe)
    finally:
        _set_knobs(module, defaults)


def _set_knobs(module: Any, values: Dict[str, Any]) -> None:
    for name, value in values.items():
        setattr(module, name, value)


def reference_probe() -> torch.Tensor:
    """The frame the eager reference and the saved model are compared on."""
    return green_screen_probe(*PROBE_SIZES[0])


def eager_reference(eager: torch.nn.Module, device: torch.device) -> torch.Tensor:
    """The eager pipeline's output on the reference probe (the GPU path: there a second pass costs nothing)."""
    with torch.no_grad():
        return eager.to(device).eval()(reference_probe().to(device)).cpu()


def validate(loaded: torch.nn.Module, reference: torch.Tensor, device: torch.device,
             progress: Callable[[str, float], None]) -> Dict[str, Any]:
    """Runs the loaded module at two odd sizes, checks every knob is live and that it matches `reference`.

    Returns figures for the manifest; raises ExportError on any failure.
    """
    loaded = loaded.to(device).eval()
    defaults = _knob_values(loaded)
    done = 0
    results: Dict[str, Any] = {"device": str(device), "sizes": [list(s) for s in PROBE_SIZES]}

    def step(message: str) -> None:
        """Called before each forward pass: the progress is the share of passes done."""
        nonlocal done
        progress(message, done / VALIDATION_PASSES)
        done += 1

    with torch.no_grad():
        baseline = None
        for height, width in PROBE_SIZES:
            step("Running the saved model on a %dx%d frame" % (width, height))
            probe = green_screen_probe(height, width).to(device)
            out = loaded(probe)
            if tuple(out.shape) != (1, 4, height, width):
                raise ExportError("Saved model returned shape %s for a %dx%d input; expected %s."
                                  % (tuple(out.shape), width, height, (1, 4, height, width)))
            if not torch.isfinite(out).all():
                raise ExportError("Saved model produced non-finite values on a %dx%d frame." % (width, height))
            if baseline is None:
                baseline = (probe, out)

        assert baseline is not None  # the loop ran at least once
        probe, out = baseline
        error = float((out.cpu() - reference).abs().max())
        results["max_abs_error_vs_eager"] = error
        if error > TOLERANCE:
            raise ExportError("Saved model differs from the eager model by %.3g (tolerance %.0e). "
                              "Report this with the exporter's log." % (error, TOLERANCE))

        outputs: Dict[Setting, torch.Tensor] = {(): out}

        def output(setting: Setting, knob: str) -> torch.Tensor:
            if setting not in outputs:
                step("Checking that knob %s changes the result" % knob)
                outputs[setting] = _output_with(loaded, probe, dict(setting), defaults)
            return outputs[setting]

        live: List[Tuple[str, float]] = []
        for name, before, after in knob_runs():
            changed = float((output(after, name) - output(before, name)).abs().max())
            if changed == 0.0:
                raise ExportError("Knob %s has no effect on the saved model; it would be dead in Nuke." % name)
            live.append((name, changed))
        results["knob_effect"] = dict(live)
    progress("Validation passed", 1.0)
    return results
