"""The menu commands that open windows: Build Model in plain Nuke, and the whole artist path from the dialog to
the background build (the stand-in exporter, the fake Nuke, a real Qt dialog offscreen)."""
import json
import os

import pytest

from nuke_plugin.host import build_job
from nuke_plugin.host.edition import EDITION_MESSAGE
from nuke_plugin.runner import process
from nuke_plugin.ui import commands
from tests import stand_in_exporter as stand_in
from tests.host.test_build_job import MainThreadFinish


def test_build_model_in_plain_nuke_explains_why_not(plain_nuke):
    assert commands.open_build_dialog() is None
    shown, = plain_nuke.fake_dialogs_of("message")
    assert shown == EDITION_MESSAGE


@pytest.mark.ui
def test_menu_command_opens_the_dialog_and_builds(fake_nuke, tmp_path, monkeypatch, stand_in_export,
                                                  stand_in_exporter):
    """The whole artist path: menu -> dialog (filled in and Build clicked) -> background build -> main thread."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    qt_compat = pytest.importorskip("nuke_plugin.ui.qt_compat", exc_type=ImportError)
    from nuke_plugin.ui import build_dialog

    QtCore, QtWidgets = qt_compat.QtCore, qt_compat.QtWidgets
    qt_compat.application()
    python = stand_in_exporter()
    monkeypatch.setenv("CORRIDORKEY_PYTHON", python)
    monkeypatch.setenv("CORRIDORKEY_BUILD_DIR", str(tmp_path / "build"))
    finish = MainThreadFinish(fake_nuke)
    monkeypatch.setattr(build_job, "default_finish", finish)
    seen = {}

    def artist():
        dialog = QtWidgets.QApplication.activeModalWidget()
        if not isinstance(dialog, build_dialog.BuildModelDialog) or dialog.environment.probing:
            QtCore.QTimer.singleShot(50, artist)
            return
        seen["target"] = dialog.settings().torch_target
        dialog.fields.checkpoint_edit.setText(str(stand_in_export.checkpoint))
        dialog.fields.resolution_combo.addItem("128 (test)", 128)
        dialog.fields.resolution_combo.setCurrentIndex(dialog.fields.resolution_combo.count() - 1)
        dialog.build_button.click()
        seen["problems"] = dialog.problems_label.text()

    QtCore.QTimer.singleShot(50, artist)
    job = commands.open_build_dialog()
    assert job is not None, seen
    assert seen["target"] == "nuke15.1"  # first run: the running Nuke (15.1 in the fake) is pre-selected
    fake_nuke.fake_run_event_loop(job.thread, timeout=300)
    assert job.result.status == process.DONE, job.result.message
    assert finish.calls and finish.calls[0][3] is True
    export_call, = [c["argv"] for c in stand_in.calls(os.path.dirname(python)) if c["argv"][:2] == ["-m", "exporter"]]
    assert export_call[export_call.index("--resolution") + 1] == "128"  # the size the artist picked
    saved = json.load(open(str(tmp_path / "home" / ".nuke" / "CorridorKey" / "settings.json")))
    assert saved["checkpoint"] == str(stand_in_export.checkpoint) and saved["python"] == ""  # env override not saved


@pytest.mark.parametrize("remembered, version, expected", [
    ("nuke16", (14, 0, 5), "nuke14"),      # its build would not load here: the running Nuke's target instead
    ("nuke14", (16, 0, 2), "nuke14"),      # a portable build loads in Nuke 16 too: the artist's choice stays
    ("nuke15.1", (16, 0, 2), "nuke15.1"),
])
def test_build_model_offers_a_target_whose_build_loads_in_this_nuke(fake_nuke, remembered, version, expected):
    from nuke_plugin.core.settings import Settings, save_settings

    save_settings(Settings(torch_target=remembered))
    fake_nuke.fake_set_version(*version)
    assert commands._initial_settings(fake_nuke).torch_target == expected


def test_an_install_folder_that_cannot_take_the_build_is_told_before_the_export(fake_nuke, tmp_path):
    from nuke_plugin.core.settings import load_settings

    settings = load_settings()
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("x")
    settings.install_dir = str(blocker / "CorridorKey")
    assert "cannot be used" in commands.install_problem(settings)
    settings.install_dir = str(tmp_path / "shared" / "CorridorKey")  # created by the install: fine
    assert commands.install_problem(settings) is None
