"""tools/env.sh is sourced by the caller's shell: it must leave that shell's options as they were."""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from nuke_plugin.contract.torch_targets import cpu_index_options

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def ready_venv(tmp_path):
    """An environment env.sh takes as already installed for extras "x" and no torch (so nothing is installed)."""
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    os.symlink(sys.executable, str(venv / "bin" / "python"))
    (venv / stamp_name("x", "")).touch()
    return venv


@pytest.mark.skipif(os.name == "nt", reason="bash")
@pytest.mark.parametrize("options", ["set +e +u +o pipefail", "set -e -u -o pipefail", "set -u"])
def test_sourcing_env_sh_keeps_the_callers_shell_options(ready_venv, options):
    script = (options + '\nbefore="$-:$(set -o | grep pipefail)"\nsource tools/env.sh x\n'
              'after="$-:$(set -o | grep pipefail)"\necho "CK_PY=$CK_PY"\n'
              '[ "$before" = "$after" ] || { echo "options changed: $before -> $after"; exit 3; }\n'
              'declare -F _ck_env >/dev/null && { echo "helper function leaked"; exit 4; }\nexit 0\n')
    env = dict(os.environ, CK_VENV=str(ready_venv), CK_TORCH="")
    out = subprocess.run(["bash", "-c", script], cwd=str(ROOT), env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "CK_PY=%s" % (ready_venv / "bin" / "python") in out.stdout


def _checksum(path):
    with open(path, "rb") as handle:
        return subprocess.run(["cksum"], stdin=handle, capture_output=True, text=True, check=True).stdout.strip()


def stamp_name(extras, torch_pair):
    """The stamp env.sh writes: extras, torch pins and the checksums of pyproject.toml and tools/constraints.txt,
    other characters as `_` (tests/tools/test_export_sh.py makes a ready environment with it too)."""
    text = "%s %s %s %s\n" % (extras, torch_pair, _checksum(ROOT / "pyproject.toml"),
                              _checksum(ROOT / "tools" / "constraints.txt"))
    return ".ck-installed-" + re.sub(r"[^A-Za-z0-9._=-]", "_", text)


@pytest.mark.skipif(os.name == "nt", reason="bash")
def test_default_pins_come_from_the_one_torch_table(tmp_path):
    """With CK_TORCH unset, env.sh installs the table's "project" requirements (here: already installed)."""
    from nuke_plugin.contract.torch_targets import PROJECT_ENVIRONMENT

    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    os.symlink(sys.executable, str(venv / "bin" / "python"))
    (venv / stamp_name("x", " ".join(PROJECT_ENVIRONMENT.requirements))).touch()
    env = dict(os.environ, CK_VENV=str(venv), CK_PYTHON=sys.executable)
    env.pop("CK_TORCH", None)
    out = subprocess.run(["bash", "-c", "source tools/env.sh x && echo CK_PY=$CK_PY"], cwd=str(ROOT), env=env,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "[env] installing" not in out.stderr, out.stderr  # the stamp of the table's pins was found
    assert "CK_PY=" in out.stdout


# The environment's python of logging_venv: records its arguments; `-c` (env.sh asking which torch is installed)
# answers with the file torch_report (a version and torch.version.cuda) and fails without one; pip fails, as an
# unreachable index makes it, when the file pip_fails exists.
FAKE_VENV_PYTHON = """#!/bin/sh
echo "$@" >> "{dir}/pip.log"
if [ "$1" = "-c" ]; then cat "{dir}/torch_report" || exit 1; fi
if [ "$1" = "-m" ] && [ -f "{dir}/pip_fails" ]; then
  echo "ERROR: No matching distribution found for torch" >&2
  exit 1
fi
exit 0
"""


@pytest.fixture
def logging_venv(tmp_path):
    """An environment whose python only records its arguments: env.sh's pip command, run for real, installs
    nothing (download.pytorch.org cannot be reached from here: these stand in for pip and the torch it installs)."""
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    python = venv / "bin" / "python"
    python.write_text(FAKE_VENV_PYTHON.format(dir=tmp_path))
    python.chmod(0o755)
    (venv / ".ck-venv-ready").touch()  # a finished environment, its packages not yet installed
    return venv


def _first_install(venv, extras="x", **env_vars):
    env = dict(os.environ, CK_VENV=str(venv), CK_PYTHON=sys.executable, **env_vars)
    for name in ("CK_TORCH", "CK_TORCH_INDEX"):
        if name not in env_vars:
            env.pop(name, None)
    log = venv.parent / "pip.log"
    if log.exists():
        log.unlink()
    out = subprocess.run(["bash", "-c", "source tools/env.sh %s" % extras], cwd=str(ROOT), env=env,
                         capture_output=True, text=True, timeout=60)
    return out, log.read_text() if log.exists() else ""


@pytest.mark.skipif(os.name == "nt", reason="bash")
def test_first_install_says_what_it_downloads_and_lets_pip_show_its_progress(logging_venv):
    from nuke_plugin.contract.torch_targets import PROJECT_ENVIRONMENT

    out, pip = _first_install(logging_venv)
    assert out.returncode == 0, out.stderr
    assert pip.startswith("-m pip install ") and " -q " not in " %s " % pip, pip
    assert "-c import torch" not in pip  # PyPI's torch: nothing to check
    assert " ".join(PROJECT_ENVIRONMENT.requirements) in pip and "--index-url" not in pip
    assert "[env] installing %s" % " ".join(PROJECT_ENVIRONMENT.requirements) in out.stderr
    if sys.platform.startswith("linux"):
        assert "downloads about %g GB" % PROJECT_ENVIRONMENT.linux_download_gb in out.stderr
        assert "CK_TORCH_INDEX=cpu" in out.stderr


@pytest.mark.skipif(os.name == "nt", reason="bash")
def test_adding_the_tests_packages_to_an_environment_with_torch_says_it_is_a_small_download(logging_venv):
    """tools/test.sh after tools/export.sh: other extras, the same torch; the gigabytes were fetched already."""
    from nuke_plugin.contract.torch_targets import PROJECT_ENVIRONMENT

    version = PROJECT_ENVIRONMENT.torch
    site = logging_venv / "lib" / "python3.11" / "site-packages"
    (site / ("torch-%s.dist-info" % version)).mkdir(parents=True)
    out, pip = _first_install(logging_venv, extras="export,test")
    assert out.returncode == 0, out.stderr
    assert "torch %s is installed already: a small download" % version in out.stderr
    assert "downloads about" not in out.stderr and "CK_TORCH_INDEX" not in out.stderr
    assert pip.startswith("-m pip install ")  # pip still runs: it adds the test packages
    # A torch of another version (or a CPU build asked for over a CUDA one) is a download again.
    (site / ("torch-%s.dist-info" % version)).rename(site / "torch-2.7.1.dist-info")
    out, _ = _first_install(logging_venv, extras="export,test,more")
    assert "installed already" not in out.stderr and "[env] installing" in out.stderr


def _cpu_pins():
    from nuke_plugin.contract.torch_targets import PROJECT_ENVIRONMENT, cpu_requirements

    return " ".join(cpu_requirements(PROJECT_ENVIRONMENT.requirements))


@pytest.mark.skipif(os.name == "nt", reason="bash")
def test_cpu_index_takes_torch_from_pytorchs_cpu_wheels_and_checks_it_got_one(logging_venv):
    (logging_venv.parent / "torch_report").write_text("2.14.1+cpu\nNone\n")
    out, pip = _first_install(logging_venv, CK_TORCH_INDEX="cpu")
    assert out.returncode == 0, out.stderr
    assert " ".join(cpu_index_options("pip")) in pip and _cpu_pins() in pip
    assert "-c import torch" in pip  # the installed torch was asked what it is
    assert "CPU-only" in out.stderr and "downloads about" not in out.stderr
    assert "torch 2.14.1+cpu is a CPU-only build" in out.stderr
    assert list(logging_venv.glob(".ck-installed-*"))


@pytest.mark.skipif(os.name == "nt", reason="bash")
def test_a_cuda_torch_installed_for_cpu_index_stops_and_says_why(logging_venv):
    """PyTorch's CPU index unreachable, pip took PyPI's CUDA torch: exit 2, the reason, no stamp (so the next run
    checks again)."""
    (logging_venv.parent / "torch_report").write_text("2.14.1+cu130\n13.0\n")
    out, _ = _first_install(logging_venv, CK_TORCH_INDEX="cpu")
    assert out.returncode == 2
    assert "holds torch 2.14.1+cu130 built for CUDA 13.0" in out.stderr and "download.pytorch.org" in out.stderr
    assert "Remove %s" % logging_venv in out.stderr and "unset CK_TORCH_INDEX" in out.stderr
    assert not list(logging_venv.glob(".ck-installed-*"))


@pytest.mark.skipif(os.name == "nt", reason="bash")
def test_an_unreachable_cpu_index_stops_pip_and_says_why(logging_venv):
    (logging_venv.parent / "pip_fails").touch()
    out, pip = _first_install(logging_venv, CK_TORCH_INDEX="cpu")
    assert out.returncode == 2
    assert "could not install PyTorch's CPU-only torch" in out.stderr and "https://download.pytorch.org/whl/cpu" \
        in out.stderr and "unset CK_TORCH_INDEX" in out.stderr
    assert "-c import torch" not in pip and not list(logging_venv.glob(".ck-installed-*"))


def test_cpu_pins_are_the_cpu_index_builds_on_x86_64_only():
    from nuke_plugin.contract.torch_targets import cpu_requirements

    pins = ("torch==2.7.1", "torchvision==0.22.1", "timm==1.0.30", "numpy<2")
    assert cpu_requirements(pins, "x86_64") == ("torch==2.7.1+cpu", "torchvision==0.22.1+cpu", "timm==1.0.30",
                                                "numpy<2")
    assert cpu_requirements(pins, "AMD64")[0] == "torch==2.7.1+cpu"  # Windows' name for it
    assert cpu_requirements(pins, "aarch64") == pins  # arm64 builds carry no +cpu label
    assert cpu_requirements(("torch==2.7.1+cu126",), "x86_64") == ("torch==2.7.1+cu126",)


@pytest.mark.skipif(os.name == "nt", reason="bash")
def test_unknown_index_is_refused_before_pip_runs(logging_venv):
    out, pip = _first_install(logging_venv, CK_TORCH_INDEX="cuda")
    assert out.returncode != 0
    assert "CK_TORCH_INDEX=cuda" in out.stderr and pip == ""


# A base Python for env.sh's CK_PYTHON that records what it is asked and, for `-m venv [--clear] DIR`, makes DIR an
# environment whose python records its arguments too (so env.sh's pip command installs nothing).
FAKE_BASE_PYTHON = """#!/bin/sh
echo "base $*" >> "{log}"
if [ "$1" = "-m" ] && [ "$2" = "venv" ]; then
  for dir in "$@"; do :; done
  [ "$3" = "--clear" ] && rm -rf "$dir"
  mkdir -p "$dir/bin"
  touch "$dir/pyvenv.cfg"
  printf '#!/bin/sh\\necho "venv $*" >> "{log}"\\n' > "$dir/bin/python"
  chmod 755 "$dir/bin/python"
fi
"""


def _env_sh_with_base_python(tmp_path, venv):
    base = tmp_path / "base-python"
    base.write_text(FAKE_BASE_PYTHON.format(log=tmp_path / "calls.log"))
    base.chmod(0o755)
    env = dict(os.environ, CK_VENV=str(venv), CK_PYTHON=str(base), CK_TORCH="")
    env.pop("CK_TORCH_INDEX", None)
    out = subprocess.run(["bash", "-c", "source tools/env.sh x && echo CK_PY=$CK_PY"], cwd=str(ROOT), env=env,
                         capture_output=True, text=True, timeout=60)
    log = tmp_path / "calls.log"
    return out, log.read_text().splitlines() if log.exists() else []


@pytest.mark.skipif(os.name == "nt", reason="bash")
def test_a_half_made_environment_is_made_again(tmp_path):
    """Ctrl+C during the first `python -m venv` left bin/python without pip; every later run then failed with
    "No module named pip". The ready stamp is written last, so such an environment is made again."""
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "pyvenv.cfg").write_text("home = /usr/bin\n")
    python = venv / "bin" / "python"  # what the interrupted `python -m venv` left: a python, no pip, no stamp
    python.write_text('#!/bin/sh\necho "half $*" >> "%s"\necho "No module named pip" >&2\nexit 1\n'
                      % (tmp_path / "calls.log"))
    python.chmod(0o755)
    out, calls = _env_sh_with_base_python(tmp_path, venv)
    assert out.returncode == 0, out.stderr
    assert "was left half-made" in out.stderr
    assert calls[0] == "base -m venv --clear %s" % venv
    assert calls[1].startswith("venv -m pip install")
    assert (venv / ".ck-venv-ready").exists() and list(venv.glob(".ck-installed-*"))
    out, calls = _env_sh_with_base_python(tmp_path, venv)  # finished now: nothing is made or installed again
    assert out.returncode == 0 and len(calls) == 2 and "half-made" not in out.stderr


@pytest.mark.skipif(os.name == "nt", reason="bash")
def test_an_interrupted_install_resumes_and_a_first_run_creates(tmp_path):
    venv = tmp_path / "venv"
    out, calls = _env_sh_with_base_python(tmp_path, venv)
    assert out.returncode == 0 and "[env] creating" in out.stderr and calls[0] == "base -m venv %s" % venv
    for stamp in venv.glob(".ck-installed-*"):
        stamp.unlink()  # as if pip had been interrupted: the environment is whole, its packages are not
    out, calls = _env_sh_with_base_python(tmp_path, venv)
    assert out.returncode == 0 and "half-made" not in out.stderr
    assert calls[-1].startswith("venv -m pip install") and not calls[-1].startswith("base")


@pytest.mark.skipif(os.name == "nt", reason="bash")
def test_a_folder_of_other_files_is_never_cleared(tmp_path):
    venv = tmp_path / "venv"
    venv.mkdir()
    (venv / "notes.txt").write_text("mine")
    out, calls = _env_sh_with_base_python(tmp_path, venv)
    assert out.returncode == 2 and "holds files but no Python environment" in out.stderr
    assert calls == [] and (venv / "notes.txt").read_text() == "mine"
