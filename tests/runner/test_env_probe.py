"""The export-environment probe, run for real: this interpreter (has torch), a bare venv (has nothing), a
hanging interpreter, a broken one; plus environment creation with stand-in installer commands."""
import os
import stat
import subprocess
import sys
import textwrap
import time

import pytest

from nuke_plugin.contract.torch_targets import CPU_INDEX_URL, TORCH_TARGETS_BY_KEY, cpu_only_offered, cpu_requirements
from nuke_plugin.core.settings import Settings
from nuke_plugin.runner import env_probe, env_setup, process

NUKE16 = TORCH_TARGETS_BY_KEY["nuke16"]
NUKE14 = TORCH_TARGETS_BY_KEY["nuke14"]


@pytest.fixture(scope="module")
def bare_venv(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bare") / "venv"
    subprocess.check_call([sys.executable, "-m", "venv", "--without-pip", str(folder)])
    return folder


def executable(path, text):
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


@pytest.mark.export
def test_probe_of_the_project_interpreter_finds_torch():
    import timm
    import torch

    result = env_probe.probe(sys.executable, NUKE16)
    assert result.python_version == "%d.%d.%d" % sys.version_info[:3]
    assert result.versions["torch"] == torch.__version__.split("+")[0]
    assert result.versions["timm"] == timm.__version__
    assert not result.missing and result.ok, result.report()
    assert result.cuda == torch.cuda.is_available()
    # The project's torch makes builds that every supported Nuke loads: no advice to change it.
    assert result.warnings == [] and result.fix == ""


def test_an_unproven_torch_is_a_warning_that_points_at_set_up():
    data = {"python": "3.11.7", "packages": {n: {"version": "2.5.0"} for n in env_probe.REQUIRED_PACKAGES}}
    result = env_probe.interpret("/py", data, NUKE16)
    assert result.ok and result.fix == ""
    assert len(result.warnings) == 1
    assert "torch 2.5.0 is not one this plugin was proven with (1.12.1, 2.1.1, 2.14.1, 2.7.1)" in result.warnings[0]
    assert "Set up" in result.warnings[0]


@pytest.mark.skipif(os.name == "nt", reason="venv layout differs; covered by venv_python")
def test_probe_of_a_bare_venv_lists_what_is_missing_and_one_piece_of_advice(bare_venv):
    python = env_probe.venv_python(str(bare_venv))
    result = env_probe.probe(python, NUKE16)
    assert not result.ok
    assert result.missing == ["torch", "torchvision", "timm", "numpy"]
    assert any(p.startswith("cannot import torch (ModuleNotFoundError") for p in result.problems)
    # One piece of advice, the same as the warnings give: never a pip command that changes this interpreter.
    assert result.fix.startswith("create a separate export environment and leave this Python unchanged: Set up...")
    assert "torch 2.7.1, Python 3.11" in result.fix and "pip" not in result.report()
    assert "torch MISSING" in result.summary()


def test_missing_timm_in_an_environment_with_a_proven_torch_still_only_says_set_up():
    data = {"python": "3.11.7", "packages": {"torch": {"version": "2.14.1"}, "torchvision": {"version": "0.29.1"},
                                             "numpy": {"version": "2.1.0"}, "timm": {"error": "ModuleNotFoundError"}}}
    result = env_probe.interpret("/project/.venv/bin/python", data, NUKE14)
    assert not result.ok and result.problems == ["cannot import timm (ModuleNotFoundError)"]
    assert result.fix == env_probe.setup_advice(NUKE14) and "torch==" not in result.report()


@pytest.mark.skipif(os.name == "nt", reason="shell-script stand-in interpreter")
def test_hanging_interpreter_times_out_and_is_killed(tmp_path):
    pidfile = tmp_path / "pid"
    python = executable(tmp_path / "python", "#!/bin/sh\necho $$ > '%s'\nexec sleep 600\n" % pidfile)
    started = time.monotonic()
    result = env_probe.probe(python, NUKE16, timeout=1.0)
    assert time.monotonic() - started < 15
    assert result.timed_out and not result.ok
    assert "did not answer within 1 s" in result.problems[0] and "import torch" in result.problems[0]
    pid = int(pidfile.read_text())
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
            with open("/proc/%d/stat" % pid) as handle:
                if handle.read().split(")")[-1].split()[0] == "Z":
                    break
        except OSError:
            break
        time.sleep(0.05)
    else:
        pytest.fail("the hanging interpreter is still running")


@pytest.mark.skipif(os.name == "nt", reason="shell-script stand-in interpreter")
def test_broken_interpreter_is_reported(tmp_path):
    python = executable(tmp_path / "python", "#!/bin/sh\necho 'error while loading shared libraries' >&2\nexit 127\n")
    result = env_probe.probe(python, NUKE16)
    assert not result.ok and "is not a working Python" in result.problems[0]
    assert "shared libraries" in result.problems[0]


def test_missing_interpreter_file(tmp_path):
    result = env_probe.probe(str(tmp_path / "nope" / "python"), NUKE16)
    assert not result.ok and "does not exist" in result.problems[0] and "Set up" in result.fix


def test_locate_prefers_the_configured_interpreter_then_corridorkey_envs(tmp_path, bare_venv):
    env = {"HOME": str(tmp_path / "home")}
    s = Settings(python="/configured/python")
    assert env_probe.locate_interpreter(s, root=str(tmp_path), environ=env) == (
        "/configured/python", "configured in Build Model")
    s = Settings()
    path, why = env_probe.locate_interpreter(s, root=str(tmp_path), environ=env)
    assert path is None and "no export environment found" in why
    # an environment inside the plugin folder is found
    os.symlink(str(bare_venv), str(tmp_path / ".venv"))
    path, why = env_probe.locate_interpreter(s, root=str(tmp_path), environ=env)
    assert path == env_probe.venv_python(str(tmp_path / ".venv")) and "inside the plugin folder" in why
    # the per-target environment made by Set up comes first
    target_env = s.resolved_env_dir(env)
    os.makedirs(os.path.dirname(target_env))
    os.symlink(str(bare_venv), target_env)
    path, why = env_probe.locate_interpreter(s, root=str(tmp_path), environ=env)
    assert path == env_probe.venv_python(target_env) and "Nuke 16" in why


def test_check_environment_without_any_env_offers_set_up(tmp_path):
    result = env_probe.check_environment(Settings(), root=str(tmp_path), environ={"HOME": str(tmp_path)})
    assert not result.ok and "Set up" in result.fix


def test_unsupported_target_is_a_problem():
    data = {"python": "3.8.10", "packages": {n: {"version": "1.6.0"} for n in env_probe.REQUIRED_PACKAGES}}
    result = env_probe.interpret("/py", data, TORCH_TARGETS_BY_KEY["nuke13"])
    assert not result.ok and "Not supported" in result.problems[0]


# ---- creating the environment --------------------------------------------------------------------------------


def test_plan_with_uv_and_with_pip(tmp_path):
    env_dir = str(tmp_path / "env")
    py = env_probe.venv_python(env_dir)
    uv_plan = env_setup.plan_environment(env_dir, NUKE14, uv="/usr/bin/uv")
    assert [s.argv for s in uv_plan] == [
        ("/usr/bin/uv", "venv", "--python", "3.9", env_dir),
        ("/usr/bin/uv", "pip", "install", "--python", py, "torch==1.12.1", "torchvision==0.13.1", "timm==1.0.30",
         "numpy<2")]
    pip_plan = env_setup.plan_environment(env_dir, NUKE16, base_python="/usr/bin/python3.11")
    assert pip_plan[0].argv == ("/usr/bin/python3.11", "-m", "venv", env_dir)
    assert pip_plan[-1].argv == (py, "-m", "pip", "install") + NUKE16.requirements
    with pytest.raises(ValueError, match="No Python 3.9 found"):
        env_setup.plan_environment(env_dir, NUKE14)
    with pytest.raises(ValueError, match="Not supported"):
        env_setup.plan_environment(env_dir, TORCH_TARGETS_BY_KEY["nuke13"], uv="uv")
    assert "torch==1.12.1" in env_setup.describe_plan(uv_plan)


@pytest.mark.skipif(not cpu_only_offered(), reason="PyTorch's CPU-only index serves Linux and Windows")
def test_cpu_only_plan_takes_torch_from_pytorchs_cpu_index(tmp_path):
    env_dir = str(tmp_path / "env")
    py = env_probe.venv_python(env_dir)
    uv_plan = env_setup.plan_environment(env_dir, NUKE14, uv="/usr/bin/uv", cpu_only=True)
    assert uv_plan[-2].argv == ("/usr/bin/uv", "pip", "install", "--python", py, "--extra-index-url", CPU_INDEX_URL
                                ) + cpu_requirements(NUKE14.requirements)
    pip_plan = env_setup.plan_environment(env_dir, NUKE16, base_python="/usr/bin/python3.11", cpu_only=True)
    assert pip_plan[-2].argv == (py, "-m", "pip", "install", "--index-url", CPU_INDEX_URL, "--extra-index-url",
                                 "https://pypi.org/simple") + cpu_requirements(NUKE16.requirements)
    assert "CPU-only" in pip_plan[-2].description
    # then the new environment's torch is asked whether it is a CPU build (pip may have fallen back to PyPI's)
    for plan in (uv_plan, pip_plan):
        assert plan[-1].argv == (py, "-c", env_setup.CPU_TORCH_CHECK)
    assert env_setup.plan_environment(env_dir, NUKE16, uv="/usr/bin/uv")[-1].argv[1:3] == ("pip", "install")
    assert "GB" in env_setup.download_note(NUKE16, "linux")
    assert env_setup.download_note(NUKE16, "linux", cpu_only=True) == ("PyTorch's CPU-only torch: a much smaller "
                                                                       "download")
    assert "CPU-only" not in env_setup.download_note(NUKE16, "darwin", cpu_only=True)  # macOS torch is CPU-only


@pytest.mark.parametrize("build, fails", [("2.7.1+cu126", True), ("2.7.1+cpu", False)])
def test_the_cpu_torch_check_stops_on_a_cuda_build_and_says_why(tmp_path, build, fails):
    """Run by the new environment's Python: a stand-in torch module of each kind (the real CPU index cannot be
    reached here)."""
    (tmp_path / "torch").mkdir()
    (tmp_path / "torch" / "__init__.py").write_text("__version__ = %r\nclass version:\n    cuda = %r\n"
                                                     % (build, "12.6" if fails else None))
    result = subprocess.run([sys.executable, "-c", env_setup.CPU_TORCH_CHECK], cwd=str(tmp_path), capture_output=True,
                            text=True, timeout=60, env=dict(os.environ, PYTHONPATH=str(tmp_path)))
    assert (result.returncode != 0) == fails
    if fails:
        assert "built for CUDA 12.6" in result.stderr and CPU_INDEX_URL in result.stderr
    else:
        assert "a CPU-only build" in result.stdout


def test_find_base_python_checks_the_version():
    here = sys.executable
    fits = sys.version_info[:2] == NUKE16.python
    assert env_setup.find_base_python(NUKE16, candidates=[here]) == (here if fits else None)
    assert env_setup.find_base_python(NUKE14 if fits else NUKE16, candidates=[here]) is None
    assert env_setup.find_base_python(TORCH_TARGETS_BY_KEY["nuke13"], candidates=[here]) is None


def test_run_plan_with_a_real_venv_and_a_stand_in_installer(tmp_path):
    env_dir = str(tmp_path / "envs" / "nuke16")
    installer = tmp_path / "installer.py"
    installer.write_text(textwrap.dedent("""
        import os, sys
        target = sys.argv[1]
        for package in sys.argv[2:]:
            print("Collecting " + package, flush=True)
        open(os.path.join(target, "installed.txt"), "w").write(" ".join(sys.argv[2:]))
        print("Successfully installed " + " ".join(sys.argv[2:]))
    """))
    steps = [env_setup.Step("Creating the environment", (sys.executable, "-m", "venv", "--without-pip", env_dir)),
             env_setup.Step("Installing", (sys.executable, str(installer), env_dir) + NUKE16.requirements)]
    messages = []
    outcome = env_setup.run_plan(steps, env_dir, lambda text, fraction: messages.append((text, fraction)))
    assert outcome.ok, outcome.message
    assert os.path.isfile(env_probe.venv_python(env_dir))
    assert open(os.path.join(env_dir, "installed.txt")).read() == " ".join(NUKE16.requirements)
    texts = [t for t, _ in messages]
    assert texts[0] == "Creating the environment" and "Collecting torch==2.7.1" in texts
    fractions = [f for _, f in messages]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0


def test_failed_install_removes_the_half_made_environment_and_says_why(tmp_path):
    env_dir = str(tmp_path / "env")
    failing = tmp_path / "fail.py"
    failing.write_text("import sys\nsys.stderr.write('ERROR: No matching distribution found for torch==1.12.1\\n')\n"
                       "sys.exit(1)\n")
    steps = [env_setup.Step("Creating the environment", (sys.executable, "-m", "venv", "--without-pip", env_dir)),
             env_setup.Step("Installing torch", (sys.executable, str(failing)))]
    outcome = env_setup.run_plan(steps, env_dir, lambda t, f: None)
    assert outcome.status == process.FAILED
    assert "Installing torch failed" in outcome.message and "No matching distribution" in outcome.message
    assert not os.path.exists(env_dir)


def test_cancelled_install_removes_the_environment(tmp_path):
    env_dir = str(tmp_path / "env")
    slow = tmp_path / "slow.py"
    slow.write_text("import time\nprint('Downloading torch', flush=True)\ntime.sleep(600)\n")
    seen = []
    steps = [env_setup.Step("Creating", (sys.executable, "-m", "venv", "--without-pip", env_dir)),
             env_setup.Step("Installing", (sys.executable, str(slow)))]
    outcome = env_setup.run_plan(steps, env_dir, lambda t, f: seen.append(t),
                                 is_cancelled=lambda: "Downloading torch" in seen)
    assert outcome.status == process.CANCELLED
    assert not os.path.exists(env_dir)


# ---- a set-up that did not finish (Nuke killed half-way) -------------------------------------------------------


def _stand_in_plan(tmp_path, env_dir):
    installer = tmp_path / "installer.py"
    installer.write_text("import os, sys\nopen(os.path.join(sys.argv[1], 'installed.txt'), 'w').write('all')\n")
    return [env_setup.Step("Creating the environment", (sys.executable, "-m", "venv", "--without-pip", env_dir)),
            env_setup.Step("Installing", (sys.executable, str(installer), env_dir))]


def test_a_finished_set_up_is_stamped_and_a_half_made_one_is_made_again(tmp_path):
    """Nuke killed during Set up left a venv without its packages, which every later run picked up as an
    environment; the stamp is written last, so the next Set up removes and remakes it."""
    env_dir = str(tmp_path / "envs" / "nuke16")
    subprocess.check_call([sys.executable, "-m", "venv", "--without-pip", env_dir])  # what the killed Set up left
    open(os.path.join(env_dir, "half.txt"), "w").close()
    assert env_probe.half_made(env_dir)
    messages = []
    outcome = env_setup.run_plan(_stand_in_plan(tmp_path, env_dir), env_dir, lambda t, f: messages.append(t))
    assert outcome.ok, outcome.message
    assert "Removing the half-made environment" in messages[0]
    assert not os.path.exists(os.path.join(env_dir, "half.txt"))  # made again, not patched
    assert os.path.isfile(os.path.join(env_dir, "installed.txt")) and not env_probe.half_made(env_dir)
    assert "installer.py" in open(os.path.join(env_dir, env_probe.READY_STAMP)).read()


def test_a_recreate_that_fails_leaves_an_environment_marked_half_made(tmp_path):
    env_dir = str(tmp_path / "env")
    assert env_setup.run_plan(_stand_in_plan(tmp_path, env_dir), env_dir, lambda t, f: None).ok
    failing = [env_setup.Step("Installing", (sys.executable, "-c", "raise SystemExit(1)"))]
    assert not env_setup.run_plan(failing, env_dir, lambda t, f: None).ok
    assert os.path.isdir(env_dir) and env_probe.half_made(env_dir)  # kept (it existed), no longer called finished


def test_set_up_never_clears_a_folder_of_other_files(tmp_path):
    env_dir = tmp_path / "mine"
    env_dir.mkdir()
    (env_dir / "notes.txt").write_text("mine")
    outcome = env_setup.run_plan(_stand_in_plan(tmp_path, str(env_dir)), str(env_dir), lambda t, f: None)
    assert outcome.status == process.FAILED and "never clears a folder it did not make" in outcome.message
    assert (env_dir / "notes.txt").read_text() == "mine"


def test_the_probe_says_a_half_made_environment_needs_set_up_again(tmp_path, bare_venv):
    settings = Settings(env_dir=str(bare_venv))  # a venv without torch and without the ready stamp
    result = env_probe.check_environment(settings, root=str(tmp_path), environ={"HOME": str(tmp_path)})
    assert not result.ok and "was left half-made" in result.problems[0]
    assert result.fix == "Click Set up to make it again."


@pytest.mark.skipif(os.name == "nt", reason="shell-script stand-in interpreter")
@pytest.mark.parametrize("answer", ['[1, 2]', '{"packages": "torch"}', '{"packages": {"torch": "2.7.1"}}',
                                    '{"python": ' + "[" * 50000 + "]" * 50000 + "}", '{"packages": 1e999}'])
def test_an_interpreter_that_answers_nonsense_is_not_ready_never_an_exception(tmp_path, answer):
    """The probe reads another program's output: an AssertionError or RecursionError escaped it."""
    python = executable(tmp_path / "python", "#!/bin/sh\necho 'CORRIDORKEY_PROBE %s'\n" % answer)
    result = env_probe.probe(python, NUKE16, timeout=30)
    assert not result.ok and result.problems
