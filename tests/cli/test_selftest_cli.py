"""The self-test's command-line form end to end, through stand-in Nuke executables that run the script on the
strict fake: the report is written, and whether Nuke ran the script and exited is a check of its own."""
import json
import os
import stat
import subprocess
import sys

import pytest

from nuke_plugin.cli import selftest as cli
from nuke_plugin.core import selftest as st
from nuke_plugin.core.paths import plugin_root

ROOT = plugin_root()

STAND_IN_NUKE = """#!{python}
# A stand-in Nuke executable: checks the flags, installs the strict fake `nuke`, runs the script as Nuke would.
import runpy, sys
sys.path.insert(0, {root!r})
args = sys.argv[1:]
flags = {flags!r}
assert args[:len(flags)] == flags, args
from tests.fake_nuke import FakeNuke
fake = FakeNuke(home={home!r}, edition={edition!r}, gui=False, version=(16, 0, 2))
fake.scriptClear = lambda: None
fake.scriptExit = lambda: None
sys.modules["nuke"] = fake
sys.argv = args[len(flags):]
runpy.run_path(sys.argv[0], run_name="__main__")
"""

pytestmark = pytest.mark.skipif(os.name == "nt", reason="shebang stand-in executable")


def stand_in(tmp_path, flags=("--nukex", "-i"), edition="nukex"):
    nuke = tmp_path / "Nuke16.0"
    nuke.write_text(STAND_IN_NUKE.format(python=sys.executable, root=ROOT, home=str(tmp_path / "home"),
                                         flags=list(flags), edition=edition))
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


def test_a_nuke_that_does_not_exit_after_the_script_fails_that_check(tmp_path):
    """A Nuke that writes its report at once (a shell script: no start-up to wait for) and then never exits."""
    report = tmp_path / "report.json"
    written = json.dumps(st.Report(environment={"nuke_version": "16.0v2"}).as_dict())
    nuke = tmp_path / "Nuke16.0"
    nuke.write_text("#!/bin/sh\nfor last; do :; done\ncat > \"$last\" <<'EOF'\n%s\nEOF\nexec sleep 60\n" % written)
    nuke.chmod(nuke.stat().st_mode | stat.S_IXUSR)
    run = selftest_cli(["--nuke", str(nuke), "--report", str(report), "--timeout", "2"], tmp_path)
    assert run.returncode == 1, run.stdout + run.stderr
    checks = {c["name"]: c for c in json.loads(report.read_text())["checks"]}
    assert checks["script_mode"]["status"] == "fail" and "did not exit" in checks["script_mode"]["detail"]


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
    argv = cli.nuke_command("/opt/Nuke16.0v2/Nuke16.0", "/tmp/report.json")
    assert argv == ["/opt/Nuke16.0v2/Nuke16.0", "--nukex", "-i", cli.SELFTEST_SCRIPT, "/tmp/report.json"]
    assert os.path.isfile(cli.SELFTEST_SCRIPT)
