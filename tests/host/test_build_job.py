"""Build Model end to end against the strict fake Nuke: background export (the stand-in exporter, which speaks the
real one's protocol), progress in a ProgressTask, cancel, the exporter's own error shown, and the last step run on
the main thread."""
import json
import shutil
import threading

import pytest

from nuke_plugin import contract
from nuke_plugin.contract import builds, files
from nuke_plugin.contract.torch_targets import TORCH_TARGETS_BY_KEY
from nuke_plugin.core.errors import BuildDeclined, CatBuildError
from nuke_plugin.host import build_job
from nuke_plugin.runner import process


def request_for(tmp_path, python, checkpoint, resolution=128, target="nuke16"):
    return build_job.BuildRequest(python=python, checkpoint=str(checkpoint), resolution=resolution,
                                    build_dir=str(tmp_path / "build"), install_dir=str(tmp_path / "install"),
                                    torch_target=target)


class MainThreadFinish(object):
    """A last step that does what the real one must: create a node (the fake refuses that off the main thread)."""

    def __init__(self, nuke, error=None):
        self.nuke = nuke
        self.calls = []
        self.error = error

    def __call__(self, pt, manifest, install_dir, on_installed=None):
        self.calls.append((pt, manifest, install_dir, threading.current_thread() is threading.main_thread()))
        if self.error:
            raise self.error
        node = self.nuke.createNode("NoOp")
        return node.name()


def run(job, fake):
    job.start()
    fake.fake_run_event_loop(job.thread, timeout=300)
    return job.result


def test_build_runs_in_the_background_and_finishes_on_the_main_thread(fake_nuke, tmp_path, stand_in_export,
                                                                     stand_in_exporter):
    finish = MainThreadFinish(fake_nuke)
    request = request_for(tmp_path, stand_in_exporter(), stand_in_export.checkpoint, target="nuke14")
    job = build_job.BuildJob(request, fake_nuke, finish=finish)
    result = run(job, fake_nuke)
    assert result.status == process.DONE, result.message
    pt = str(tmp_path / "build" / contract.PT_NAME)
    assert finish.calls == [(pt, str(tmp_path / "build" / contract.MANIFEST_NAME), str(tmp_path / "install"), True)]
    assert result.finished == "NoOp1" and fake_nuke.toNode("NoOp1") is not None
    task, = fake_nuke.progress_tasks
    assert task.title == build_job.PROGRESS_TITLE
    assert task.progress == sorted(task.progress) and task.progress[-1] == 100
    assert any("Tracing the network" in m for m in task.messages)
    assert task.messages[-1].startswith("Building the .cat")
    # A portable build's manifest lists Nuke 14's torch, so nothing is to be said.
    manifest = json.loads((tmp_path / "build" / contract.MANIFEST_NAME).read_text())
    assert TORCH_TARGETS_BY_KEY["nuke14"].torch in manifest["compatible_torch"]
    assert build_job.torch_compatibility_warning(str(tmp_path / "build" / contract.MANIFEST_NAME), "nuke14") is None
    assert result.warnings == [] and not fake_nuke.fake_dialogs_of("message")


def test_export_failure_shows_the_exporters_message_and_builds_nothing(fake_nuke, tmp_path, stand_in_exporter):
    words = "The checkpoint is a Git LFS pointer, not weights: run `git lfs pull`."
    finish = MainThreadFinish(fake_nuke)
    request = request_for(tmp_path, stand_in_exporter("user", words), tmp_path / "CorridorKey.pth")
    result = run(build_job.BuildJob(request, fake_nuke, finish=finish), fake_nuke)
    assert result.status == process.FAILED and not finish.calls
    shown, = fake_nuke.fake_dialogs_of("message")
    assert shown.startswith("CorridorKey export failed") and words in shown  # the exporter's own words, unchanged
    assert result.export.message == words and not (tmp_path / "build").exists()


def test_a_success_without_files_is_a_failure_the_artist_sees(fake_nuke, tmp_path, stand_in_exporter):
    finish = MainThreadFinish(fake_nuke)
    request = request_for(tmp_path, stand_in_exporter("no-files"), tmp_path / "CorridorKey.pth")
    result = run(build_job.BuildJob(request, fake_nuke, finish=finish), fake_nuke)
    assert result.status == process.FAILED and not finish.calls
    shown, = fake_nuke.fake_dialogs_of("message")
    assert "reported success but its files are missing" in shown and contract.PT_NAME in shown


@pytest.mark.parametrize("behaviour", ["hang", "stubborn"])
def test_cancel_from_the_progress_bar_keeps_the_previous_build(fake_nuke, tmp_path, stand_in_export,
                                                               stand_in_exporter, behaviour):
    """Cancel while the new .pt is half written: an exporter that cleans up on SIGTERM, and one that must be
    killed (its partial file is then removed by the runner)."""
    build = tmp_path / "build"
    build.mkdir()
    for source in (stand_in_export.pt, stand_in_export.manifest):
        shutil.copy(str(source), str(build / source.name))
    before = {p.name: p.read_bytes() for p in build.iterdir()}
    finish = MainThreadFinish(fake_nuke)
    request = request_for(tmp_path, stand_in_exporter(behaviour), stand_in_export.checkpoint)
    job = build_job.BuildJob(request, fake_nuke, finish=finish, grace=1.0)
    job.start()
    # the artist presses Cancel on the progress bar once the new file is being written
    while job.thread.is_alive():
        fake_nuke.fake_process_main_thread()
        tasks = fake_nuke.progress_tasks
        if tasks and not tasks[0].isCancelled() and any("Saving" in m for m in tasks[0].messages):
            assert any(files.PARTIAL_MARK in p.name for p in build.iterdir())
            tasks[0].fake_cancel()
        job.thread.join(0.05)
    assert job.result.status == process.CANCELLED and not finish.calls
    assert {p.name: p.read_bytes() for p in build.iterdir()} == before
    assert not fake_nuke.fake_dialogs_of("message")  # a cancel is not an error


def test_finish_errors_are_shown_not_raised(fake_nuke, tmp_path, stand_in_export, stand_in_exporter):
    finish = MainThreadFinish(fake_nuke, error=CatBuildError("CatFileCreator wrote no .cat: check the licence."))
    request = request_for(tmp_path, stand_in_exporter(), stand_in_export.checkpoint)
    job = build_job.BuildJob(request, fake_nuke, finish=finish)
    job.request.build_dir = str(tmp_path / "b")
    result = run(job, fake_nuke)
    assert result.status == process.FAILED
    assert any("CatFileCreator wrote no .cat" in m for m in fake_nuke.fake_dialogs_of("message"))


class Abort(BaseException):
    """Something the main-thread step's `except Exception` does not catch."""


def test_an_error_that_escapes_the_main_thread_step_still_fails_the_build(fake_nuke, tmp_path, stand_in_export,
                                                                          monkeypatch, capsys):
    """Foundry's executeInMainThreadWithResult prints what the call raised and returns None (no re-raise): the
    build must end as failed and tell the artist where the error is, not die unpacking None."""
    done = process.CommandOutcome(process.DONE, "exported", 0, pt=str(stand_in_export.pt),
                                  manifest=str(stand_in_export.manifest))
    monkeypatch.setattr(build_job.exporter_client, "run_export", lambda *args, **kwargs: done)
    finish = MainThreadFinish(fake_nuke, error=Abort("stopped"))
    request = request_for(tmp_path, "never-run-python", stand_in_export.checkpoint)
    result = run(build_job.BuildJob(request, fake_nuke, finish=finish), fake_nuke)
    assert finish.calls and result.status == process.FAILED and result.finished is None
    assert "Script Editor" in result.message and str(stand_in_export.pt) in result.message
    assert fake_nuke.fake_dialogs_of("message") == [result.message]
    assert [type(e) for e in fake_nuke.fake_main_thread_errors] == [Abort]
    assert "Abort: stopped" in capsys.readouterr().err  # printed, as Nuke prints it


def test_declining_the_overwrite_is_quiet(fake_nuke, tmp_path, stand_in_export, stand_in_exporter):
    finish = MainThreadFinish(fake_nuke, error=BuildDeclined("kept the existing CorridorKey.cat"))
    request = request_for(tmp_path, stand_in_exporter(), stand_in_export.checkpoint)
    job = build_job.BuildJob(request, fake_nuke, finish=finish)
    result = run(job, fake_nuke)
    assert result.status == process.FAILED and "Nothing changed" in result.message
    assert not [m for m in fake_nuke.fake_dialogs_of("message") if "failed" in m]


def test_torch_compatibility_warning(tmp_path):
    manifest = tmp_path / "CorridorKey.json"
    # An older build without the list: judged by the torch that made it.
    manifest.write_text(json.dumps({"torch_version": "2.14.1+cu126"}))
    assert "not known to load in the torch 1.12.1 inside Nuke 14 / 15.0" in build_job.torch_compatibility_warning(
        str(manifest), "nuke14")
    manifest.write_text(json.dumps({"torch_version": "2.7.1"}))
    assert build_job.torch_compatibility_warning(str(manifest), "nuke16") is None
    # A portable build lists every torch it loads in, whatever torch made it.
    manifest.write_text(json.dumps({"torch_version": "2.14.1", "compatible_torch": ["1.12.1", "2.1.1", "2.14.1"]}))
    assert build_job.torch_compatibility_warning(str(manifest), "nuke14") is None
    assert "torch 2.7.1 inside Nuke 16 / 17" in build_job.torch_compatibility_warning(str(manifest), "nuke16")
    assert build_job.torch_compatibility_warning(str(tmp_path / "missing.json"), "nuke16") is None



def test_build_with_the_real_last_step_installs_and_drops_the_node(fake_nuke, tmp_path, stand_in_export,
                                                                   stand_in_exporter):
    """Export -> finish_build (CatFileCreator in the strict fake, gizmo install, node drop)."""
    plate = fake_nuke.createNode("NoOp")
    request = request_for(tmp_path, stand_in_exporter(), stand_in_export.checkpoint)
    result = run(build_job.BuildJob(request, fake_nuke), fake_nuke)
    assert result.status == process.DONE, result.message
    install = tmp_path / "install"
    build = result.finished.build_id  # this Nuke's (15) build, named for its build ID
    for name in (builds.cat_name(contract.MODEL_ID, build, 15), contract.GIZMO_NAME,
                 builds.manifest_name(contract.MODEL_ID, build, 15)):
        assert (install / "Cattery" / contract.MODEL_ID / name).is_file(), name
    node = result.finished.node
    assert node is not None and node.Class() == contract.MODEL_ID and node.input(0) is plate
    assert not [m for m in fake_nuke.fake_dialogs_of("message") if "failed" in m]
