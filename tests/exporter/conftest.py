"""Fixtures of the exporter's tests: the session's real export, loaded, and the eager network it came from."""
import pytest


@pytest.fixture(scope="module")
def loaded(exported_model):
    """The exported .pt as Nuke's loader gives it (one per test module: tests move its knobs)."""
    import torch

    return torch.jit.load(str(exported_model.pt)).eval()


@pytest.fixture(scope="module")
def eager(exported_model):
    """The eager network with the export's own weights."""
    from exporter.checkpoint import load_into, read_state_dict
    from exporter.scripted.network import GreenFormer

    network = GreenFormer(exported_model.resolution).eval()
    load_into(network, read_state_dict(str(exported_model.checkpoint)))
    return network
