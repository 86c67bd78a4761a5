"""Checkpoint variants that must load, and every kind of file that must be refused with a useful message."""
import pytest
import torch

from exporter.checkpoint import load_into, read_state_dict, resize_pos_embed
from exporter.errors import ExportError
from exporter.network import GreenFormer
from tests.conftest import SMALL_RESOLUTION, make_checkpoint


@pytest.fixture(scope="module")
def reference_state(small_checkpoint):
    return torch.load(str(small_checkpoint), weights_only=True)


def _loaded_state(path, resolution=SMALL_RESOLUTION):
    network = GreenFormer(resolution).eval()
    load_into(network, read_state_dict(str(path)))
    return network.state_dict()


@pytest.mark.parametrize("wrap, prefix", [(False, False), (True, False), (False, True), (True, True)])
def test_checkpoint_variants_load_identically(tmp_path, reference_state, wrap, prefix):
    path = make_checkpoint(tmp_path / "ck.pth", SMALL_RESOLUTION, seed=0, wrap=wrap, compiled_prefix=prefix)
    loaded = _loaded_state(path)
    assert loaded.keys() == reference_state.keys()
    for key, value in reference_state.items():
        assert torch.equal(loaded[key], value), key


def test_pos_embed_is_resized_bicubically_for_another_resolution(tmp_path):
    path = make_checkpoint(tmp_path / "ck256.pth", 256, seed=3)
    source = torch.load(str(path), weights_only=True)["encoder.model.pos_embed"]
    loaded = _loaded_state(path, resolution=SMALL_RESOLUTION)["encoder.model.pos_embed"]
    side = SMALL_RESOLUTION // 4
    expected = torch.nn.functional.interpolate(
        source.transpose(1, 2).reshape(1, 112, 64, 64), size=(side, side), mode="bicubic", align_corners=False
    ).reshape(1, 112, side * side).transpose(1, 2)
    assert loaded.shape == (1, side * side, 112)
    assert torch.allclose(loaded, expected, atol=1e-6)


def test_resize_pos_embed_refuses_non_square_grids():
    with pytest.raises(ExportError, match="square"):
        resize_pos_embed(torch.zeros(1, 12, 8), 16)


def _refusal(path):
    with pytest.raises(ExportError) as info:
        _loaded_state(path)
    return str(info.value)


def test_missing_file_is_refused_with_download_hint(tmp_path):
    message = _refusal(tmp_path / "nope.pth")
    assert "not found" in message and "CorridorKey_v1.0" in message


def test_folder_is_refused(tmp_path):
    assert "folder" in _refusal(tmp_path)


def test_git_lfs_pointer_is_refused(tmp_path):
    pointer = tmp_path / "CorridorKey.pth"
    pointer.write_text("version https://git-lfs.github.com/spec/v1\noid sha256:%s\nsize 300000000\n" % ("0" * 64))
    message = _refusal(pointer)
    assert "Git LFS pointer" in message and "git lfs pull" in message


def test_truncated_checkpoint_is_refused(tmp_path, small_checkpoint):
    data = small_checkpoint.read_bytes()
    truncated = tmp_path / "truncated.pth"
    truncated.write_bytes(data[: len(data) // 3])
    message = _refusal(truncated)
    assert "not a readable PyTorch checkpoint" in message and "truncated" in message


def test_non_torch_file_is_refused(tmp_path):
    other = tmp_path / "holiday.jpg"
    other.write_bytes(b"\xff\xd8\xff\xe0" + bytes(range(256)) * 10)
    assert "not a readable PyTorch checkpoint" in _refusal(other)


def test_pickle_with_code_is_refused_by_weights_only(tmp_path):
    evil = tmp_path / "evil.pth"
    torch.save({"state_dict": {"x": torch.zeros(1)}, "hook": print}, str(evil))
    assert "not a readable PyTorch checkpoint" in _refusal(evil)


def test_state_dict_without_tensors_is_refused(tmp_path):
    empty = tmp_path / "empty.pth"
    torch.save({"epoch": 3}, str(empty))
    assert "no tensors" in _refusal(empty)


def test_missing_unexpected_and_misshapen_keys_are_listed(tmp_path, reference_state):
    state = dict(reference_state)
    for key in [k for k in state if k.startswith("refiner.res4.")]:
        del state[key]
    state["decoder.extra.weight"] = torch.zeros(3)
    state["alpha_decoder.classifier.weight"] = torch.zeros(2, 256, 1, 1)
    path = tmp_path / "odd.pth"
    torch.save(state, str(path))
    message = _refusal(path)
    assert "missing key(s): refiner.res4." in message
    assert "1 unexpected key(s): decoder.extra.weight" in message
    assert "alpha_decoder.classifier.weight (2, 256, 1, 1) (model wants (1, 256, 1, 1))" in message
    # Long lists are cut short: a person reads this message.
    assert "8 missing key(s)" in message and "and 3 more" in message and len(message.splitlines()) <= 6


def test_foreign_model_is_refused(tmp_path):
    path = tmp_path / "resnet.pth"
    torch.save(torch.nn.Conv2d(3, 8, 3).state_dict(), str(path))
    message = _refusal(path)
    assert "does not match the CorridorKey network" in message and "2 unexpected key(s)" in message
