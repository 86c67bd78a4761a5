"""The Build Model and Help dialogs, driven offscreen as an artist would: typing, picking, clicking.

Runs under whichever binding qt_compat picks (PySide6 here; tests/test_dialogs_qt5.py re-runs this file under
PySide2 in its own interpreter).
"""
import importlib
import os
import sys
import textwrap
import threading
import time

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
qt_compat = pytest.importorskip("nuke_plugin.ui.qt_compat", reason="needs PySide6 or PySide2",
                                exc_type=ImportError)
from nuke_plugin.contract.costs import frame_cost  # noqa: E402
from nuke_plugin.contract.knob_spec import CLEAN_UP_ONLY, KNOBS  # noqa: E402
from nuke_plugin.contract.node_graph import HINT_BACKING, HINT_ERODE, HINT_SOURCE, PREVIEW_COLOUR  # noqa: E402
from nuke_plugin.contract.torch_targets import FUSED, PORTABLE, TORCH_TARGETS_BY_KEY  # noqa: E402
from nuke_plugin.core.gizmo import HINT_CHANNEL, OUTPUT_MODE, TOGGLES, panel_knobs  # noqa: E402
from nuke_plugin.core.settings import Settings, cost_text, load_settings  # noqa: E402
from nuke_plugin.runner import env_probe, env_setup, process  # noqa: E402
from nuke_plugin.ui import build_dialog as dialogs  # noqa: E402
from nuke_plugin.ui import help as help_window  # noqa: E402

QtCore, QtWidgets = qt_compat.QtCore, qt_compat.QtWidgets
QTest = importlib.import_module(qt_compat.QT_BINDING + ".QtTest").QTest
LEFT = QtCore.Qt.LeftButton


@pytest.fixture(scope="module")
def app():
    return qt_compat.application()


def wait_until(predicate, timeout=60.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the dialog")
        QtWidgets.QApplication.processEvents()
        time.sleep(0.01)


def ready_probe(settings):
    return env_probe.ProbeResult(python=settings.python or "/env/bin/python", ok=True, python_version="3.11.7",
                                 versions={"torch": "2.7.1", "torchvision": "0.22.1", "timm": "1.0.31",
                                           "numpy": "2.1.0"}, cuda=False)


def type_into(edit, text):
    edit.clear()
    QTest.keyClicks(edit, text)
    QTest.keyClick(edit, QtCore.Qt.Key_Return)


def make_dialog(app, settings=None, **kwargs):
    kwargs.setdefault("probe", ready_probe)
    dialog = dialogs.BuildModelDialog(settings or Settings(), **kwargs)
    dialog.show()
    wait_until(lambda: not dialog.environment.probing)
    return dialog


def test_binding_is_the_one_asked_for(app):
    forced = os.environ.get(qt_compat.QT_API_VARIABLE)
    if forced:
        assert qt_compat.QT_BINDING.lower() == forced.lower()
    else:
        assert qt_compat.QT_BINDING in ("PySide6", "PySide2")


def test_build_with_everything_chosen(app, tmp_path):
    checkpoint = tmp_path / "CorridorKey.pth"
    checkpoint.write_bytes(b"weights")
    dialog = make_dialog(app)
    type_into(dialog.fields.checkpoint_edit, str(checkpoint))
    dialog.fields.resolution_combo.setCurrentIndex(dialog.fields.resolution_combo.findData(1536))
    dialog.fields.target_combo.setCurrentIndex(dialog.fields.target_combo.findData("nuke15.1"))
    wait_until(lambda: not dialog.environment.probing)
    type_into(dialog.fields.install_edit, str(tmp_path / "install"))
    QTest.mouseClick(dialog.build_button, LEFT)
    assert dialog.result() == QtWidgets.QDialog.Accepted, dialog.problems_label.text()
    chosen = dialog.settings()
    assert (chosen.checkpoint, chosen.resolution, chosen.torch_target, chosen.install_dir) == (
        str(checkpoint), 1536, "nuke15.1", str(tmp_path / "install"))


def test_resolution_choice_shows_the_cost_of_the_chosen_targets_build(app):
    dialog = make_dialog(app, Settings(torch_target="nuke16"))
    labels = [dialog.fields.resolution_combo.itemText(i) for i in range(dialog.fields.resolution_combo.count())]
    assert labels[0].startswith("2048") and labels[1].startswith("1536") and labels[2].startswith("1024")
    assert dialog.fields.resolution_cost.text() == cost_text(2048, "nuke16")
    dialog.fields.resolution_combo.setCurrentIndex(2)
    assert dialog.fields.resolution_cost.text() == cost_text(1024, "nuke16")
    seconds = frame_cost(FUSED, 1024).seconds
    assert "%.0f s per HD frame" % seconds in dialog.fields.resolution_cost.text()
    dialog.fields.target_combo.setCurrentIndex(dialog.fields.target_combo.findData("nuke14"))
    assert dialog.fields.resolution_cost.text() == cost_text(1024, "nuke14")
    assert "%.0f s per HD frame" % frame_cost(PORTABLE, 1024).seconds in dialog.fields.resolution_cost.text()


def test_target_nuke_shows_the_environment_set_up_makes_and_nuke13_is_not_offered(app):
    dialog = make_dialog(app)
    dialog.fields.target_combo.setCurrentIndex(dialog.fields.target_combo.findData("nuke14"))
    note = dialog.fields.target_note.text()
    assert "torch 1.12.1 environment on Python 3.9" in note and "loads in every supported Nuke" in note
    dialog.fields.target_combo.setCurrentIndex(dialog.fields.target_combo.findData("nuke16"))
    note = dialog.fields.target_note.text()
    assert "fused attention" in note and "loads in Nuke 15.1 / 15.2 and Nuke 16 / 17 only" in note
    index = dialog.fields.target_combo.findData("nuke13")
    assert not dialog.fields.target_combo.model().item(index).isEnabled()


def test_build_is_refused_with_reasons_and_the_dialog_stays_open(app, tmp_path):
    dialog = make_dialog(app)
    QTest.mouseClick(dialog.build_button, LEFT)
    assert dialog.isVisible() and dialog.result() != QtWidgets.QDialog.Accepted
    assert "Choose the CorridorKey checkpoint" in dialog.problems_label.text()
    type_into(dialog.fields.checkpoint_edit, str(tmp_path / "missing.pth"))
    QTest.mouseClick(dialog.build_button, LEFT)
    assert "does not exist" in dialog.problems_label.text()


def test_broken_interpreter_blocks_build_and_shows_the_fix(app, tmp_path):
    checkpoint = tmp_path / "ck.pth"
    checkpoint.write_bytes(b"x")

    def missing_torch(settings):
        data = {"python": "3.11.7", "packages": {"torch": {"error": "ModuleNotFoundError: No module named 'torch'"},
                                                  "torchvision": {"error": "x"}, "timm": {"error": "x"},
                                                  "numpy": {"version": "2.1.0"}}}
        return env_probe.interpret("/env/bin/python", data, settings.target)

    dialog = make_dialog(app, Settings(checkpoint=str(checkpoint)), probe=missing_torch)
    status = dialog.environment.python_status.text()
    assert "cannot import torch" in status and "Fix: create a separate export environment" in status
    assert "pip" not in status
    QTest.mouseClick(dialog.build_button, LEFT)
    assert dialog.result() != QtWidgets.QDialog.Accepted
    assert "export Python is not ready" in dialog.problems_label.text()


def test_a_fresh_dialog_with_no_environment_names_each_problem_once_with_its_fix(app, tmp_path):
    """Opened fresh on a machine without an export environment, Build pressed: the missing environment is said once
    (the status, its fix under it), not again as a "Problem:" line and a third time in the red summary."""
    environ = {"CORRIDORKEY_HOME": str(tmp_path / "home"), "HOME": str(tmp_path / "home")}

    def no_environment(settings):
        return env_probe.check_environment(settings, root=str(tmp_path / "plugin"), environ=environ)

    dialog = make_dialog(app, Settings(checkpoint=str(tmp_path / "ck.pth")), probe=no_environment)
    QTest.mouseClick(dialog.build_button, LEFT)
    assert dialog.result() != QtWidgets.QDialog.Accepted
    status = dialog.environment.python_status.text()
    shown = "\n".join(label.text() for label in dialog.findChildren(QtWidgets.QLabel))
    assert shown.count("no export environment found") == 1 and shown.count("looked in") == 1
    lines = status.splitlines()
    assert lines[0].startswith("Not ready: no export environment found (looked in: ")
    assert lines[1].startswith("Fix: Click Set up") and len(lines) == 2  # the fix beside it, nothing repeated
    red = dialog.problems_label.text()
    assert "export Python is not ready: see its status above" in red and "looked in" not in red
    assert red.count("\n") == 1  # two problems, each on its own line: the checkpoint and the environment
    assert "does not exist" in red


def test_a_missing_interpreter_is_named_once_too():
    result = env_probe.probe("/nowhere/bin/python", TORCH_TARGETS_BY_KEY["nuke16"])
    report = result.report()
    assert report.count("/nowhere/bin/python") == 2  # the headline and the problem that says it does not exist
    assert report.splitlines() == ["Not ready: /nowhere/bin/python", "Problem: /nowhere/bin/python does not exist",
                                   "Fix: " + result.fix]


def test_the_check_runs_in_the_background_and_the_dialog_stays_responsive(app, tmp_path):
    release = threading.Event()

    def slow_probe(settings):
        release.wait(30)
        return ready_probe(settings)

    dialog = dialogs.BuildModelDialog(Settings(), probe=slow_probe)
    dialog.show()
    assert dialog.environment.probing and "Checking" in dialog.environment.python_status.text()
    QTest.keyClicks(dialog.fields.checkpoint_edit, "typing while it checks")  # the UI thread is free
    assert dialog.fields.checkpoint_edit.text() == "typing while it checks"
    QTest.mouseClick(dialog.build_button, LEFT)
    assert "Still checking" in dialog.problems_label.text()
    release.set()
    wait_until(lambda: not dialog.environment.probing)
    assert dialog.environment.probe_result.ok and "torch 2.7.1" in dialog.environment.python_status.text()


def test_real_probe_of_a_typed_interpreter(app):
    pytest.importorskip("torch", reason="this interpreter has no torch (the PySide2 lane)")
    import torch

    dialog = make_dialog(app, probe=env_probe.check_environment)
    type_into(dialog.environment.python_edit, sys.executable)
    wait_until(lambda: not dialog.environment.probing, timeout=120)
    assert dialog.environment.probe_result.python == sys.executable
    assert "torch %s" % torch.__version__.split("+")[0] in dialog.environment.python_status.text()


def test_studio_locked_fields_are_disabled(app, tmp_path):
    settings = load_settings(environ={"HOME": str(tmp_path), "CORRIDORKEY_PYTHON": "/studio/bin/python",
                                      "CORRIDORKEY_RESOLUTION": "1024"})
    dialog = make_dialog(app, settings)
    assert not dialog.environment.python_edit.isEnabled() and not dialog.environment.setup_button.isEnabled()
    assert "CORRIDORKEY_PYTHON" in dialog.environment.python_edit.toolTip()
    assert not dialog.fields.resolution_combo.isEnabled() and dialog.settings().resolution == 1024
    assert dialog.fields.checkpoint_edit.isEnabled()


def _click_when_modal_appears(button_role_text, seen):
    """Answers the next modal message box like a person would, remembering its text."""
    def answer():
        box = QtWidgets.QApplication.activeModalWidget()
        if not isinstance(box, QtWidgets.QMessageBox):
            QtCore.QTimer.singleShot(20, answer)
            return
        seen.append(box.text())
        for button in box.buttons():
            if button.text().replace("&", "") == button_role_text:
                QTest.mouseClick(button, LEFT)
                return
        raise AssertionError("no %s button" % button_role_text)
    QtCore.QTimer.singleShot(20, answer)


def _stand_in_plan(tmp_path, installer_body):
    installer = tmp_path / "installer.py"
    installer.write_text(textwrap.dedent(installer_body))

    def plan(settings):
        env_dir = settings.resolved_env_dir()
        return [env_setup.Step("Creating the environment",
                               (sys.executable, "-m", "venv", "--without-pip", env_dir)),
                env_setup.Step("Installing packages", (sys.executable, str(installer)))]
    return plan


def test_set_up_asks_then_creates_the_environment_with_progress(app, tmp_path):
    env_dir = tmp_path / "envs" / "nuke16"
    probes = []

    def probe(settings):
        probes.append(settings)
        return ready_probe(settings)

    plan = _stand_in_plan(tmp_path, """
        import time
        for step in ("Collecting torch==2.7.1", "Collecting timm", "Successfully installed torch timm"):
            print(step, flush=True)
            time.sleep(0.05)
    """)
    dialog = make_dialog(app, Settings(env_dir=str(env_dir)), probe=probe, plan=plan)
    messages = []
    dialog.environment.relay.setup_message.connect(lambda text, fraction: messages.append(text))
    seen = []
    _click_when_modal_appears("Yes", seen)
    QTest.mouseClick(dialog.environment.setup_button, LEFT)
    assert "torch 2.7" in seen[0] and str(env_dir) in seen[0] and "-m venv" in seen[0]
    assert dialog.environment.setup_running and not dialog.build_button.isEnabled()
    wait_until(lambda: not dialog.environment.setup_running)
    assert dialog.environment.setup_outcome.ok, dialog.environment.setup_outcome.message
    assert os.path.isfile(env_probe.venv_python(str(env_dir)))
    assert "Collecting torch==2.7.1" in messages and "Creating the environment" in messages
    wait_until(lambda: not dialog.environment.probing)
    assert len(probes) == 2 and dialog.build_button.isEnabled()  # checked again once ready


def test_set_up_declined_does_nothing(app, tmp_path):
    env_dir = tmp_path / "env"
    plan = _stand_in_plan(tmp_path, "print('should not run')\n")
    dialog = make_dialog(app, Settings(env_dir=str(env_dir)), plan=plan)
    seen = []
    _click_when_modal_appears("No", seen)
    QTest.mouseClick(dialog.environment.setup_button, LEFT)
    assert seen and not dialog.environment.setup_running and not env_dir.exists()


def test_set_up_can_be_stopped_and_leaves_no_half_environment(app, tmp_path):
    env_dir = tmp_path / "env"
    plan = _stand_in_plan(tmp_path, "import time\nprint('Downloading torch', flush=True)\ntime.sleep(600)\n")
    dialog = make_dialog(app, Settings(env_dir=str(env_dir)), plan=plan, confirm=lambda title, text: True)
    QTest.mouseClick(dialog.environment.setup_button, LEFT)
    wait_until(lambda: "Downloading torch" in dialog.environment.python_status.text())
    assert dialog.environment.setup_cancel.isVisible()
    QTest.mouseClick(dialog.environment.setup_cancel, LEFT)
    wait_until(lambda: not dialog.environment.setup_running, timeout=30)
    assert dialog.environment.setup_outcome.status == process.CANCELLED
    assert not env_dir.exists() and "Cancelled" in dialog.environment.python_status.text()


def test_set_up_without_uv_or_python_explains(app, tmp_path):
    def impossible(settings):
        raise ValueError("No Python 3.7-3.10 found to create the environment for torch 1.12.")

    dialog = make_dialog(app, plan=impossible)
    QTest.mouseClick(dialog.environment.setup_button, LEFT)
    assert "No Python 3.7-3.10 found" in dialog.environment.python_status.text()
    assert not dialog.environment.setup_running


def test_cancel_closes_without_building(app):
    dialog = make_dialog(app)
    QTest.mouseClick(dialog.cancel_button, LEFT)
    assert dialog.result() == QtWidgets.QDialog.Rejected and not dialog.isVisible()


def test_help_dialog_opens_from_the_button_with_the_comp_advice(app):
    dialog = make_dialog(app)
    shown = []

    def read_and_close():
        helper = QtWidgets.QApplication.activeModalWidget()
        if not isinstance(helper, help_window.AboutDialog):
            QtCore.QTimer.singleShot(20, read_and_close)
            return
        shown.append(helper.text.toPlainText())
        helper.reject()

    QtCore.QTimer.singleShot(20, read_and_close)
    QTest.mouseClick(dialog.help_button, LEFT)
    text = shown[0]
    for knob in tuple(panel_knobs(KNOBS)) + (HINT_CHANNEL, OUTPUT_MODE, HINT_SOURCE, HINT_ERODE, HINT_BACKING,
                                             PREVIEW_COLOUR):
        assert knob.label in text and knob.tooltip in text
    assert CLEAN_UP_ONLY.label not in text  # held by the gizmo's nodes, never on its panel
    assert "built-in hint" in text and "unconnected" in text
    for toggle in TOGGLES:
        assert toggle.label in text
    for phrase in ("slightly eroded", "Merge (over)", "premultiplied by the matte", "Set Input Gamma to how",
                   OUTPUT_MODE.items[0]):
        assert phrase in text
    assert dialog.isVisible()  # back to the build dialog


def test_help_lists_every_target_torch_somewhere_the_artist_can_see(app):
    dialog = make_dialog(app)
    for key, target in TORCH_TARGETS_BY_KEY.items():
        dialog.fields.target_combo.setCurrentIndex(dialog.fields.target_combo.findData(key))
        assert target.nuke in dialog.fields.target_combo.currentText()


def _clipped_labels(window):
    """Every visible label whose text, wrapped as the label wraps it, does not fit the room it was given."""
    QtWidgets.QApplication.processEvents()
    window.layout().activate()
    QtWidgets.QApplication.processEvents()
    clipped = []
    for label in window.findChildren(QtWidgets.QLabel):
        if not label.isVisible() or not label.text():
            continue
        room = label.contentsRect()
        flags = int(label.alignment()) | (int(QtCore.Qt.TextWordWrap) if label.wordWrap() else 0)
        needed = label.fontMetrics().boundingRect(QtCore.QRect(0, 0, room.width(), 100000), flags, label.text())
        if needed.width() > room.width() or needed.height() > room.height():
            clipped.append("%r needs %dx%d, has %dx%d" % (label.text()[:60], needed.width(), needed.height(),
                                                          room.width(), room.height()))
    return clipped


def _missing_torch(settings):
    data = {"python": "3.11.7", "packages": {"torch": {"error": "ModuleNotFoundError: No module named 'torch'"},
                                              "torchvision": {"error": "ModuleNotFoundError: No module named "
                                                              "'torchvision'"},
                                              "timm": {"version": "1.0.30"}, "numpy": {"version": "2.1.0"}}}
    return env_probe.interpret("/home/artist/.nuke/CorridorKey/envs/nuke16/bin/python", data, settings.target)


def _unproven_torch(settings):
    data = {"python": "3.11.7", "packages": {n: {"version": "2.5.0"} for n in env_probe.REQUIRED_PACKAGES}}
    return env_probe.interpret("/studio/python/bin/python", data, settings.target)


@pytest.mark.parametrize("probe", [ready_probe, _missing_torch, _unproven_torch])
def test_every_label_shows_all_of_its_text_at_the_default_size(app, probe):
    dialog = make_dialog(app, probe=probe)
    assert _clipped_labels(dialog) == []
    QTest.mouseClick(dialog.build_button, LEFT)  # the problems appear under the fields
    assert dialog.problems_label.text() and _clipped_labels(dialog) == []
    for key in ("nuke14", "nuke13"):  # the longest target notes
        dialog.fields.target_combo.setCurrentIndex(dialog.fields.target_combo.findData(key))
        wait_until(lambda: not dialog.environment.probing)
        assert _clipped_labels(dialog) == []


def test_checkpoint_field_says_where_the_weights_come_from(app):
    dialog = make_dialog(app)
    assert "Hugging Face, nikopueringer/CorridorKey_v1.0" in dialog.fields.checkpoint_note.text()
    assert dialog.fields.checkpoint_edit.placeholderText() == "CorridorKey_v1.0.pth"


def test_set_up_says_what_it_downloads_and_recreate_is_explained(app, tmp_path):
    env_dir = tmp_path / "envs" / "nuke16"
    dialog = make_dialog(app, Settings(env_dir=str(env_dir)))  # ready, but another interpreter
    assert dialog.environment.setup_button.text() == "Set up..."
    assert str(env_dir) in dialog.environment.setup_note.text() and "download" in dialog.environment.setup_note.text()

    def own_environment(settings):
        result = ready_probe(settings)
        result.python = env_probe.venv_python(settings.resolved_env_dir())
        return result

    dialog = make_dialog(app, Settings(env_dir=str(env_dir)), probe=own_environment)
    assert dialog.environment.setup_button.text() == "Recreate..."
    note = dialog.environment.setup_note.text()
    assert note.startswith("Recreate... runs Set up again on %s" % env_dir) and "builds are kept" in note
    assert dialog.environment.setup_button.toolTip() == note


@pytest.mark.skipif(not env_setup.cpu_only_offered(), reason="PyTorch's CPU-only index serves Linux and Windows")
def test_cpu_only_torch_choice_changes_what_set_up_downloads_and_runs(app, tmp_path, monkeypatch):
    monkeypatch.setattr(env_setup, "find_uv", lambda environ=None: None)
    monkeypatch.setattr(env_setup, "find_base_python", lambda target, environ=None, candidates=None: "/usr/bin/py")
    dialog = make_dialog(app, Settings(env_dir=str(tmp_path / "env")), confirm=lambda title, text: asked.append(text))
    asked = []
    panel = dialog.environment
    assert panel.cpu_only.isVisible() and not panel.cpu_only.isChecked() and "GB" in panel.setup_note.text()
    QTest.mouseClick(panel.cpu_only, LEFT)
    assert "CPU-only torch: a much smaller download" in panel.setup_note.text()
    assert dialog.settings().cpu_only_torch is True and _clipped_labels(dialog) == []
    QTest.mouseClick(panel.setup_button, LEFT)  # the confirmation shows the command it would run
    assert "--index-url https://download.pytorch.org/whl/cpu" in asked[0] and "much smaller" in asked[0]
    QTest.mouseClick(panel.cpu_only, LEFT)
    QTest.mouseClick(panel.setup_button, LEFT)
    assert "--index-url" not in asked[1] and "GB to download" in asked[1]


def test_about_shows_the_plugin_version_and_a_link_to_the_project(app):
    from nuke_plugin import contract

    about = help_window.AboutDialog()
    html = about.text.toHtml()
    assert "version %s" % contract.VERSION in about.text.toPlainText()
    assert 'href="%s"' % contract.UPSTREAM_URL in html and 'href="%s"' % contract.WEIGHTS_URL in html
