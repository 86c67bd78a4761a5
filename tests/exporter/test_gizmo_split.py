"""The gizmo's split of the work: the model with its despill held off, then the native Despill node (evaluated from
the very text the gizmo writer gives it) is the model with its despill on, and so keeps the parity bars with
upstream that tests/exporter/test_nuke_module.py holds the model to."""
import numpy as np
import pytest
import torch

from exporter.scripted.colour import despill_in_place
from nuke_plugin.contract.knob_spec import DESPILL_STRENGTH, KNOBS
from tests.exporter.test_nuke_module import BILINEAR, CLI_PARITY_TOLERANCE, PARITY_TOLERANCE, _plate
from tests.upstream_reference import run_upstream_cli_pipeline, run_upstream_pipeline
from tools.render_check.gizmo_maths import despill, network_knobs

# fp32 in torch against the expression evaluated in float64 and stored as float32.
REPLICA_TOLERANCE = 2e-6


@pytest.mark.parametrize("strength", [0.0, 0.4, 2.5, 7.0, 10.0, 14.0, -3.0])
def test_the_despill_node_is_the_models_despill(strength):
    """Lanczos overshoot and negatives included: the same formula, the same clamp of the 0-10 scale."""
    rgba = torch.rand(1, 4, 37, 53, generator=torch.Generator().manual_seed(3)) * 1.4 - 0.2
    rgba[0, 1, :10] += 0.6  # strong spill on some rows
    model = rgba.clone()
    despill_in_place(model, min(max(strength, 0.0), DESPILL_STRENGTH.high) / 10.0)
    native = despill(rgba.numpy(), strength)
    assert native.dtype == np.float32 and native.shape == (1, 4, 37, 53)
    assert float(np.abs(native - model.numpy()).max()) <= REPLICA_TOLERANCE
    assert np.array_equal(native[0, 3], rgba[0, 3].numpy())  # alpha passes through
    if strength > 0:
        assert not np.allclose(native, rgba.numpy(), atol=1e-3)


def test_the_inference_node_runs_the_model_with_its_despill_off():
    knobs = {k.name: k.default for k in KNOBS}
    knobs[DESPILL_STRENGTH.name] = 6.0
    held = network_knobs(knobs)
    assert held[DESPILL_STRENGTH.name] == 0.0
    assert {k: v for k, v in held.items() if k != DESPILL_STRENGTH.name} == {
        k: v for k, v in knobs.items() if k != DESPILL_STRENGTH.name}



def _gizmo(loaded, plate, despill_strength, **knobs):
    """The exported .pt as the gizmo's Inference node runs it, then its Despill node."""
    for name, value in network_knobs(dict(knobs, despill_strength=despill_strength)).items():
        setattr(loaded, name, value)
    try:
        with torch.no_grad():
            out = loaded(plate).numpy()
    finally:
        for k in KNOBS:
            setattr(loaded, k.name, k.default)
    return torch.from_numpy(despill(out, despill_strength))


@pytest.mark.parametrize("despill_strength, gamma, refiner", [(7.0, 1, 0.35)])  # everything at once
def test_the_split_keeps_parity_with_upstreams_gpu_path(loaded, eager, despill_strength, gamma, refiner):
    plate = _plate(171, 97, seed=5)
    if gamma == 1:
        plate[:, :3] = plate[:, :3] ** 2.2 * 1.5
    ours = _gizmo(loaded, plate, despill_strength, gamma_input=gamma, refiner_strength=refiner, **BILINEAR)
    theirs = run_upstream_pipeline(eager, plate, despill_strength, gamma == 1, refiner)
    assert float((ours - theirs).abs().max()) <= PARITY_TOLERANCE


@pytest.mark.parametrize("despill_strength, size", [(10.0, (300, 420))])  # full despill, enlarging both ways
def test_the_split_keeps_parity_with_upstreams_cli(loaded, eager, despill_strength, size):
    plate = _plate(*size, seed=9)
    ours = _gizmo(loaded, plate, despill_strength, gamma_input=0, refiner_strength=1.0, resample=0, auto_despeckle=0)
    theirs = run_upstream_cli_pipeline(eager, plate, despill_strength, False, 1.0)
    assert float((ours - theirs).abs().max()) <= CLI_PARITY_TOLERANCE
