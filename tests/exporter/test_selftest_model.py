"""The shipped self-test model: its stored expectations are what the model computes now, it is what a fresh
generation makes (so a change to the Nuke module or the knob spec forces a regeneration), and it is small."""
import json
import os

import torch

from exporter.lanes import selftest_check, selftest_model
from nuke_plugin.contract import selftest
from nuke_plugin.contract.knob_spec import KNOBS
from nuke_plugin.contract.selftest import max_difference
from nuke_plugin.contract.torch_targets import CROSS_TORCH_TOLERANCE
from nuke_plugin.core.manifest import read_manifest

DATA = selftest_check.DATA_DIR


def _expected():
    return selftest_check.load_expected(os.path.join(DATA, selftest.EXPECTED_NAME))


def _model():
    return torch.jit.load(os.path.join(DATA, selftest.PT_NAME), map_location="cpu").eval()


def test_stored_expectations_match_a_fresh_run():
    expected = _expected()
    fresh = selftest_check.run(_model())
    assert max_difference(expected["outputs"], fresh) <= CROSS_TORCH_TOLERANCE
    assert expected["settings"] == {name: values for name, values in selftest.settings()}
    assert [tuple(p) for p in expected["sample_points"]] == list(selftest.SAMPLE_POINTS)
    assert (expected["width"], expected["height"]) == (selftest.WIDTH, selftest.HEIGHT)


def test_the_check_command_fails_on_wrong_expectations(tmp_path):
    assert selftest_check.main([]) == 0
    wrong = _expected()
    wrong["outputs"]["default"]["constant"][0][3] += 0.01
    path = tmp_path / "expected.json"
    path.write_text(json.dumps(wrong))
    assert selftest_check.main([os.path.join(DATA, selftest.PT_NAME), str(path)]) == 1


def test_the_manifest_is_a_real_export_manifest_with_every_knob():
    manifest = read_manifest(os.path.join(DATA, selftest.MANIFEST_NAME))
    manifest.verify_model_file()
    assert manifest.model_id == selftest.MODEL_ID and manifest.resolution == selftest.RESOLUTION
    assert manifest.knobs == KNOBS, "knob spec changed: run python -m exporter.lanes.selftest_model"
    assert _expected()["model_sha256"] == manifest.model_sha256
    assert os.path.getsize(manifest.model_path) < 100 * 1024


def test_every_knob_attribute_is_live_and_moves_the_stored_pixels():
    module = _model()
    for knob in KNOBS:
        assert isinstance(getattr(module, knob.name), float if knob.torch_type == "float" else int)
    outputs = _expected()["outputs"]
    for knob in KNOBS:
        default = {"d": outputs[selftest.DEFAULT_SETTING]}
        assert max_difference(default, {"d": outputs[knob.name]}) >= selftest.CHANGE_MINIMUM


def test_an_upside_down_plate_gives_other_pixels():
    """The self-test can tell whether Nuke hands the model its rows top first only if the model is not symmetric."""
    module = _model()
    plate = selftest_check.plate_tensor("gradient")
    with torch.no_grad():
        upright = module(plate)
        flipped = module(plate.flip(2)).flip(2)
    assert float((upright - flipped).abs().max()) > selftest.CHANGE_MINIMUM


def test_regenerating_gives_the_shipped_expectations(tmp_path):
    fresh = selftest_model.generate(str(tmp_path))
    assert max_difference(_expected()["outputs"], fresh["outputs"]) <= CROSS_TORCH_TOLERANCE, \
        "the Nuke module changed: run python -m exporter.lanes.selftest_model and commit nuke_plugin/selftest_model"
    assert sorted(os.listdir(tmp_path)) == sorted([selftest.PT_NAME, selftest.MANIFEST_NAME, selftest.EXPECTED_NAME])


def test_half_precision_stays_within_the_self_tests_half_tolerance():
    """What "Optimize for Speed and Memory" does to the network (CPU fp16 here) is far inside HALF_TOLERANCE, and
    no matte island sits so close to Despeckle Size's threshold that fp16 noise could drop it."""
    module = _model().half()
    outputs = _expected()["outputs"]
    worst = 0.0
    with torch.no_grad():
        for name, values in selftest.settings():
            for knob, value in values.items():
                setattr(module, knob, value)
            for plate in selftest.PLATES:
                out = module(selftest_check.plate_tensor(plate).half())[0].float()
                got = [[float(out[c, selftest.HEIGHT - 1 - y, x]) for c in range(4)] for x, y in selftest.SAMPLE_POINTS]
                worst = max(worst, max_difference({"s": {"p": outputs[name][plate]}}, {"s": {"p": got}}))
    assert worst < selftest.PIXEL_TOLERANCE < selftest.HALF_TOLERANCE
