"""The in-Nuke self-test against the strict fake: what the fake can answer is checked for real, what needs pixels is
reported as skipped; with a test renderer that runs the shipped model (through the fake Inference node's own knob
values) every pixel check passes, and a Nuke that hands the image over upside down or drops a knob link fails."""
import json
import os

import pytest

from nuke_plugin import contract
from nuke_plugin.contract import node_graph, selftest
from nuke_plugin.contract.knob_spec import KNOBS, STAGE_KNOBS
from nuke_plugin.core import selftest_report
from nuke_plugin.core.build_set import BuildSet, Slot
from nuke_plugin.core.gizmo import OUTPUT_MODE
from nuke_plugin.core.paths import plugin_root
from nuke_plugin.core.selftest_report import FAIL, PASS, SKIPPED
from nuke_plugin.host import selftest_checks
from nuke_plugin.host.finish import finish_build
from tests import stand_in_exporter
from tests.fake_nuke.render import Renderer

DATA = selftest.data_dir(plugin_root())
PIXEL_CHECKS = ("plate_", "render_", "knob_", "toggle_", "output_", "builtin_hint_", "hint_source_")


def checks(report):
    return {c.name: c for c in report.checks}


def test_against_the_fake_everything_without_pixels_is_checked_and_pixels_are_skipped(fake_nuke, tmp_path):
    report, path = selftest_checks.run_selftest(str(tmp_path / "report.json"))
    found = checks(report)
    assert report.ok, report.summary()
    for name in ("cat_build", "cat_failure_mode", "gizmo_create", "gizmo_reread", "plugin_add_path"):
        assert found[name].status == PASS, found[name]
    assert found["cat_failure_mode"].figures["raises"] is True  # the fake's createCatFile raises
    network_held, clean_up_held = node_graph.network_held(KNOBS), node_graph.clean_up_held(KNOBS)
    linked = [k.name for k in KNOBS if k.name not in network_held] + ["useGPUIfAvailable", "halfPrecision"]
    for name in linked:
        assert found["link_" + name].status == PASS, found["link_" + name]
    for name in network_held:  # applied after the network: the network node holds it
        assert "link_" + name not in found and found["held_" + name].status == PASS, found["held_" + name]
    for name in node_graph.CLEAN_UP_FOLLOWS:  # the clean-up node follows despeckle and holds the rest
        assert found["link_%s_clean_up" % name].status == PASS, found["link_%s_clean_up" % name]
    for name in clean_up_held:
        assert found["held_%s_clean_up" % name].status == PASS, found["held_%s_clean_up" % name]
    pixel_checks = [c for c in report.checks if c.name.startswith(PIXEL_CHECKS)]
    model_outputs = len(OUTPUT_MODE.items) - 2  # every Output but the default and the hint (no model pixels)
    hint_checks = len(selftest.PLATES) + 1 + 3  # each plate, the knobs moved, the three Hint Source choices
    panel_knobs = len(KNOBS) - len(STAGE_KNOBS)
    assert len(pixel_checks) == len(selftest.PLATES) * (1 + panel_knobs + 2 + model_outputs + 1) + hint_checks
    assert all(c.status == SKIPPED and "cannot render" in c.detail for c in pixel_checks)
    assert found["installed_node"].status == SKIPPED and found["progress_cancel"].status == SKIPPED
    # the gizmo's version logic: Tcl variables read through expressions, each Assert stops a render with its message
    assert found["tcl_versions"].status == PASS
    assert found["tcl_versions"].figures == {"nuke_version_major": 15.0, "nuke_version": 15.103}
    for name, node in (("assert_same_build", "SameBuild"), ("assert_no_build", "BuildForThisNuke"),
                       ("assert_newer_release", "NukeNewEnough")):
        assert found[name].status == PASS and node in found[name].detail, found[name]
        assert selftest_report.ASSERT_ERRORS in found[name].verifies
    # the fake has no GPU: without --gpu that is a fact, not a failure
    assert found["gpu"].status == PASS and "on the CPU" in found["gpu"].detail
    assert found["gpu"].figures == {"gpuName": "", "requested": False, "useGPUIfAvailable": True}
    assert all(set(c.verifies) <= set(selftest_report.ASSUMPTIONS) for c in report.checks)
    data = json.loads(open(path).read())
    assert data["format"] == selftest.REPORT_FORMAT and data["ok"] is True and len(data["checks"]) == len(report.checks)
    assert data["environment"]["edition"] == "NukeX" and data["environment"]["nuke_version"] == "15.1v3"
    # everything it made is gone, and it opened no dialog (the menu shows the summary)
    assert fake_nuke.allNodes() == [] and not os.path.exists(data["cleanup"]["removed_folder"])
    assert ("execute", "Write1") in fake_nuke.events and not fake_nuke.dialogs


def test_every_assumption_named_is_a_line_of_limits_md():
    limits = open(os.path.join(plugin_root(), "tests", "fake_nuke", "LIMITS.md"), encoding="utf-8").read()
    lines = [line[2:] for line in limits.splitlines() if line.startswith("- ")]
    for assumption in selftest_report.ASSUMPTIONS:
        assert any(line.startswith(assumption) for line in lines), assumption


def test_in_plain_nuke_the_cat_checks_are_skipped_not_failed(plain_nuke, tmp_path):
    report, _ = selftest_checks.run_selftest(str(tmp_path / "report.json"))
    found = checks(report)
    assert report.ok and found["cat_build"].status == SKIPPED and "CatFileCreator" in found["cat_build"].detail
    assert "gizmo_create" not in found and report.environment["edition"] == "Nuke"


def test_a_broken_knob_link_fails(fake_nuke, tmp_path, monkeypatch):
    real = selftest_checks.gizmo_text
    monkeypatch.setattr(selftest_checks, "gizmo_text", lambda *a, **k: real(*a, **k).replace(
        'gamma_input:{"parent.gamma_input"};', ""))
    report, _ = selftest_checks.run_selftest(str(tmp_path / "report.json"))
    found = checks(report)
    assert not report.ok and found["link_gamma_input"].status == FAIL
    assert selftest_report.ENUM_LINK in found["link_gamma_input"].verifies
    assert "FAILED link_gamma_input" in report.summary()


def test_with_gpu_requested_a_fall_back_to_the_cpu_fails(fake_nuke, tmp_path, monkeypatch):
    monkeypatch.setenv(selftest.GPU_VARIABLE, "1")
    report, _ = selftest_checks.run_selftest(str(tmp_path / "report.json"))
    gpu = checks(report)["gpu"]
    assert gpu.status == FAIL and "fell back to the CPU" in gpu.detail and gpu.figures["requested"] is True
    assert "FAILED gpu" in report.summary()


@pytest.mark.parametrize("name, requested, status, words", [
    ("NVIDIA RTX A4000", True, PASS, "used the GPU NVIDIA RTX A4000"),
    ("NVIDIA RTX A4000", False, PASS, "only when Nuke starts with --gpu"),
    ("", True, FAIL, "fell back to the CPU"),
    ("Not available", True, FAIL, "fell back to the CPU"),
    ("", False, PASS, "on the CPU"),
    (None, True, FAIL, "no gpuName knob"),
    (None, False, SKIPPED, "no gpuName knob"),
])
def test_the_gpu_verdict(name, requested, status, words):
    verdict = selftest_report.gpu_verdict(name, requested)
    assert verdict[0] == status and words in verdict[1]


@pytest.mark.export
def test_an_assert_that_does_not_stop_the_render_fails(fake_nuke, tmp_path, monkeypatch):
    renderer = Renderer(fake_nuke)
    monkeypatch.setattr(fake_nuke, "execute", renderer.execute)
    monkeypatch.setattr(fake_nuke, "sample", renderer.sample)
    real = selftest_checks.gizmo_text
    monkeypatch.setattr(selftest_checks, "gizmo_text", lambda *a, **k: real(*a, **k).replace(
        "parent.keyed_build == 0 ||", "1 ||"))
    report, _ = selftest_checks.run_selftest(str(tmp_path / "report.json"))
    found = checks(report)
    assert found["assert_same_build"].status == FAIL and "did not stop it" in found["assert_same_build"].detail
    assert found["assert_no_build"].status == PASS


def test_cancel_stops_and_is_reported(fake_nuke, tmp_path):
    fake_nuke.cancel_progress_tasks = True
    report, _ = selftest_checks.run_selftest(str(tmp_path / "report.json"))
    found = checks(report)
    assert found["progress_cancel"].status == PASS and "isCancelled" in found["progress_cancel"].detail
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
    stand_in_exporter.write_export(str(export / contract.PT_NAME))
    installed = finish_build(str(export), drop=False, overwrite=True)
    before = _files_under(installed.install_dir)
    report, _ = selftest_checks.run_selftest(str(tmp_path / "report.json"))
    assert checks(report)["installed_node"].status == SKIPPED  # created; the fake cannot render it
    assert "cannot render" in checks(report)["installed_node"].detail
    after = _files_under(installed.install_dir)
    assert after == before and fake_nuke.allNodes() == []


@pytest.mark.export
@pytest.mark.parametrize("upside_down", [False, True])
def test_with_pixels_every_check_compares_with_the_stored_expectations(fake_nuke, tmp_path, monkeypatch,
                                                                       upside_down):
    renderer = Renderer(fake_nuke, upside_down)
    monkeypatch.setattr(fake_nuke, "execute", renderer.execute)
    monkeypatch.setattr(fake_nuke, "sample", renderer.sample)
    report, _ = selftest_checks.run_selftest(str(tmp_path / "report.json"))
    found = checks(report)
    pixel_checks = [c for c in report.checks if c.name.startswith(PIXEL_CHECKS)]
    if not upside_down:
        assert report.ok, report.summary()
        assert all(c.status == PASS for c in pixel_checks)
        return
    failed = {c.name for c in report.checks if c.status == FAIL}
    assert "render_default_gradient" in failed and "upside down" in found["render_default_gradient"].detail
    assert all(found["plate_" + plate].status == PASS for plate in selftest.PLATES)
    assert selftest_report.ORIENTATION in found["render_default_gradient"].verifies


def _selftest_of_a_changed_gizmo(fake_nuke, tmp_path, monkeypatch, change):
    """The self-test's checks on a gizmo whose text has `change` made (old, new), rendered by the replica of what
    the fake's nodes hold."""
    real = selftest_checks.gizmo_text
    monkeypatch.setattr(selftest_checks, "gizmo_text", lambda *a, **k: real(*a, **k).replace(*change))
    assert change[0] in real(BuildSet(contract.MODEL_ID, 1, (Slot(15),)))
    renderer = Renderer(fake_nuke)
    monkeypatch.setattr(fake_nuke, "execute", renderer.execute)
    monkeypatch.setattr(fake_nuke, "sample", renderer.sample)
    report, _ = selftest_checks.run_selftest(str(tmp_path / "report.json"))
    return checks(report)


@pytest.mark.export
@pytest.mark.parametrize("change, failing", [
    (("size {{-parent.hint_erode}}", "size {{1-parent.hint_erode}}"), "builtin_hint_gradient"),
    (("\\[exists parent.input1]", "1"), "builtin_hint_corner"),
    (("? b : r)", "? b : g)"), "builtin_hint_knobs")])  # the red-dominant backing's branch of HintKey
def test_a_built_in_hint_that_erodes_selects_or_keys_otherwise_fails(fake_nuke, tmp_path, monkeypatch, change,
                                                                       failing):
    """The hint checks compare with the pure-Python expectation (nuke_plugin/core/selftest_report.py): a gizmo whose
    erosion, input test or key differs fails them, here rendered by the replica of what the fake's nodes hold."""
    found = _selftest_of_a_changed_gizmo(fake_nuke, tmp_path, monkeypatch, change)
    assert found[failing].status == FAIL, found[failing]
    assert found[failing].figures["points_differing"] > 0
    assert selftest_report.DILATE in found[failing].verifies and selftest_report.INPUT_EXISTS in found[failing].verifies
    assert found["render_default_gradient"].status == PASS  # the model's own checks are untouched


@pytest.mark.export
@pytest.mark.parametrize("change, failing", [
    (('expr1 "g - spill"', 'expr1 "g - spill * 0.5"'), "knob_despill_strength_gradient"),
    (("despill_strength:0;", 'despill_strength:{"parent.despill_strength"};'), "held_despill_strength")])
def test_a_despill_node_that_differs_or_a_network_that_follows_despill_fails(fake_nuke, tmp_path, monkeypatch, change,
                                                                            failing):
    """Despill after the network: the pixels with Despill Strength moved are the model's despill, and the Inference
    node must hold the model's own despill off (following the gizmo's would despill twice and re-run the network)."""
    found = _selftest_of_a_changed_gizmo(fake_nuke, tmp_path, monkeypatch, change)
    assert found[failing].status == FAIL, found[failing]
    assert found["render_default_gradient"].status == PASS


@pytest.mark.export
@pytest.mark.parametrize("change, failing", [
    # the CleanUp node runs the network again, on the network's result
    (("clean_up_only:true;", "clean_up_only:false;"), ["held_clean_up_only_clean_up", "render_default_gradient"]),
    # the network node follows despeckle: moving it would re-run the network
    (("auto_despeckle:false;despeckle_size:400;",
      'auto_despeckle:{"parent.auto_despeckle"};despeckle_size:{"parent.despeckle_size"};'),
     ["held_auto_despeckle", "held_despeckle_size"]),
    # the CleanUp node ignores the gizmo's Auto Despeckle
    (('auto_despeckle:{"parent.auto_despeckle"};despeckle_size:{"parent.despeckle_size"};clean_up_only:true;',
      'auto_despeckle:true;despeckle_size:{"parent.despeckle_size"};clean_up_only:true;'),
     ["link_auto_despeckle_clean_up", "knob_auto_despeckle_"])])
def test_a_clean_up_node_that_runs_the_network_or_misses_a_knob_fails(fake_nuke, tmp_path, monkeypatch, change,
                                                                      failing):
    """Despeckle after the network, in the CleanUp node: the network node holds despeckle off, the CleanUp node holds
    Clean-up Only on and follows despeckle, and the pixels with each moved are the one-node model's."""
    found = _selftest_of_a_changed_gizmo(fake_nuke, tmp_path, monkeypatch, change)
    for name in failing:
        named = [check for key, check in found.items() if key == name or name.endswith("_") and key.startswith(name)]
        assert named and any(check.status == FAIL for check in named), (name, named)
