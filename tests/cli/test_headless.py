"""Headless builds: the command line (real subprocesses, the stand-in exporter) and the script handed to NukeX, run
against the strict fake Nuke - in-process, and end to end through a stand-in NukeX executable."""
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile

import pytest

from nuke_plugin import contract
from nuke_plugin.cli import headless
from nuke_plugin.contract import builds
from nuke_plugin.core.paths import plugin_root
from nuke_plugin.host import nuke_build_script
from nuke_plugin.runner import process
from tests import stand_in_exporter as stand_in

ROOT = plugin_root()


def headless_cli(args, home, timeout=600, temp=None):
    env = process.child_environment()
    env.update({"HOME": str(home), "USERPROFILE": str(home), "PYTHONPATH": ROOT})
    if temp is not None:
        env.update({"TMPDIR": str(temp), "TEMP": str(temp), "TMP": str(temp)})
    for name in list(env):
        if name.startswith("CORRIDORKEY_"):
            del env[name]
    return subprocess.run([sys.executable, "-m", "nuke_plugin.headless"] + list(args), cwd=str(home), env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, timeout=timeout)


def export_copy(export, folder):
    folder.mkdir(parents=True, exist_ok=True)
    for source in (export.pt, export.manifest):
        shutil.copy(str(source), str(folder / source.name))
    return folder


def write_job(tmp_path, build, install, overwrite=False):
    job = tmp_path / "job.json"
    job.write_text(json.dumps({"pt": str(build / contract.PT_NAME), "manifest": str(build / contract.MANIFEST_NAME),
                               "install_dir": str(install), "overwrite": overwrite, "plugin_root": ROOT,
                               "result": str(tmp_path / "job.result.json")}))
    return job


def read_result(tmp_path):
    return json.loads((tmp_path / "job.result.json").read_text())


def installed_files(install, build, major):
    """The files a build for Nuke `major` puts in the install's node folder, besides the icons."""
    return [contract.GIZMO_NAME, "cat.json", builds.cat_name(contract.MODEL_ID, build, major),
            builds.manifest_name(contract.MODEL_ID, build, major)]


def build_of(export_folder):
    return json.loads((export_folder / contract.MANIFEST_NAME).read_text())["build_id"]


# ---- the script NukeX runs, against the strict fake -------------------------------------------------------------


def test_build_script_builds_the_cat_and_installs_the_gizmo(fake_nuke, tmp_path, stand_in_export):
    fake_nuke.fake_set_gui(False)  # `Nuke -i script.py` runs without the node graph UI
    build = export_copy(stand_in_export, tmp_path / "build")
    install = tmp_path / "install"
    assert nuke_build_script.main([str(write_job(tmp_path, build, install))]) == 0
    result = read_result(tmp_path)
    assert result["status"] == "done", result
    for name in installed_files(install, build_of(build), 15):
        assert (install / "Cattery" / contract.MODEL_ID / name).is_file(), name
    assert result["details"]["install_dir"] == str(install) and result["details"]["node"] is None
    assert result["details"]["build_id"] == build_of(build) and result["details"]["nuke_major"] == 15
    assert not fake_nuke.dialogs, "a headless build must not pop up dialogs"


def test_build_script_in_plain_nuke_says_nukex_is_needed(plain_nuke, tmp_path, stand_in_export):
    build = export_copy(stand_in_export, tmp_path / "build")
    assert nuke_build_script.main([str(write_job(tmp_path, build, tmp_path / "install"))]) == 1
    result = read_result(tmp_path)
    assert result["status"] == "failed" and result["kind"] == "user" and "NukeX" in result["message"]
    assert not (tmp_path / "install").exists()


def test_build_script_keeps_an_existing_install_unless_forced(fake_nuke, tmp_path, stand_in_export):
    fake_nuke.fake_set_gui(False)
    build = export_copy(stand_in_export, tmp_path / "build")
    install = tmp_path / "install"
    assert nuke_build_script.main([str(write_job(tmp_path, build, install))]) == 0
    cat = install / "Cattery" / contract.MODEL_ID / installed_files(install, build_of(build), 15)[2]
    first = cat.read_bytes()
    assert nuke_build_script.main([str(write_job(tmp_path, build, install))]) == 1
    result = read_result(tmp_path)
    assert "--force" in result["message"]
    assert cat.read_bytes() == first
    assert nuke_build_script.main([str(write_job(tmp_path, build, install, overwrite=True))]) == 0
    assert read_result(tmp_path)["details"]["replaced"] is True


def test_build_script_reports_a_missing_export(fake_nuke, tmp_path):
    job = write_job(tmp_path, tmp_path / "nothing", tmp_path / "install")
    assert nuke_build_script.main([str(job)]) == 1
    assert "run the export first" in read_result(tmp_path)["message"]


def test_build_script_needs_a_job(tmp_path, monkeypatch):
    monkeypatch.delenv(nuke_build_script.JOB_VARIABLE, raising=False)
    assert nuke_build_script.main([]) == 2
    job = write_job(tmp_path, tmp_path, tmp_path)
    monkeypatch.setenv(nuke_build_script.JOB_VARIABLE, str(job))
    assert nuke_build_script.find_job(["1-10"]) == str(job)  # a frame range Nuke might leave is no job


def test_nuke_command_line():
    argv = headless.build_nuke_command("/opt/Nuke16.0v2/Nuke16.0", "/tmp/job.json")
    assert argv == ["/opt/Nuke16.0v2/Nuke16.0", "--nukex", "-i", headless.BUILD_SCRIPT, "/tmp/job.json"]
    assert "-t" not in argv  # terminal mode does not press createCatFile
    assert os.path.isfile(headless.BUILD_SCRIPT)


# ---- the command line ---------------------------------------------------------------------------------------------


def test_headless_export_only(tmp_path, stand_in_export, stand_in_exporter):
    out = tmp_path / "out"
    python = stand_in_exporter()
    run = headless_cli(["--checkpoint", str(stand_in_export.checkpoint), "--output-dir", str(out), "--resolution",
                        "128", "--python", python, "--target", "16", "--skip-probe"], tmp_path)
    assert run.returncode == 0, run.stderr
    assert (out / contract.PT_NAME).is_file() and (out / contract.MANIFEST_NAME).is_file()
    assert "Tracing the network" in run.stdout and "No --nuke given" in run.stdout
    argv, = [c["argv"] for c in stand_in.calls(os.path.dirname(python))]
    assert argv == ["-m", "exporter", "--checkpoint", str(stand_in_export.checkpoint), "--output",
                    str(out / contract.PT_NAME), "--resolution", "128", "--progress", "json", "--target-nuke", "nuke16"]
    manifest = json.loads((out / contract.MANIFEST_NAME).read_text())
    assert manifest["target_nuke"] == "nuke16"  # the torch table's key, as Build Model records it, not "16"
    assert re.search(r"\(\d+ s elapsed, about [\d a-z]+ left\)", run.stdout)  # timing reaches the farm log


@pytest.mark.parametrize("behaviour, code", [("user", 2), ("internal", 1), ("crash", 1)])
def test_headless_reports_the_exporters_refusal(tmp_path, stand_in_exporter, behaviour, code):
    lfs = tmp_path / "CorridorKey.pth"
    lfs.write_text("version https://git-lfs.github.com/spec/v1\noid sha256:0\nsize 1\n")
    words = "The checkpoint is a Git LFS pointer, not weights: run `git lfs pull`."
    run = headless_cli(["--checkpoint", str(lfs), "--output-dir", str(tmp_path / "o"), "--resolution", "128",
                        "--python", stand_in_exporter(behaviour, words), "--skip-probe"], tmp_path)
    assert run.returncode == code, run.stdout + run.stderr
    shown = {"user": words, "internal": "Internal error", "crash": "RuntimeError: " + words}[behaviour]
    assert shown in run.stderr and not (tmp_path / "o" / contract.PT_NAME).exists()
    assert not (tmp_path / "o" / contract.PT_NAME).exists()


@pytest.mark.skipif(os.name == "nt", reason="venv layout")
def test_headless_refuses_an_interpreter_without_torch(tmp_path):
    venv = tmp_path / "bare"
    subprocess.check_call([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    (tmp_path / "ck.pth").write_bytes(b"checked by the exporter, after the probe")
    run = headless_cli(["--checkpoint", str(tmp_path / "ck.pth"), "--python", str(venv / "bin" / "python")],
                       tmp_path)
    assert run.returncode == 2
    assert "cannot import torch" in run.stderr and "Fix: create a separate export environment" in run.stderr
    assert "pip install" not in run.stderr  # never advice that would change that interpreter's torch


def test_headless_needs_a_checkpoint(tmp_path):
    run = headless_cli([], tmp_path)
    assert run.returncode == 2 and "--checkpoint is required" in run.stderr


@pytest.mark.parametrize("option, value, message", [
    ("--nuke-timeout", "nan", "not a positive number of seconds"),
    ("--nuke-timeout", "inf", "not a positive number of seconds"),
    ("--nuke-timeout", "0", "not a positive number of seconds"),
    ("--nuke-timeout", "-5", "not a positive number of seconds"),
    ("--nuke-timeout", "soon", "not a positive number of seconds"),
    ("--resolution", "1048576", "outside 64-4096"),
    ("--resolution", "100", "not a multiple of 32"),
    ("--resolution", "nan", "not a whole number"),
])
def test_headless_refuses_numbers_it_cannot_use(tmp_path, option, value, message):
    run = headless_cli(["--checkpoint", str(tmp_path / "ck.pth"), option + "=" + value], tmp_path)
    assert run.returncode == 2 and message in run.stderr and option in run.stderr


def _not_executable(tmp_path):
    path = tmp_path / "Nuke16.0"
    path.write_text("not a program")
    path.chmod(0o644)
    return str(path), "not an executable file"


@pytest.mark.parametrize("make_nuke", [
    lambda tmp_path: (str(tmp_path / "NoSuchNuke"), "no such file"),
    lambda tmp_path: (str(tmp_path), "not an executable file"),
    pytest.param(_not_executable, marks=pytest.mark.skipif(os.name == "nt", reason="POSIX execute bit")),
])
def test_headless_checks_nuke_before_the_export(tmp_path, make_nuke):
    """A wrong --nuke is found in a second, not after the minutes-long export."""
    checkpoint = tmp_path / "ck.pth"
    checkpoint.write_bytes(b"never read")
    nuke, message = make_nuke(tmp_path)
    run = headless_cli(["--checkpoint", str(checkpoint), "--output-dir", str(tmp_path / "out"), "--nuke", nuke,
                        "--python", sys.executable], tmp_path)
    assert run.returncode == 2 and message in run.stderr
    assert "Exporting" not in run.stdout and not (tmp_path / "out").exists()


@pytest.mark.parametrize("option", ["--output-dir", "--install-dir"])
def test_headless_checks_its_folders_before_the_export(tmp_path, option):
    checkpoint = tmp_path / "ck.pth"
    checkpoint.write_bytes(b"never read")
    (tmp_path / "a-file").write_text("not a folder")
    run = headless_cli(["--checkpoint", str(checkpoint), option, str(tmp_path / "a-file"), "--python",
                        sys.executable], tmp_path)
    assert run.returncode == 2 and "is a file, not a folder" in run.stderr and "Exporting" not in run.stdout


@pytest.mark.skipif(os.name == "nt", reason="shell-script stand-in Nuke")
def test_headless_checks_the_install_folder_before_the_export(tmp_path):
    from tests.fake_nuke.executable import make_executable

    checkpoint = tmp_path / "ck.pth"
    checkpoint.write_bytes(b"never read")
    (tmp_path / "a-file").write_text("not a folder")
    nuke = make_executable(str(tmp_path / "Nuke16.0"), "16.0v2", "nukex")
    run = headless_cli(["--checkpoint", str(checkpoint), "--install-dir", str(tmp_path / "a-file" / "CorridorKey"),
                        "--nuke", nuke, "--python", sys.executable], tmp_path)
    assert run.returncode == 2 and "cannot be used" in run.stderr and "Exporting" not in run.stdout


def test_headless_checks_the_checkpoint_before_the_probe(tmp_path):
    run = headless_cli(["--checkpoint", str(tmp_path / "missing.pth"), "--python", sys.executable], tmp_path)
    assert run.returncode == 2 and "no such file" in run.stderr and "Exporting" not in run.stdout


STAND_IN_NUKE = """#!{python}
# A stand-in NukeX executable for tests: checks the flags headless passes, installs the strict fake `nuke`,
# then runs the given script as Nuke would.
import runpy, sys
sys.path.insert(0, {root!r})
args = sys.argv[1:]
assert args[:2] == ["--nukex", "-i"], args
from tests.fake_nuke import FakeNuke
fake = FakeNuke(home={home!r}, edition="nukex", gui=False, version=(16, 0, 2))
# The real nuke module has scriptClear/scriptExit; the fake may not model them: add them if missing.
if not hasattr(fake, "scriptClear"):
    fake.scriptClear = lambda: None
if not hasattr(fake, "scriptExit"):
    fake.scriptExit = lambda: None
sys.modules["nuke"] = fake
sys.argv = args[2:]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


@pytest.mark.skipif(os.name == "nt", reason="shebang stand-in executable")
def test_headless_with_nukex_builds_everything(tmp_path, stand_in_export, stand_in_exporter):
    nuke = tmp_path / "Nuke16.0"
    nuke.write_text(STAND_IN_NUKE.format(python=sys.executable, root=ROOT, home=str(tmp_path)))
    nuke.chmod(nuke.stat().st_mode | stat.S_IXUSR)
    install = tmp_path / "install"
    temp = tmp_path / "temp"
    temp.mkdir()
    run = headless_cli(["--checkpoint", str(stand_in_export.checkpoint), "--output-dir", str(tmp_path / "out"),
                        "--resolution", "128", "--python", stand_in_exporter(), "--skip-probe", "--nuke", str(nuke),
                        "--install-dir", str(install)], tmp_path, temp=temp)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert list(temp.glob("corridorkey-nuke-*")) == []  # the job folder went with the run
    assert "Built and installed" in run.stdout
    for name in installed_files(install, build_of(tmp_path / "out"), 16):
        assert (install / "Cattery" / contract.MODEL_ID / name).is_file(), name


@pytest.mark.skipif(os.name == "nt", reason="shell-script stand-in executable")
def test_headless_when_nuke_does_not_run_the_script(tmp_path, stand_in_export, monkeypatch):
    nuke = tmp_path / "Nuke16.0"
    nuke.write_text("#!/bin/sh\necho 'Foundry licence: no NukeX licence available' >&2\nexit 100\n")
    nuke.chmod(nuke.stat().st_mode | stat.S_IXUSR)
    build = export_copy(stand_in_export, tmp_path / "build")
    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    result = headless.run_nuke_build(str(nuke), ["--nukex", "-i"], str(build / contract.PT_NAME),
                                     str(build / contract.MANIFEST_NAME), str(tmp_path / "install"), False, 60)
    assert result["status"] == "failed" and "without running the build script" in result["message"]
    assert "no NukeX licence" in result["message"]
    assert list(temp.iterdir()) == []  # no corridorkey-nuke-* job folder left in the system temp folder


class Terminal(object):
    """stdout as a terminal: isatty() is True."""

    def __init__(self):
        self.lines = []

    def isatty(self):
        return True

    def write(self, text):
        self.lines += text.splitlines()

    def flush(self):
        pass


def test_the_farm_log_gets_a_line_per_stage_or_per_five_percent_not_per_heartbeat(tmp_path):
    """The exporter's JSON mode repeats its step every 2 s: a 35-minute 2048 build was about a thousand lines in a
    farm log. Into a file: the first line of each stage and one per 5 %; log lines all; a terminal sees every one."""
    events = [{"event": "stage", "stage": "trace" if index < 400 else "validate", "message": "Step %d" % index,
               "progress": index / 1000.0, "elapsed": 2.0 * index, "remaining": 2.0 * (1000 - index)}
              for index in range(1000)]
    events.insert(500, {"event": "log", "message": "a note"})
    with open(str(tmp_path / "farm.log"), "w") as log:
        show = headless.event_printer(log)
        for event in events:
            show(event)
    lines = (tmp_path / "farm.log").read_text().splitlines()
    assert 20 <= len(lines) <= 22 and "       a note" in lines
    assert any("Step 400 (" in line for line in lines)  # the validate stage's first line
    terminal = Terminal()
    show = headless.event_printer(terminal)
    for event in events:
        show(event)
    assert len(terminal.lines) == 1001
