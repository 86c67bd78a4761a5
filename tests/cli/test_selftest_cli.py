"""The self-test's command-line form end to end, through stand-in Nuke executables that run the script on the
strict fake: the report is written, and whether Nuke ran the script and exited is a check of its own."""
import json
import os
import signal
import stat
import subprocess
import sys

import pytest

from nuke_plugin.cli import selftest
from nuke_plugin.core.paths import plugin_root

ROOT = plugin_root()

STAND_IN_NUKE = """#!{python}
# A stand-in Nuke executable: checks the flags, installs the strict fake `nuke`, runs the script as Nuke would.
import os, runpy, subprocess, sys, time
sys.path.insert(0, {root!r})
with open({started!r}, "a") as marker:  # "Nuke started", with its pid and its helper's
    helper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"]) if {helper} else None
    marker.write("%d %d\\n" % (os.getpid(), helper.pid if helper else 0))
args = sys.argv[1:]
flags = {flags!r}
assert args[:len(flags)] == flags, args
from tests.fake_nuke import FakeNuke, knobs, nodes
if {gpu_name!r}:  # a Nuke whose Inference node shows a GPU
    inference = nodes.NODE_CLASSES["Inference"]
    nodes.NODE_CLASSES["Inference"] = (inference[0], [(f, n) if n != "gpuName" else
                                                      (lambda name: knobs.Text_Knob(name, name, {gpu_name!r}), n)
                                                      for f, n in inference[1]])
fake = FakeNuke(home={home!r}, edition={edition!r}, gui=False, version=(16, 0, 2))
fake.scriptClear = lambda: None
fake.scriptExit = lambda: time.sleep({exit_delay})
sys.modules["nuke"] = fake
sys.argv = args[len(flags):]
runpy.run_path(sys.argv[0], run_name="__main__")
"""

pytestmark = pytest.mark.skipif(os.name == "nt", reason="shebang stand-in executable")


def stand_in(tmp_path, flags=("--nukex", "-i"), edition="nukex", exit_delay=0, helper=False, gpu_name=""):
    """A Nuke that runs the script on the fake; it writes its pid (and, with `helper`, that of a process it started,
    as Nuke starts its own) to tmp_path/started, and stays `exit_delay` seconds in scriptExit."""
    nuke = tmp_path / "Nuke16.0"
    nuke.write_text(STAND_IN_NUKE.format(python=sys.executable, root=ROOT, home=str(tmp_path / "home"),
                                         flags=list(flags), edition=edition, exit_delay=exit_delay,
                                         started=str(tmp_path / "started"), helper=bool(helper),
                                         gpu_name=gpu_name))
    nuke.chmod(nuke.stat().st_mode | stat.S_IXUSR)
    (tmp_path / "home" / ".nuke").mkdir(parents=True)
    return nuke


def selftest_cli(args, home, timeout=600):
    env = dict(os.environ, HOME=str(home), PYTHONPATH=ROOT, PYTHONWARNINGS="ignore")
    return subprocess.run([sys.executable, "-m", "nuke_plugin.cli.selftest"] + list(args), cwd=str(home), env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, timeout=timeout)


@pytest.mark.parametrize("flags", [("--nukex", "-i"), ("-t",)])
def test_the_command_line_form_runs_the_checks_in_nuke(tmp_path, flags):
    nuke = stand_in(tmp_path, flags)
    report = tmp_path / "report.json"
    run = selftest_cli(["--nuke", str(nuke), "--nuke-flags=" + " ".join(flags), "--report", str(report)],
                       tmp_path / "home")
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    data = json.loads(report.read_text())
    checks = {c["name"]: c for c in data["checks"]}
    assert data["ok"] and checks["cat_build"]["status"] == "pass" and checks["gizmo_create"]["status"] == "pass"
    assert checks["script_mode"]["status"] == "pass" and checks["script_mode"]["figures"]["flags"] == list(flags)
    assert data["environment"]["nuke_version"] == "16.0v2" and data["environment"]["gui"] is False
    assert "Report: %s (OK)" % report in run.stdout


@pytest.mark.parametrize("gpu_name, index", [("", None), ("NVIDIA RTX A6000", None), ("NVIDIA RTX A6000", "1")])
def test_with_gpu_nuke_starts_with_its_gpu_flag_and_the_gpu_used_is_reported(tmp_path, gpu_name, index):
    """A farm node's check: Nuke gets --gpu (first, so it never takes the script for the GPU's index), and the GPU
    the Inference node shows is printed; a fall-back to the CPU fails the self-test."""
    flags = ("--gpu",) + ((index,) if index else ()) + ("--nukex", "-i")
    nuke = stand_in(tmp_path, flags, gpu_name=gpu_name)
    report = tmp_path / "report.json"
    run = selftest_cli(["--nuke", str(nuke), "--gpu"] + ([index] if index else []) + ["--report", str(report)],
                       tmp_path / "home")
    checks = {c["name"]: c for c in json.loads(report.read_text())["checks"]}
    assert checks["gpu"]["figures"]["requested"] is True and checks["gpu"]["figures"]["gpuName"] == gpu_name
    if gpu_name:
        assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
        assert "gpu: pass: Inference used the GPU NVIDIA RTX A6000" in run.stdout
    else:
        assert run.returncode == 1 and "gpu: fail: Inference fell back to the CPU" in run.stdout
        assert checks["gpu"]["status"] == "fail" and "FAILED gpu" in run.stdout


@pytest.mark.parametrize("args, message", [(["--gpu", "first"], "give the GPU's index"),
                                           (["--gpu", "--nuke-flags=--gpu -t"], "given twice")])
def test_gpu_mistakes_are_refused_before_nuke_starts(tmp_path, args, message):
    nuke = stand_in(tmp_path)
    run = selftest_cli(["--nuke", str(nuke)] + args, tmp_path / "home")
    assert run.returncode == 2 and message in run.stderr and not (tmp_path / "started").exists()


def test_a_nuke_that_does_not_run_the_script_is_reported(tmp_path):
    nuke = tmp_path / "Nuke16.0"
    nuke.write_text("#!/bin/sh\necho 'Foundry licence: no NukeX licence available' >&2\nexit 100\n")
    nuke.chmod(nuke.stat().st_mode | stat.S_IXUSR)
    report = tmp_path / "report.json"
    report.write_text("{}")  # an old report must not pass for this run's
    run = selftest_cli(["--nuke", str(nuke), "--report", str(report)], tmp_path)
    assert run.returncode == 2 and "without writing the self-test report" in run.stderr
    assert not report.exists()


def test_nuke_command_line():
    argv = selftest.nuke_command("/opt/Nuke16.0v2/Nuke16.0", "/tmp/report.json")
    assert argv == ["/opt/Nuke16.0v2/Nuke16.0", "--nukex", "-i", selftest.SELFTEST_SCRIPT, "/tmp/report.json"]
    assert os.path.isfile(selftest.SELFTEST_SCRIPT)


# ---- the launcher: process group, signals, timeout ----------------------------------------------------------------


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open("/proc/%d/stat" % pid) as handle:  # a zombie waiting for its parent counts as ended
        return handle.read().split(")")[-1].split()[0] != "Z"


def _wait_for(predicate, seconds=60.0):
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def _started(tmp_path):
    path = tmp_path / "started"
    return [tuple(int(p) for p in line.split()) for line in path.read_text().splitlines()] if path.exists() else []


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="reads /proc to tell a zombie from a process")
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_job_kill_stops_nuke_and_everything_it_started(tmp_path, sig):
    """SIGTERM (a farm's job kill) left Nuke running with its licence taken; the group goes now, helpers too."""
    nuke = stand_in(tmp_path, exit_delay=600, helper=True)
    env = dict(os.environ, HOME=str(tmp_path / "home"), PYTHONPATH=ROOT, PYTHONWARNINGS="ignore")
    cli_process = subprocess.Popen([sys.executable, "-m", "nuke_plugin.cli.selftest", "--nuke", str(nuke),
                                    "--report", str(tmp_path / "report.json")], cwd=str(tmp_path), env=env,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    try:
        assert _wait_for(lambda: (tmp_path / "report.json").exists() and _started(tmp_path))  # in scriptExit now
        nuke_pid, helper_pid = _started(tmp_path)[0]
        cli_process.send_signal(sig)
        out, err = cli_process.communicate(timeout=60)
    finally:
        if cli_process.poll() is None:
            cli_process.kill()
    assert cli_process.returncode == 130 and "Cancelled: Nuke was stopped" in err, out + err
    assert _wait_for(lambda: not _alive(nuke_pid) and not _alive(helper_pid), 10)
    assert not (tmp_path / "report.json").exists()


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="reads /proc to tell a zombie from a process")
def test_a_timeout_stops_nukes_whole_process_group(tmp_path):
    """A Nuke that does not exit after the script fails the script_mode check, and goes with all it started
    (subprocess.run's timeout ended Nuke only)."""
    nuke = stand_in(tmp_path, exit_delay=600, helper=True)
    report = tmp_path / "report.json"
    run = selftest_cli(["--nuke", str(nuke), "--report", str(report), "--timeout", "8"], tmp_path / "home")
    assert run.returncode == 1, run.stdout + run.stderr
    nuke_pid, helper_pid = _started(tmp_path)[0]
    assert _wait_for(lambda: not _alive(nuke_pid) and not _alive(helper_pid), 10)  # the helper went with Nuke
    checks = {c["name"]: c for c in json.loads(report.read_text())["checks"]}
    assert checks["script_mode"]["status"] == "fail" and "did not exit within 8 s" in checks["script_mode"]["detail"]


# ---- the command line, checked before Nuke starts ------------------------------------------------------------------


@pytest.mark.parametrize("name", ["report.txt", "report", "my report.JSON.bak"])
def test_a_report_of_any_name_is_written_there(tmp_path, name):
    """A name not ending in .json sent the report to a temporary file and blamed the licence for a passing run."""
    nuke = stand_in(tmp_path)
    report = tmp_path / "out" / name
    run = selftest_cli(["--nuke", str(nuke), "--report", str(report)], tmp_path / "home")
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    data = json.loads(report.read_text())
    assert data["ok"] and data["checks"][-1]["name"] == "script_mode" and "Report: %s (OK)" % report in run.stdout


def _nothing_started(tmp_path, run, message):
    assert run.returncode == 2, run.stdout + run.stderr
    assert message in run.stderr and "Traceback" not in run.stderr
    assert not (tmp_path / "started").exists()  # refused before Nuke started


@pytest.mark.parametrize("value", ["nan", "0", "-1", "inf", "soon"])
def test_timeouts_that_cannot_work_are_refused_before_nuke_starts(tmp_path, value):
    """nan waited forever; 0 and -1 killed Nuke at once and blamed the licence."""
    nuke = stand_in(tmp_path)
    run = selftest_cli(["--nuke", str(nuke), "--timeout", value], tmp_path / "home")
    _nothing_started(tmp_path, run, "not a positive number of seconds")


def test_a_report_path_that_is_a_folder_is_refused_before_nuke_starts(tmp_path):
    nuke = stand_in(tmp_path)
    run = selftest_cli(["--nuke", str(nuke), "--report", str(tmp_path)], tmp_path / "home")
    _nothing_started(tmp_path, run, "is a folder. Give a file name in it")


def test_a_report_folder_that_cannot_be_made_is_refused_before_nuke_starts(tmp_path):
    nuke = stand_in(tmp_path)
    (tmp_path / "a-file").write_text("not a folder")
    run = selftest_cli(["--nuke", str(nuke), "--report", str(tmp_path / "a-file" / "r.json")], tmp_path / "home")
    _nothing_started(tmp_path, run, "its folder cannot be created")


@pytest.mark.parametrize("make_nuke, message", [
    (lambda tmp_path: str(tmp_path / "NoSuchNuke"), "no such file"),
    (lambda tmp_path: str(tmp_path), "not an executable file"),
])
def test_a_wrong_nuke_is_refused(tmp_path, make_nuke, message):
    run = selftest_cli(["--nuke", make_nuke(tmp_path)], tmp_path)
    assert run.returncode == 2 and message in run.stderr and "Traceback" not in run.stderr


def test_an_old_report_that_cannot_be_removed_or_a_read_only_folder_is_named(tmp_path, monkeypatch):
    """What a user who may not write there gets (root may; so the refusals are injected here)."""
    from nuke_plugin.contract import files

    (tmp_path / "r.json").write_text("{}")

    def refuse(*args):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(selftest.os, "remove", refuse)
    problem = selftest.report_problem(str(tmp_path / "r.json"))
    assert "the old report there cannot be removed (Permission denied)" in problem
    monkeypatch.undo()
    monkeypatch.setattr(files.os, "open", refuse)
    assert "nothing can be written in %s (Permission denied)" % tmp_path in selftest.report_problem(
        str(tmp_path / "new.json"))
