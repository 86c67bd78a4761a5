"""The gizmo's split of the work: the model with its despill and despeckle held off (the network node), the same model
with Clean-up Only on its result (the CleanUp node), then the native Despill node (evaluated from the very text the
gizmo writer gives it) is the model with every knob on, and so keeps the parity bars with upstream that
tests/exporter/test_nuke_module.py holds the model to."""
import numpy as np
import pytest
import torch

from exporter.scripted.colour import despill_in_place
from nuke_plugin.contract.knob_spec import AUTO_DESPECKLE, CLEAN_UP_ONLY, DESPECKLE_SIZE, DESPILL_STRENGTH, KNOBS
from tests.exporter.test_nuke_module import BILINEAR, CLI_PARITY_TOLERANCE, PARITY_TOLERANCE, _plate
from tests.upstream_reference import run_upstream_cli_pipeline, run_upstream_pipeline
from tools.render_check.gizmo_maths import clean_up_knobs, despill, network_knobs

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


def test_the_network_node_runs_the_model_with_despill_and_despeckle_off_and_the_clean_up_node_follows_despeckle():
    knobs = {k.name: k.default for k in KNOBS}
    knobs.update({DESPILL_STRENGTH.name: 6.0, DESPECKLE_SIZE.name: 55, "refiner_strength": 0.3})
    network = network_knobs(knobs)
    after = (DESPILL_STRENGTH.name, AUTO_DESPECKLE.name, DESPECKLE_SIZE.name, CLEAN_UP_ONLY.name)
    assert [network[k] for k in after] == [0.0, 0, DESPECKLE_SIZE.default, 0]
    assert {k: v for k, v in network.items() if k not in after} == {k: v for k, v in knobs.items() if k not in after}
    clean_up = clean_up_knobs(knobs)
    assert [clean_up[k] for k in after] == [0.0, knobs[AUTO_DESPECKLE.name], 55, 1]
    assert clean_up["refiner_strength"] == 1.0  # held at the .cat's default: the CleanUp node does not read it



def _gizmo(loaded, plate, despill_strength, **knobs):
    """The exported .pt as the gizmo's two Inference nodes run it (the network, then CleanUp on its result), then
    its Despill node."""
    gizmo = dict({k.name: k.default for k in KNOBS}, **knobs)
    gizmo[DESPILL_STRENGTH.name] = despill_strength
    out = plate
    try:
        for stage in (network_knobs(gizmo), clean_up_knobs(gizmo)):
            for name, value in stage.items():
                setattr(loaded, name, value)
            with torch.no_grad():
                out = loaded(out)
    finally:
        for k in KNOBS:
            setattr(loaded, k.name, k.default)
    return torch.from_numpy(despill(out.numpy(), despill_strength))


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


@pytest.mark.parametrize("despeckle_size", [400, 5000])
def test_the_split_with_despeckle_in_its_clean_up_node_keeps_parity_with_upstreams_cli(loaded, eager, despeckle_size):
    """Auto Despeckle on, in the CleanUp node: upstream's CLI with its matte clean-up, at its own bar."""
    plate = _plate(300, 420, seed=9)
    ours = _gizmo(loaded, plate, 10.0, gamma_input=0, refiner_strength=1.0, resample=0, auto_despeckle=1,
                  despeckle_size=despeckle_size)
    theirs = run_upstream_cli_pipeline(eager, plate, 10.0, False, 1.0, despeckle_size=despeckle_size)
    assert float((ours - theirs).abs().max()) <= CLI_PARITY_TOLERANCE
