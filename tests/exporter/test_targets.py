"""Each target Nuke gets the fastest operator set its torch loads, and validation proves every knob live whatever
the weights make of its probes: one real export (a fused build of weights whose matte has no island and whose
refiner adds nothing) and the validator against modules with a knob cut off."""
import json

import pytest
import torch
import torch.nn.functional as F

from exporter import export as export_module
from exporter.errors import ExportError
from exporter.export import export
from exporter.lanes import portability
from exporter.lanes.selftest_model import TinyNetwork
from exporter.reporting import Reporter
from exporter.scripted.nuke_module import CorridorKeyNuke, _resize
from exporter.validate import (
    FINISH_KNOBS,
    KNOB_CHANGES,
    NETWORK_KNOBS,
    PREPARE_KNOBS,
    VALIDATION_PASSES,
    reference_probe,
    validate,
)
from nuke_plugin.contract import torch_targets
from nuke_plugin.contract.knob_spec import KNOBS, STAGE_KNOBS
from tests.conftest import SMALL_RESOLUTION


@pytest.fixture(scope="module")
def islandless_fused(tmp_path_factory, small_checkpoint):
    """Weights whose matte is empty everywhere (no island for despeckle to keep or remove) and whose refiner adds
    nothing (Refiner Strength cannot move the output), exported for Nuke 16."""
    state = torch.load(str(small_checkpoint), map_location="cpu", weights_only=True)
    state["alpha_decoder.classifier.weight"].zero_()
    state["alpha_decoder.classifier.bias"].fill_(-30.0)
    state["refiner.final.weight"].zero_()
    state["refiner.final.bias"].zero_()
    folder = tmp_path_factory.mktemp("islandless")
    torch.save(state, str(folder / "islandless.pth"))
    return export(str(folder / "islandless.pth"), str(folder / "out" / "CorridorKey.pt"), resolution=SMALL_RESOLUTION,
                  target_nuke="nuke16")


def test_a_network_whose_matte_has_no_island_still_exports_with_every_knob_proven(islandless_fused):
    loaded = torch.jit.load(islandless_fused.pt).eval()
    with torch.no_grad():
        out = loaded(reference_probe())
        loaded.refiner_strength = 0.0
        without_refiner = loaded(reference_probe())
    assert float(out[0, 3].max()) < 1e-6  # nothing above 0.5: no island anywhere
    assert torch.equal(out, without_refiner)  # and the refiner adds nothing: both knobs are dead on this matte
    figures = islandless_fused.info["validation"]
    assert sorted(figures["knob_effect"]) == sorted(k.name for k in KNOBS)
    assert all(effect > 0 for effect in figures["knob_effect"].values())
    assert figures["max_abs_error_vs_eager"] <= 1e-4


def test_a_fused_build_is_claimed_only_for_the_nukes_that_load_it(islandless_fused):
    manifest = json.loads(open(islandless_fused.manifest).read())
    assert manifest["target_nuke"] == "nuke16" and manifest["operator_set"] == torch_targets.FUSED
    assert manifest["loads_in_nuke"] == ["nuke15.1", "nuke16"]
    assert torch_targets.TORCH_TARGETS_BY_KEY["nuke14"].torch not in manifest["compatible_torch"]
    assert {"2.1.1", "2.7.1"} <= set(manifest["compatible_torch"])
    used = portability.operators(torch.jit.load(islandless_fused.pt))
    assert "aten::scaled_dot_product_attention" in used
    assert set(used) <= set(portability.load_proven()["sets"][torch_targets.FUSED]["ops"])


@pytest.mark.parametrize("target, expected", [("", torch_targets.PORTABLE), ("nuke14", torch_targets.PORTABLE),
                                              ("nuke15.1", torch_targets.FUSED), ("nuke16", torch_targets.FUSED)])
def test_each_target_gets_its_operator_set(target, expected):
    assert export_module.operator_set(target, Reporter("quiet")) == expected


def test_a_torch_without_the_fused_op_builds_the_portable_attention_and_says_so(monkeypatch):
    monkeypatch.delattr(F, "scaled_dot_product_attention")
    logged = []
    reporter = Reporter("quiet")
    monkeypatch.setattr(reporter, "log", logged.append)
    assert export_module.operator_set("nuke16", reporter) == torch_targets.PORTABLE
    assert "portable attention" in logged[0]


def test_every_knob_is_checked_on_the_stage_that_reads_it():
    groups = (PREPARE_KNOBS, NETWORK_KNOBS, FINISH_KNOBS, STAGE_KNOBS)
    names = [name for group in groups for name in group]
    assert sorted(names) == sorted(k.name for k in KNOBS) == sorted(name for name, _ in KNOB_CHANGES)
    assert VALIDATION_PASSES == 1


@torch.jit.export
def _finish_without_knobs(self, keyed: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """A post-processing stage that reads none of its knobs: each would be dead in Nuke."""
    return _resize(keyed.float(), [height, width]).clone()


class _IgnoresScale(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.inner = TinyNetwork()

    def forward(self, x: torch.Tensor, scale: torch.Tensor):
        return self.inner(x, torch.ones_like(scale))


def _saved(wrapper_class, network, tmp_path):
    """The wrapper around a traced network, saved and loaded, and its eager output on the reference probe."""
    example = torch.zeros(1, 4, 64, 64)
    traced = torch.jit.trace(network.eval(), (example, torch.ones(1)))
    path = tmp_path / "model.pt"
    torch.jit.save(torch.jit.script(wrapper_class(traced, 64)), str(path))
    eager = wrapper_class(network.eval(), 64).eval()
    with torch.no_grad():
        reference = eager(reference_probe())
    return torch.jit.load(str(path)).eval(), reference


def test_validation_passes_a_sound_small_module(tmp_path):
    torch.manual_seed(0)
    loaded, reference = _saved(CorridorKeyNuke, TinyNetwork(), tmp_path)
    figures = validate(loaded, reference, torch.device("cpu"), lambda message, fraction: None, 64)
    assert all(effect > 0 for effect in figures["knob_effect"].values())


def test_validation_refuses_a_dead_post_processing_knob(tmp_path, monkeypatch):
    torch.manual_seed(0)
    monkeypatch.setattr(CorridorKeyNuke, "finish", _finish_without_knobs)
    loaded, reference = _saved(CorridorKeyNuke, TinyNetwork(), tmp_path)
    with pytest.raises(ExportError, match="Knob despill_strength has no effect on the saved model's post-processing"):
        validate(loaded, reference, torch.device("cpu"), lambda message, fraction: None, 64)


def test_validation_refuses_a_network_that_ignores_the_refiner_scale(tmp_path):
    torch.manual_seed(0)
    loaded, reference = _saved(CorridorKeyNuke, _IgnoresScale(), tmp_path)
    with pytest.raises(ExportError, match="refiner_strength has no effect: the saved network ignores"):
        validate(loaded, reference, torch.device("cpu"), lambda message, fraction: None, 64)


def test_validation_refuses_a_saved_stage_that_differs_from_the_eager_one(tmp_path, monkeypatch):
    torch.manual_seed(0)
    loaded, reference = _saved(CorridorKeyNuke, TinyNetwork(), tmp_path)
    eager_finish = CorridorKeyNuke.finish
    monkeypatch.setattr(CorridorKeyNuke, "finish",
                        lambda self, keyed, height, width: eager_finish(self, keyed, height, width) + 1e-3)
    with pytest.raises(ExportError, match="differs from the eager model by 0.001 in finish to 53x37"):
        validate(loaded, reference, torch.device("cpu"), lambda message, fraction: None, 64)



class _CleanUpIgnored(CorridorKeyNuke):
    """A saved module whose forward never reads Clean-up Only: the network runs on whatever it is given."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        alpha, fg = self.network(self.prepare(x), self.refiner_scale(x))
        return self.finish(self.keyed(alpha, fg), x.shape[2], x.shape[3]).to(x.dtype)


def test_validation_refuses_a_saved_module_that_ignores_clean_up_only(tmp_path):
    torch.manual_seed(0)
    loaded, reference = _saved(_CleanUpIgnored, TinyNetwork(), tmp_path)
    with pytest.raises(ExportError, match="differs from the eager model by .* in forward with clean_up_only=1"):
        validate(loaded, reference, torch.device("cpu"), lambda message, fraction: None, 64)


def _forward_clean_up_without_despeckle(self, x: torch.Tensor) -> torch.Tensor:
    """A forward whose Clean-up Only branch forgets despeckle: the gizmo's two nodes would not give one node's
    matte, though the saved and the eager module agree (the same code)."""
    if self.clean_up_only > 0:
        return self.keyed(x[:, 3:4], x[:, 0:3]).to(x.dtype)
    alpha, fg = self.network(self.prepare(x), self.refiner_scale(x))
    return self.finish(self.keyed(alpha, fg), x.shape[2], x.shape[3]).to(x.dtype)


def test_validation_refuses_a_clean_up_stage_that_differs_from_the_whole_post_processing(tmp_path, monkeypatch):
    torch.manual_seed(0)
    monkeypatch.setattr(CorridorKeyNuke, "forward", _forward_clean_up_without_despeckle)
    loaded, reference = _saved(CorridorKeyNuke, TinyNetwork(), tmp_path)
    with pytest.raises(ExportError, match=r"clean-up stage \(clean_up_only=1\) differs from its whole post-proc"):
        validate(loaded, reference, torch.device("cpu"), lambda message, fraction: None, 64)
