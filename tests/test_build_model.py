"""Build Model end to end against the strict fake Nuke: background export with the real exporter, progress in a
ProgressTask, cancel, the exporter's own error shown, and the last step run on the main thread."""
import json
import os
import shutil
import sys
import threading

import pytest

from nuke_plugin import build_model, contract, export_runner
from nuke_plugin.errors import BuildDeclined, CatBuildError
from tests.fake_nuke.plugin import fake_nuke, plain_nuke  # noqa: F401 - pytest fixtures


def request_for(tmp_path, checkpoint, resolution=128, target="nuke16"):
    return build_model.BuildRequest(python=sys.executable, checkpoint=str(checkpoint), resolution=resolution,
                                    build_dir=str(tmp_path / "build"), install_dir=str(tmp_path / "install"),
                                    torch_target=target)


class MainThreadFinish(object):
    """A last step that does what the real one must: create a node (the fake refuses that off the main thread)."""

    def __init__(self, nuke, error=None):
        self.nuke = nuke
        self.calls = []
        self.error = error

    def __call__(self, pt, manifest, install_dir):
        self.calls.append((pt, manifest, install_dir, threading.current_thread() is threading.main_thread()))
        if self.error:
            raise self.error
        node = self.nuke.createNode("NoOp")
        return node.name()


def run(job, fake):
    job.start()
    fake.fake_run_event_loop(job.thread, timeout=300)
    return job.result


def test_build_runs_in_the_background_and_finishes_on_the_main_thread(fake_nuke, tmp_path, small_checkpoint):
    finish = MainThreadFinish(fake_nuke)
    job = build_model.BuildJob(request_for(tmp_path, small_checkpoint), fake_nuke, finish=finish)
    result = run(job, fake_nuke)
    assert result.status == export_runner.DONE, result.message
    pt = str(tmp_path / "build" / contract.PT_NAME)
    assert finish.calls == [(pt, str(tmp_path / "build" / contract.MANIFEST_NAME), str(tmp_path / "install"), True)]
    assert result.finished == "NoOp1" and fake_nuke.toNode("NoOp1") is not None
    task, = fake_nuke.progress_tasks
    assert task.title == build_model.PROGRESS_TITLE
    assert task.progress == sorted(task.progress) and task.progress[-1] == 100
    assert any("Tracing the network" in m for m in task.messages)
    assert task.messages[-1].startswith("Building the .cat")
    # this machine's torch is newer than Nuke 16's: the artist is told, after the build
    warning = build_model.torch_compatibility_warning(str(tmp_path / "build" / contract.MANIFEST_NAME), "nuke16")
    if warning:
        assert any(warning in text for text in fake_nuke.fake_dialogs_of("message"))


def test_export_failure_shows_the_exporters_message_and_builds_nothing(fake_nuke, tmp_path):
    lfs = tmp_path / "CorridorKey.pth"
    lfs.write_text("version https://git-lfs.github.com/spec/v1\noid sha256:0\nsize 1\n")
    finish = MainThreadFinish(fake_nuke)
    result = run(build_model.BuildJob(request_for(tmp_path, lfs), fake_nuke, finish=finish), fake_nuke)
    assert result.status == export_runner.FAILED and not finish.calls
    shown, = fake_nuke.fake_dialogs_of("message")
    assert shown.startswith("CorridorKey export failed") and "LFS" in shown
    assert result.export.message in shown  # the exporter's own words, unchanged


def test_cancel_from_the_progress_bar_keeps_the_previous_build(fake_nuke, tmp_path, exported_model):
    build = tmp_path / "build"
    build.mkdir()
    for source in (exported_model.pt, exported_model.manifest):
        shutil.copy(str(source), str(build / source.name))
    before = {p.name: p.read_bytes() for p in build.iterdir()}
    finish = MainThreadFinish(fake_nuke)
    job = build_model.BuildJob(request_for(tmp_path, exported_model.checkpoint, exported_model.resolution),
                               fake_nuke, finish=finish, grace=30.0)
    job.start()
    # the artist presses Cancel on the progress bar once the export is under way
    while job.thread.is_alive():
        fake_nuke.fake_process_main_thread()
        tasks = fake_nuke.progress_tasks
        if tasks and any("Tracing" in m for m in tasks[0].messages):
            tasks[0].fake_cancel()
        job.thread.join(0.05)
    assert job.result.status == export_runner.CANCELLED and not finish.calls
    assert {p.name: p.read_bytes() for p in build.iterdir()} == before
    assert not fake_nuke.fake_dialogs_of("message")  # a cancel is not an error


def test_finish_errors_are_shown_not_raised(fake_nuke, tmp_path, exported_model):
    finish = MainThreadFinish(fake_nuke, error=CatBuildError("CatFileCreator wrote no .cat: check the licence."))
    job = build_model.BuildJob(request_for(tmp_path, exported_model.checkpoint), fake_nuke, finish=finish)
    job.request.build_dir = str(tmp_path / "b")
    result = run(job, fake_nuke)
    assert result.status == export_runner.FAILED
    assert any("CatFileCreator wrote no .cat" in m for m in fake_nuke.fake_dialogs_of("message"))


def test_declining_the_overwrite_is_quiet(fake_nuke, tmp_path, exported_model):
    finish = MainThreadFinish(fake_nuke, error=BuildDeclined("kept the existing CorridorKey.cat"))
    job = build_model.BuildJob(request_for(tmp_path, exported_model.checkpoint), fake_nuke, finish=finish)
    result = run(job, fake_nuke)
    assert result.status == export_runner.FAILED and "Nothing changed" in result.message
    assert not [m for m in fake_nuke.fake_dialogs_of("message") if "failed" in m]


def test_torch_compatibility_warning(tmp_path):
    manifest = tmp_path / "CorridorKey.json"
    # An older build without the list: judged by the torch that made it.
    manifest.write_text(json.dumps({"torch_version": "2.14.1+cu126"}))
    assert "not known to load in the torch 1.12.1 inside Nuke 14 / 15.0" in build_model.torch_compatibility_warning(
        str(manifest), "nuke14")
    manifest.write_text(json.dumps({"torch_version": "2.7.1"}))
    assert build_model.torch_compatibility_warning(str(manifest), "nuke16") is None
    # A portable build lists every torch it loads in, whatever torch made it.
    manifest.write_text(json.dumps({"torch_version": "2.14.1", "compatible_torch": ["1.12.1", "2.1.1", "2.14.1"]}))
    assert build_model.torch_compatibility_warning(str(manifest), "nuke14") is None
    assert "torch 2.7.1 inside Nuke 16 / 17" in build_model.torch_compatibility_warning(str(manifest), "nuke16")
    assert build_model.torch_compatibility_warning(str(tmp_path / "missing.json"), "nuke16") is None


def test_build_model_in_plain_nuke_explains_why_not(plain_nuke):
    assert build_model.open_build_dialog() is None
    shown, = plain_nuke.fake_dialogs_of("message")
    assert "needs NukeX" in shown


def test_menu_command_opens_the_dialog_and_builds(fake_nuke, tmp_path, monkeypatch, small_checkpoint):
    """The whole artist path: menu -> dialog (filled in and Build clicked) -> background build -> main thread."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    qt_compat = pytest.importorskip("nuke_plugin.qt_compat", exc_type=ImportError)
    from nuke_plugin import dialogs

    QtCore, QtWidgets = qt_compat.QtCore, qt_compat.QtWidgets
    qt_compat.application()
    monkeypatch.setenv("CORRIDORKEY_PYTHON", sys.executable)
    monkeypatch.setenv("CORRIDORKEY_BUILD_DIR", str(tmp_path / "build"))
    finish = MainThreadFinish(fake_nuke)
    monkeypatch.setattr(build_model, "default_finish", finish)
    seen = {}

    def artist():
        dialog = QtWidgets.QApplication.activeModalWidget()
        if not isinstance(dialog, dialogs.BuildModelDialog) or dialog.probing:
            QtCore.QTimer.singleShot(50, artist)
            return
        seen["target"] = dialog.settings().torch_target
        dialog.checkpoint_edit.setText(str(small_checkpoint))
        dialog.resolution_combo.addItem("128 (test)", 128)
        dialog.resolution_combo.setCurrentIndex(dialog.resolution_combo.count() - 1)
        dialog.build_button.click()
        seen["problems"] = dialog.problems_label.text()

    QtCore.QTimer.singleShot(50, artist)
    job = build_model.open_build_dialog()
    assert job is not None, seen
    assert seen["target"] == "nuke15.1"  # first run: the running Nuke (15.1 in the fake) is pre-selected
    fake_nuke.fake_run_event_loop(job.thread, timeout=300)
    assert job.result.status == export_runner.DONE, job.result.message
    assert finish.calls and finish.calls[0][3] is True
    saved = json.load(open(str(tmp_path / "home" / ".nuke" / "CorridorKey" / "settings.json")))
    assert saved["checkpoint"] == str(small_checkpoint) and saved["python"] == ""  # env override not saved


def test_build_with_the_real_last_step_installs_and_drops_the_node(fake_nuke, tmp_path, exported_model):
    """Export -> finish_build (CatFileCreator in the strict fake, gizmo install, node drop)."""
    plate = fake_nuke.createNode("NoOp")
    request = request_for(tmp_path, exported_model.checkpoint, exported_model.resolution)
    result = run(build_model.BuildJob(request, fake_nuke), fake_nuke)
    assert result.status == export_runner.DONE, result.message
    install = tmp_path / "install"
    for name in (contract.CAT_NAME, contract.GIZMO_NAME, contract.MANIFEST_NAME):
        assert (install / name).is_file(), name
    node = result.finished.node
    assert node is not None and node.Class() == contract.MODEL_ID and node.input(0) is plate
    assert not [m for m in fake_nuke.fake_dialogs_of("message") if "failed" in m]
