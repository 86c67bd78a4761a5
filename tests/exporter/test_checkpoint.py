"""Checkpoint variants that must load, and every kind of file that must be refused with a useful message."""
import datetime
import io
import os
import pickle
import random
import zipfile

import pytest
import torch

from exporter.checkpoint import load_into, read_state_dict, resize_pos_embed
from exporter.errors import ExportError
from exporter.scripted.network import GreenFormer
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


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
def test_a_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "ck.pth"
    os.mkfifo(str(fifo))
    with pytest.raises(ExportError, match="not a regular file"):
        read_state_dict(str(fifo))


@pytest.mark.skipif(os.name == "nt" or os.geteuid() == 0, reason="root reads everything")
def test_an_unreadable_checkpoint_says_permission_not_missing(tmp_path, small_checkpoint):
    path = tmp_path / "ck.pth"
    path.write_bytes(small_checkpoint.read_bytes())
    path.chmod(0)
    with pytest.raises(ExportError, match="Permission denied"):
        read_state_dict(str(path))


def test_an_export_given_as_the_checkpoint_is_named_as_such(exported_model):
    with pytest.raises(ExportError, match="is an exported TorchScript model .* not a checkpoint"):
        read_state_dict(str(exported_model.pt))


@pytest.mark.parametrize("wrapper", ["model", "model_state_dict", "net"])
def test_common_wrapper_keys_are_accepted(tmp_path, wrapper):
    path = tmp_path / "ck.pth"
    torch.save({wrapper: {"a": torch.ones(2)}, "epoch": 1}, str(path))
    assert list(read_state_dict(str(path))) == ["a"]


def test_tensors_under_an_unknown_key_are_located(tmp_path):
    path = tmp_path / "ck.pth"
    torch.save({"generator_weights": {"a": torch.ones(2)}, "epoch": 1}, str(path))
    with pytest.raises(ExportError, match="under 'generator_weights'"):
        read_state_dict(str(path))


def test_non_finite_weights_are_named(tmp_path):
    path = tmp_path / "ck.pth"
    torch.save({"ok": torch.ones(2), "refiner.stem.0.weight": torch.tensor([1.0, float("nan")]),
                "alpha_decoder.bn.running_var": torch.tensor([float("inf")])}, str(path))
    with pytest.raises(ExportError, match="NaN or infinite values in") as caught:
        read_state_dict(str(path))
    assert "refiner.stem.0.weight" in str(caught.value) and "alpha_decoder.bn.running_var" in str(caught.value)
    assert " ok" not in str(caught.value)


def test_pos_embed_without_tokens_is_a_user_error():
    with pytest.raises(ExportError, match="holds no tokens"):
        resize_pos_embed(torch.zeros(1, 0, 112), 64)


def test_torch_advice_to_drop_weights_only_is_never_shown(tmp_path):
    path = tmp_path / "ck.pth"
    torch.save({"a": torch.ones(1), "when": datetime.date(2020, 1, 1)}, str(path))
    with pytest.raises(ExportError) as caught:
        read_state_dict(str(path))
    assert "weights_only" not in str(caught.value) and "\x1b[" not in str(caught.value)
    assert "holds objects other than tensors" in str(caught.value)


def _fuzz_cases(small_checkpoint):
    """Random bytes, text, truncated and bit-flipped zips, pickles of every protocol: (name, bytes) pairs."""
    rng = random.Random(1234)
    real = small_checkpoint.read_bytes()
    cases = [("empty", b""), ("text", b"hello, this is a README\n" * 20), ("json", b'{"state_dict": {}}')]
    cases += [("random-%d" % i, bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 4096)))) for i in range(40)]
    cases += [("truncated-%d" % n, real[:n]) for n in (4, 30, 100, 1000, 5000, len(real) // 3)]
    for i in range(20):
        flipped = bytearray(real[:200000])
        for _ in range(8):
            flipped[rng.randrange(len(flipped))] ^= 1 << rng.randrange(8)
        cases.append(("flipped-%d" % i, bytes(flipped)))
    payloads = [{"a": 1}, [1, 2, 3], "text", 3.5, None, {"state_dict": "nope"}, {"x": {"y": [1]}}]
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        for index, payload in enumerate(payloads):
            cases.append(("pickle-p%d-%d" % (protocol, index), pickle.dumps(payload, protocol=protocol)))
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.writestr("archive/data.pkl", b"not a pickle")
    cases.append(("zip-bad-pickle", zipped.getvalue()))
    return cases


def test_fuzzed_files_give_a_state_dict_or_the_projects_own_error(tmp_path, small_checkpoint):
    outcomes = {"state": 0, "refused": 0}
    for name, data in _fuzz_cases(small_checkpoint):
        path = tmp_path / name
        path.write_bytes(data)
        try:
            state = read_state_dict(str(path))
        except ExportError as error:
            assert str(error), name
            outcomes["refused"] += 1
        else:
            assert state and all(isinstance(v, torch.Tensor) for v in state.values()), name
            outcomes["state"] += 1
    assert outcomes["refused"] > 80
