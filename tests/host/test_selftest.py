"""The in-Nuke self-test against the strict fake: what the fake can answer is checked for real, what needs pixels is
reported as skipped; with a test renderer that runs the shipped model (through the fake Inference node's own knob
values) every pixel check passes, and a Nuke that hands the image over upside down or drops a knob link fails."""
import json
import os
import shutil

import numpy as np
import pytest

from nuke_plugin import contract
from nuke_plugin.contract import node_graph as graph
from nuke_plugin.contract import selftest as spec
from nuke_plugin.contract.knob_spec import DESPILL_STRENGTH, KNOBS
from nuke_plugin.contract.node_graph import HINT_BACKING, HINT_ERODE, HINT_SOURCE, PREVIEW_COLOUR
from nuke_plugin.core import selftest as st
from nuke_plugin.core.gizmo import (
    OUTPUT_HINT,
    OUTPUT_MODE,
    OUTPUT_OVER_CHECKERBOARD,
    OUTPUT_OVER_COLOUR,
    despill_knobs,
    hint_key_knobs,
)
from nuke_plugin.core.paths import plugin_root
from nuke_plugin.host import selftest as host_selftest
from nuke_plugin.host.finish import finish_build
from tools.render_check.gizmo_maths import dilate
from tools.render_check.nuke_expression import Context, evaluate, expression_node, image_context

DATA = spec.data_dir(plugin_root())
PIXEL_CHECKS = ("plate_", "render_", "knob_", "toggle_", "output_", "builtin_hint_", "hint_source_")


def checks(report):
    return {c.name: c for c in report.checks}


def test_against_the_fake_everything_without_pixels_is_checked_and_pixels_are_skipped(fake_nuke, tmp_path):
    report, path = host_selftest.run_selftest(str(tmp_path / "report.json"))
    found = checks(report)
    assert report.ok, report.summary()
    for name in ("cat_build", "cat_failure_mode", "gizmo_create", "gizmo_reread", "plugin_add_path"):
        assert found[name].status == st.PASS, found[name]
    assert found["cat_failure_mode"].figures["raises"] is True  # the fake's createCatFile raises
    for name in [k.name for k in KNOBS if k.name not in graph.NETWORK_HELD] + ["useGPUIfAvailable", "halfPrecision"]:
        assert found["link_" + name].status == st.PASS, found["link_" + name]
    for name in graph.NETWORK_HELD:  # applied after the network by a native node: the Inference node keeps it off
        assert "link_" + name not in found and found["held_" + name].status == st.PASS, found["held_" + name]
    pixel_checks = [c for c in report.checks if c.name.startswith(PIXEL_CHECKS)]
    model_outputs = len(OUTPUT_MODE.items) - 2  # every Output but the default and the hint (no model pixels)
    hint_checks = len(spec.PLATES) + 1 + 3  # each plate, the knobs moved, the three Hint Source choices
    assert len(pixel_checks) == len(spec.PLATES) * (1 + len(KNOBS) + 2 + model_outputs + 1) + hint_checks
    assert all(c.status == st.SKIPPED and "cannot render" in c.detail for c in pixel_checks)
    assert found["installed_node"].status == st.SKIPPED and found["progress_cancel"].status == st.SKIPPED
    assert all(set(c.verifies) <= set(st.ASSUMPTIONS) for c in report.checks)
    data = json.loads(open(path).read())
    assert data["format"] == spec.REPORT_FORMAT and data["ok"] is True and len(data["checks"]) == len(report.checks)
    assert data["environment"]["edition"] == "NukeX" and data["environment"]["nuke_version"] == "15.1v3"
    # everything it made is gone, and it opened no dialog (the menu shows the summary)
    assert fake_nuke.allNodes() == [] and not os.path.exists(data["cleanup"]["removed_folder"])
    assert ("execute", "Write1") in fake_nuke.events and not fake_nuke.dialogs


def test_every_assumption_named_is_a_line_of_limits_md():
    limits = open(os.path.join(plugin_root(), "tests", "fake_nuke", "LIMITS.md"), encoding="utf-8").read()
    lines = [line[2:] for line in limits.splitlines() if line.startswith("- ")]
    for assumption in st.ASSUMPTIONS:
        assert any(line.startswith(assumption) for line in lines), assumption


def test_in_plain_nuke_the_cat_checks_are_skipped_not_failed(plain_nuke, tmp_path):
    report, _ = host_selftest.run_selftest(str(tmp_path / "report.json"))
    found = checks(report)
    assert report.ok and found["cat_build"].status == st.SKIPPED and "CatFileCreator" in found["cat_build"].detail
    assert "gizmo_create" not in found and report.environment["edition"] == "Nuke"


def test_a_broken_knob_link_fails(fake_nuke, tmp_path, monkeypatch):
    real = host_selftest.gizmo_text
    monkeypatch.setattr(host_selftest, "gizmo_text", lambda *a, **k: real(*a, **k).replace(
        'gamma_input:{"parent.gamma_input"};', ""))
    report, _ = host_selftest.run_selftest(str(tmp_path / "report.json"))
    found = checks(report)
    assert not report.ok and found["link_gamma_input"].status == st.FAIL
    assert st.ENUM_LINK in found["link_gamma_input"].verifies
    assert "FAILED link_gamma_input" in report.summary()


def test_cancel_stops_and_is_reported(fake_nuke, tmp_path):
    fake_nuke.cancel_progress_tasks = True
    report, _ = host_selftest.run_selftest(str(tmp_path / "report.json"))
    found = checks(report)
    assert found["progress_cancel"].status == st.PASS and "isCancelled" in found["progress_cancel"].detail
    assert "cat_build" not in found and fake_nuke.allNodes() == []


def _files_under(folder):
    """Every file below `folder` (the install holds a Cattery/<Name>/ folder) with its bytes."""
    found = {}
    for parent, _, names in os.walk(folder):
        for name in names:
            path = os.path.join(parent, name)
            with open(path, "rb") as handle:
                found[os.path.relpath(path, folder)] = handle.read()
    return found


def test_the_installed_build_is_used_and_left_alone(fake_nuke, tmp_path):
    export = tmp_path / "export"
    export.mkdir()
    shutil.copy(os.path.join(DATA, spec.PT_NAME), str(export / contract.PT_NAME))
    manifest = json.loads(open(os.path.join(DATA, spec.MANIFEST_NAME)).read())
    manifest.update(model_id=contract.MODEL_ID, model_file=contract.PT_NAME)
    (export / contract.MANIFEST_NAME).write_text(json.dumps(manifest))
    installed = finish_build(str(export), drop=False, overwrite=True)
    before = _files_under(installed.install_dir)
    report, _ = host_selftest.run_selftest(str(tmp_path / "report.json"))
    assert checks(report)["installed_node"].status == st.SKIPPED  # created; the fake cannot render it
    assert "cannot render" in checks(report)["installed_node"].detail
    after = _files_under(installed.install_dir)
    assert after == before and fake_nuke.allNodes() == []


class Renderer(object):
    """A test renderer for the self-test's graph only: plates from their expressions; the gizmo's built-in hint and
    preview by the numpy replica evaluating the text its nodes hold in the fake; the model by running the .cat's
    TorchScript with the values the fake Inference node's knobs hold, then sRGB -> linear and Premult."""

    def __init__(self, fake, upside_down=False):
        self.fake = fake
        self.upside_down = upside_down
        self.images = {}

    def execute(self, write, start, end, incr=1):
        self.images[write["file"].value()] = self.image(write.input(0))

    def sample(self, node, channel, x, y, dx=1.0, dy=1.0, frame=None):
        image = self.images[node["file"].value()]
        return float(image[contract.CHANNELS_OUT.index(channel), spec.HEIGHT - 1 - int(y), int(x)])

    def image(self, node):
        import torch  # the one part of the self-test's tests that needs it (the export tier)

        if node.Class() == "Expression":
            ys = torch.arange(spec.HEIGHT - 1, -1, -1, dtype=torch.float64).view(-1, 1).expand(spec.HEIGHT, spec.WIDTH)
            xs = torch.arange(spec.WIDTH, dtype=torch.float64).view(1, -1).expand(spec.HEIGHT, spec.WIDTH)
            return torch.stack([eval(node["expr%d" % c].value(), {}, {"x": xs, "y": ys}) * torch.ones_like(xs)
                                for c in range(4)]).float()
        if node.Class() != spec.MODEL_ID:
            raise RuntimeError("the test renderer draws plates and the self-test gizmo only, not %s" % node.Class())
        knobs = {name: node[name].getValue() for name in (HINT_SOURCE.name, OUTPUT_MODE.name)}  # enums: the index
        knobs.update({name: node[name].value() for name in (HINT_BACKING.name, HINT_ERODE.name, PREVIEW_COLOUR.name)})
        plate = self.image(node.input(0)).clone()
        plate[3] = torch.from_numpy(self.hint(node, plate, knobs))
        mode = int(knobs[OUTPUT_MODE.name])
        if mode == OUTPUT_HINT:
            return plate[3:4].expand(4, -1, -1)
        inference = [n for n in node.nodes() if n.Class() == "Inference"][0]
        module = torch.jit.load(inference.fake_cat["torchScriptFile"], map_location="cpu")
        for knob in KNOBS:
            value = inference[knob.name].getValue()
            setattr(module, knob.name, float(value) if knob.torch_type == "float" else int(value))
        with torch.no_grad():
            source = plate.flip(1) if self.upside_down else plate
            out = module(source.unsqueeze(0))[0]
            out = out.flip(1) if self.upside_down else out
        out = self.despill(node, out)
        rgb = out[:3].double()
        linear = torch.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4).float()
        alpha = out[3:4]
        if mode in (OUTPUT_OVER_CHECKERBOARD, OUTPUT_OVER_COLOUR):
            straight = np.concatenate([linear.permute(1, 2, 0).numpy(), alpha.permute(1, 2, 0).numpy()], axis=-1)
            context = image_context(straight, knobs)
            background = node.node(graph.PREVIEW_BACKGROUND_NODE)
            under = torch.stack([torch.from_numpy(np.broadcast_to(evaluate(background["expr%d" % c].value(), context),
                                                                  straight.shape[:2]).astype(np.float32))
                                 for c in range(3)])
            return torch.cat([linear * alpha + under * (1 - alpha), alpha + (1 - alpha)])
        return [torch.cat([linear * alpha, alpha]), torch.cat([linear, alpha]), alpha.expand(4, -1, -1)][mode]

    def despill(self, node, out):
        """The Despill node after the Inference node, as the fake's node holds it, evaluated by the numpy replica."""
        import torch

        despill = node.node(graph.DESPILL_NODE)
        texts = {name: despill[name].value() for name in despill_knobs()}
        knobs = {DESPILL_STRENGTH.name: node[DESPILL_STRENGTH.name].value()}
        return torch.from_numpy(expression_node(out.permute(1, 2, 0).numpy(), texts, knobs)).permute(2, 0, 1)

    def hint(self, node, plate, knobs):
        """HintSelect, HintKey and HintErode as the fake's nodes hold them, evaluated by the numpy replica."""
        hint_input = node.input(1)
        which = evaluate(node.node(graph.HINT_SELECT_NODE)["which"].expression(),
                         Context({}, knobs, {1: hint_input is not None}))
        if int(which) == graph.SELECT_INPUT:
            if hint_input is None:
                return np.zeros((spec.HEIGHT, spec.WIDTH), np.float32)
            return self.image(hint_input)[3].clamp(0, 1).numpy()
        key = node.node(graph.HINT_KEY_NODE)
        texts = {name: key[name].value() for name in hint_key_knobs()}
        keyed = expression_node(plate.permute(1, 2, 0).numpy(), texts, knobs)[..., 3]
        return dilate(keyed, float(evaluate(node.node(graph.HINT_ERODE_NODE)["size"].expression(),
                                            Context({}, knobs))))


@pytest.mark.export
@pytest.mark.parametrize("upside_down", [False, True])
def test_with_pixels_every_check_compares_with_the_stored_expectations(fake_nuke, tmp_path, monkeypatch,
                                                                       upside_down):
    renderer = Renderer(fake_nuke, upside_down)
    monkeypatch.setattr(fake_nuke, "execute", renderer.execute)
    monkeypatch.setattr(fake_nuke, "sample", renderer.sample)
    report, _ = host_selftest.run_selftest(str(tmp_path / "report.json"))
    found = checks(report)
    pixel_checks = [c for c in report.checks if c.name.startswith(PIXEL_CHECKS)]
    if not upside_down:
        assert report.ok, report.summary()
        assert all(c.status == st.PASS for c in pixel_checks)
        return
    failed = {c.name for c in report.checks if c.status == st.FAIL}
    assert "render_default_gradient" in failed and "upside down" in found["render_default_gradient"].detail
    assert all(found["plate_" + plate].status == st.PASS for plate in spec.PLATES)
    assert st.ORIENTATION in found["render_default_gradient"].verifies


@pytest.mark.parametrize("change, failing", [
    (("size {{-parent.hint_erode}}", "size {{1-parent.hint_erode}}"), "builtin_hint_gradient"),
    (("\\[exists parent.input1]", "1"), "builtin_hint_corner"),
    (("? b : r)", "? b : g)"), "builtin_hint_knobs")])  # the red-dominant backing's branch of HintKey
def test_a_built_in_hint_that_erodes_selects_or_keys_otherwise_fails(fake_nuke, tmp_path, monkeypatch, change,
                                                                       failing):
    """The hint checks compare with the pure-Python expectation (nuke_plugin/core/selftest.py): a gizmo whose
    erosion, input test or key differs fails them, here rendered by the replica of what the fake's nodes hold."""
    real = host_selftest.gizmo_text
    monkeypatch.setattr(host_selftest, "gizmo_text", lambda *a, **k: real(*a, **k).replace(*change))
    assert change[0] in real()
    renderer = Renderer(fake_nuke)
    monkeypatch.setattr(fake_nuke, "execute", renderer.execute)
    monkeypatch.setattr(fake_nuke, "sample", renderer.sample)
    report, _ = host_selftest.run_selftest(str(tmp_path / "report.json"))
    found = checks(report)
    assert found[failing].status == st.FAIL, found[failing]
    assert found[failing].figures["points_differing"] > 0
    assert st.DILATE in found[failing].verifies and st.INPUT_EXISTS in found[failing].verifies
    assert found["render_default_gradient"].status == st.PASS  # the model's own checks are untouched


@pytest.mark.parametrize("change, failing", [
    (('expr1 "g - spill"', 'expr1 "g - spill * 0.5"'), "knob_despill_strength_gradient"),
    (("despill_strength:0;", 'despill_strength:{"parent.despill_strength"};'), "held_despill_strength")])
def test_a_despill_node_that_differs_or_a_network_that_follows_despill_fails(fake_nuke, tmp_path, monkeypatch, change,
                                                                            failing):
    """Despill after the network: the pixels with Despill Strength moved are the model's despill, and the Inference
    node must hold the model's own despill off (following the gizmo's would despill twice and re-run the network)."""
    real = host_selftest.gizmo_text
    monkeypatch.setattr(host_selftest, "gizmo_text", lambda *a, **k: real(*a, **k).replace(*change))
    assert change[0] in real()
    renderer = Renderer(fake_nuke)
    monkeypatch.setattr(fake_nuke, "execute", renderer.execute)
    monkeypatch.setattr(fake_nuke, "sample", renderer.sample)
    report, _ = host_selftest.run_selftest(str(tmp_path / "report.json"))
    found = checks(report)
    assert found[failing].status == st.FAIL, found[failing]
    assert found["render_default_gradient"].status == st.PASS
