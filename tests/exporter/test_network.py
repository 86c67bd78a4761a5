"""The rebuilt network must accept the released checkpoint as it is: same keys, order and shapes."""
import json
from pathlib import Path

import pytest
import torch

from exporter.scripted.network import GreenFormer

LAYOUT = Path(__file__).parents[1] / "data" / "checkpoint_layout_2048.json"


def _layout():
    return [(key, tuple(shape)) for key, shape in json.loads(LAYOUT.read_text())["tensors"]]


def test_state_dict_matches_the_released_layout_at_native_resolution():
    with torch.device("meta"):  # shapes only: 2048 on real memory would cost ~400 MB for nothing
        network = GreenFormer(2048)
    ours = [(key, tuple(t.shape)) for key, t in network.state_dict().items()]
    assert ours == _layout()
    assert len(ours) == 367


@pytest.mark.parametrize("resolution, millions", [(2048, 99.7), (512, 72.2)])
def test_parameter_count_matches_upstream_figures(resolution, millions):
    with torch.device("meta"):
        network = GreenFormer(resolution)
    count = sum(p.numel() for p in network.parameters())
    assert count / 1e6 == pytest.approx(millions, abs=0.05)


def test_pos_embed_scales_with_resolution():
    with torch.device("meta"):
        network = GreenFormer(256)
    assert tuple(network.state_dict()["encoder.model.pos_embed"].shape) == (1, (256 // 4) ** 2, 112)


def test_forward_shapes_and_refiner_scale_is_live(small_checkpoint):
    torch.manual_seed(1)
    network = GreenFormer(128).eval()
    x = torch.randn(1, 4, 128, 128)
    with torch.no_grad():
        alpha, fg = network(x, torch.ones(1))
        alpha0, fg0 = network(x, torch.zeros(1))
    assert alpha.shape == (1, 1, 128, 128) and fg.shape == (1, 3, 128, 128)
    assert 0.0 <= float(alpha.min()) and float(alpha.max()) <= 1.0
    assert not torch.equal(alpha, alpha0) and not torch.equal(fg, fg0)
