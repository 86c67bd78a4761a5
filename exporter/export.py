"""Checkpoint -> validated TorchScript + manifest, all or nothing.

Both files are written under temporary names in the destination folder and moved into place only after the
saved model has been reloaded and validated, so an error, Ctrl+C or a cancel from Nuke leaves a previous
build untouched and no partial file behind.
"""
from __future__ import annotations

import io
import json
import os
import warnings
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import torch

from nuke_plugin import contract
from nuke_plugin.contract import manifest_schema
from nuke_plugin.contract.files import remove_partials, sha256_of
from nuke_plugin.contract.knob_spec import KNOBS
from nuke_plugin.contract.torch_targets import FUSED, PORTABLE, operators_for, parse_torch_target, release

from . import cancel
from .checkpoint import load_into, read_state_dict
from .errors import ExportError
from .lanes.portability import check_lane_python, compatible_torch, lane_outputs, verify_in, verify_passes
from .manifest import build_manifest, torchscript_file_version
from .output import SPACE_MARGIN, check_output, commit_pair, make_folder, remove_folders, require_space, write_partial
from .reporting import Reporter
from .scripted.network import GreenFormer
from .scripted.nuke_module import CorridorKeyNuke
from .validate import VALIDATION_PASSES, eager_reference, reference_probe, validate


@dataclass
class ExportResult:
    pt: str
    manifest: str
    info: Dict[str, Any]


def check_resolution(resolution: int) -> None:
    """The same rule as the Nuke side's settings, so a size the dialog refuses is refused here too."""
    problem = contract.resolution_problem(resolution)
    if problem:
        raise ExportError("Model %s. Use a multiple of %d from %d to %d (2048 is native; 1536 and 1024 use less "
                          "GPU memory)." % (problem, contract.RESOLUTION_MULTIPLE, contract.MIN_RESOLUTION,
                                            contract.MAX_RESOLUTION))


class _TraceOnce(torch.nn.Module):
    """Stands in for the network inside the eager wrapper: its one call traces the network on exactly the input the
    wrapper made, and returns what the network returned while being traced. So the eager reference and the trace
    are the same forward pass, not two (at 2048 on a CPU each pass is minutes)."""

    def __init__(self, network: GreenFormer, on_block: Optional[Callable[[int, int], None]]) -> None:
        super().__init__()
        self.network = network
        self.on_block = on_block
        self.traced: Optional[torch.jit.ScriptModule] = None

    def forward(self, model_input: torch.Tensor, scale: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        seen: List[Tuple[torch.Tensor, ...]] = []
        blocks = list(self.network.encoder.model.blocks)
        handles = [self.network.register_forward_hook(
            lambda module, args, output: seen.append(tuple(t.detach().clone() for t in output)))]
        if self.on_block is not None:
            report = self.on_block
            handles += [block.register_forward_hook(
                lambda module, args, output, done=index + 1: report(done, len(blocks)))
                for index, block in enumerate(blocks)]
        try:
            with warnings.catch_warnings():
                # Hiera's shape arithmetic is fixed at one resolution by design; the tracer's notes on it are noise.
                warnings.simplefilter("ignore", torch.jit.TracerWarning)
                self.traced = torch.jit.trace(self.network, (model_input, scale), strict=False, check_trace=False)
        finally:
            for handle in handles:
                handle.remove()
        return seen[-1]


def trace_with_reference(network: GreenFormer, resolution: int,
                         on_block: Optional[Callable[[int, int], None]] = None
                         ) -> Tuple[torch.jit.ScriptModule, torch.Tensor]:
    """Traces the heavy network at the model resolution on the CPU (the only size it ever sees) while the eager
    pipeline runs the reference probe: returns the trace and the eager output the saved model must match.

    `on_block(done, total)` is called as the encoder's blocks run, so the minutes of that pass are visible.
    """
    tracer = _TraceOnce(network, on_block)
    with torch.no_grad():
        reference = CorridorKeyNuke(tracer, resolution).eval()(reference_probe())
    assert tracer.traced is not None  # the wrapper calls its network exactly once
    return tracer.traced, reference


def target_key(text: str) -> str:
    """The target Nuke as the torch table's key ('nuke16'), whether given as '16', 'Nuke 15.1' or the key: the
    manifest uses one vocabulary, whichever path (Build Model, headless, a TD's command line) made it."""
    if not text:
        return ""
    try:
        target = parse_torch_target(text.replace(" ", ""))
    except ValueError as exc:
        raise ExportError("--target-nuke: %s." % exc)
    if not target.supported:
        raise ExportError("--target-nuke %s: %s" % (text, target.note))
    return target.key


def operator_set(target_nuke: str, reporter: Reporter) -> str:
    """The attention's operator set for the target (torch_targets.operators_for), if this torch has it."""
    chosen = operators_for(target_nuke)
    if chosen == FUSED and not hasattr(torch.nn.functional, "scaled_dot_product_attention"):
        reporter.log("torch %s has no scaled_dot_product_attention: building the portable attention, which loads in "
                     "%s too (export with that Nuke's own torch for its fastest build)." % (torch.__version__,
                                                                                        target_nuke))
        return PORTABLE
    return chosen


def _validation_device(choice: str) -> torch.device:
    if choice == "cuda" or (choice == "auto" and torch.cuda.is_available()):
        if not torch.cuda.is_available():
            raise ExportError("--validate-device cuda was asked for, but this torch sees no CUDA device.")
        return torch.device("cuda")
    return torch.device("cpu")


def export(checkpoint: str, output: str, *, resolution: int = contract.NATIVE_RESOLUTION,
           reporter: Optional[Reporter] = None, validate_device: str = "auto",
           target_nuke: str = "", verify_with: Sequence[str] = ()) -> ExportResult:
    """`verify_with`: other Pythons (each with the torch of a Nuke release) that must load and run the saved
    file like this torch does before it replaces anything."""
    reporter = reporter or Reporter("quiet")
    cancel.reset()  # each export starts cancellable: a process that exported before (tests, benchmarks) is no longer
    check_resolution(resolution)
    target_nuke = target_key(target_nuke)
    for python in verify_with:  # a wrong interpreter costs seconds here, not the whole export first
        check_lane_python(python)
    output = check_output(checkpoint, output)
    created = make_folder(os.path.dirname(output))
    try:
        return _export(checkpoint, output, resolution=resolution, reporter=reporter, validate_device=validate_device,
                       target_nuke=target_nuke, verify_with=verify_with)
    except BaseException:
        remove_folders(created)  # a failed first export leaves no empty folder behind
        raise


def _export(checkpoint: str, output: str, *, resolution: int, reporter: Reporter, validate_device: str,
            target_nuke: str, verify_with: Sequence[str]) -> ExportResult:
    folder = os.path.dirname(output)
    manifest_out = manifest_schema.path_for(output)
    remove_partials(folder, [os.path.basename(output), os.path.basename(manifest_out)])
    device = _validation_device(validate_device)
    reporter.plan(resolution, VALIDATION_PASSES, verify_passes(len(verify_with)), gpu_reference=device.type != "cpu")

    reporter.stage("check", "Reading checkpoint %s" % checkpoint)
    state = read_state_dict(checkpoint)
    checkpoint_sha = sha256_of(checkpoint)

    operators = operator_set(target_nuke, reporter)
    reporter.stage("build", "Building the network at %dx%d (%s attention)" % (resolution, resolution, operators))
    network = GreenFormer(resolution, operators).eval()
    # The saved file is the weights plus a little: a full disk or `ulimit -f` is found now, not after the trace.
    require_space(folder, sum(t.numel() * t.element_size() for t in network.state_dict().values()) + SPACE_MARGIN)
    reporter.stage("load", "Loading %d tensors" % len(state))
    load_into(network, state, source=os.path.basename(checkpoint))
    del state

    reporter.stage("trace", "Tracing the network at %dx%d (one full forward pass, which also makes the validation "
                            "reference)" % (resolution, resolution))
    traced, reference = trace_with_reference(network, resolution, lambda done, total: reporter.stage(
        "trace", "Tracing: encoder block %d of %d" % (done, total), done / (total + 1.0)))
    if device.type != "cpu":
        # The saved model is checked on the GPU, so its reference is made there too: the same kernels on both
        # sides of the comparison (TF32 convolutions on the GPU differ from the CPU's by more than rounding).
        reporter.stage("reference", "Running the eager model once on %s for the validation reference" % device)
        reference = eager_reference(CorridorKeyNuke(network, resolution), device)
        network.to("cpu")

    reporter.stage("script", "Scripting the Nuke wrapper")
    scripted = torch.jit.script(CorridorKeyNuke(traced, resolution))
    compatibility = compatible_torch(scripted)
    if compatibility["unproven_ops"]:
        reporter.log("This build uses operators not proven in every supported Nuke (%s): it is recorded as "
                     "loading in torch %s only." % (", ".join(compatibility["unproven_ops"]),
                                                     ", ".join(compatibility["torch"])))
    del network  # the traced and scripted modules hold the weights from here on

    partials: List[str] = []
    try:
        reporter.stage("save", "Saving TorchScript")
        # Serialised in memory first: the size is then known before the disk is touched, and a write error is
        # Python's OSError rather than an abort inside torch's C++ writer.
        buffer = io.BytesIO()
        torch.jit.save(scripted, buffer)
        del scripted, traced  # only the reloaded copy is in memory while it is validated
        with buffer.getbuffer() as data:
            require_space(folder, data.nbytes + SPACE_MARGIN)
            pt_tmp = write_partial(folder, os.path.basename(output), data)
        partials.append(pt_tmp)
        del buffer

        reporter.stage("validate", "Reloading the saved file to validate it")
        loaded = torch.jit.load(pt_tmp, map_location="cpu")
        figures = validate(loaded, reference, device,
                           lambda message, fraction: reporter.stage("validate", message, fraction), resolution)
        del loaded
        verified = {release(torch.__version__): float(figures["max_abs_error_vs_eager"])}
        if verify_with:
            reporter.stage("verify", "Running the saved model in this torch for the other torches to match")
            expected = lane_outputs(pt_tmp, KNOBS)
            for index, python in enumerate(verify_with):
                reporter.stage("verify", "Loading the saved model in the torch of %s" % python,
                               (index + 1.0) / (len(verify_with) + 1.0))
                verified.update(verify_in(pt_tmp, [python], KNOBS, expected))
        figures["verified_torch"] = verified

        reporter.stage("manifest", "Writing the manifest")
        info = build_manifest(pt_path=output, resolution=resolution, checkpoint_path=checkpoint,
                              checkpoint_sha256=checkpoint_sha, pt_sha256=sha256_of(pt_tmp),
                              file_version=torchscript_file_version(pt_tmp), validation=figures,
                              target_nuke=target_nuke, operator_set=operators, compatible_torch=compatibility["torch"],
                              verified_torch=sorted(verified))
        text = json.dumps(info, indent=2) + "\n"
        manifest_tmp = write_partial(folder, os.path.basename(manifest_out), memoryview(text.encode("utf-8")))
        partials.append(manifest_tmp)
        # The manifest names the .pt's sha256, so the Nuke side can tell if a crash fell between these two.
        commit_pair(pt_tmp, output, manifest_tmp, manifest_out)
        partials.clear()
    finally:
        for path in partials:
            if os.path.exists(path):
                os.remove(path)
    reporter.done(output, manifest_out)
    return ExportResult(output, manifest_out, info)
