"""tools/export.sh, run as a user runs it: from their own folder, on a fresh machine or with --demo."""
import os
import subprocess
import sys

import pytest

from nuke_plugin import contract
from nuke_plugin.contract.exits import EXIT_USER
from nuke_plugin.contract.torch_targets import PROJECT_ENVIRONMENT
from tests import stand_in_exporter as stand_in
from tests.no_torch import ROOT, env_without
from tests.test_env_sh import stamp_name

pytestmark = pytest.mark.skipif(os.name == "nt", reason="bash")


def _export_sh(args, cwd, env):
    return subprocess.run(["bash", str(ROOT / "tools" / "export.sh"), *args], cwd=str(cwd), env=env,
                          capture_output=True, text=True, timeout=600)


def _untracked_in_repo():
    """What git sees added in the clone, ignored files too (build/, out/); Python's byte-code caches aside."""
    out = subprocess.run(["git", "status", "--porcelain", "--ignored", "--untracked-files=all"], cwd=str(ROOT),
                         capture_output=True, text=True, check=True).stdout
    return {line for line in out.splitlines() if "__pycache__" not in line}


def test_missing_checkpoint_is_refused_before_the_environment_is_made(tmp_path):
    """A relative path is the user's, not the repository's; nothing is installed or written anywhere."""
    user = tmp_path / "user"
    user.mkdir()
    venv = tmp_path / "venv"
    before = _untracked_in_repo()
    result = _export_sh(["--checkpoint", "mine.pth", "--output", "out/CorridorKey.pt"], user,
                        dict(os.environ, CK_VENV=str(venv), CK_PYTHON=sys.executable))
    assert result.returncode == EXIT_USER, result.stderr
    assert "checkpoint not found: %s." % (user / "mine.pth") in result.stderr
    assert contract.WEIGHTS_FILE in result.stderr and contract.WEIGHTS_URL in result.stderr
    assert "--demo" in result.stderr
    assert not venv.exists() and list(user.iterdir()) == []
    assert _untracked_in_repo() == before


def test_no_checkpoint_at_all_points_at_the_weights_and_at_demo(tmp_path):
    result = _export_sh([], tmp_path, dict(os.environ, CK_VENV=str(tmp_path / "venv"), CK_PYTHON=sys.executable))
    assert result.returncode == EXIT_USER
    assert "needs --checkpoint" in result.stderr and contract.WEIGHTS_URL in result.stderr
    assert "--demo" in result.stderr and not (tmp_path / "venv").exists()


def test_help_works_before_any_environment_with_a_python_without_torch(tmp_path):
    env = dict(env_without(tmp_path / "site", "torch", "timm"), CK_VENV=str(tmp_path / "venv"),
               CK_PYTHON=sys.executable)
    result = _export_sh(["--help"], tmp_path, env)
    assert result.returncode == 0, result.stderr
    assert "--demo" in result.stdout and "--checkpoint CHECKPOINT" in result.stdout
    assert not (tmp_path / "venv").exists()
    # A first --demo installs the environment: the help must not promise otherwise, nor quote old timings.
    assert "needs no download" not in result.stdout and "creates the\nexport environment" in result.stdout
    script = (ROOT / "tools" / "export.sh").read_text()
    assert "22 s" not in script and "ten minutes" not in script


@pytest.fixture
def export_venv(tmp_path, stand_in_exporter):
    """The export environment as env.sh leaves it, standing in for .venv: its python is the stand-in exporter (the
    script's plumbing is under test, not the export), and its stamp says the project's pins are installed, so
    nothing is downloaded."""
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    os.symlink(stand_in_exporter(), str(venv / "bin" / "python"))
    (venv / stamp_name("export", " ".join(PROJECT_ENVIRONMENT.requirements))).touch()
    return venv


def test_demo_exports_random_weights_into_the_users_build_demo_folder(tmp_path, export_venv):
    user, cache = tmp_path / "user", tmp_path / "cache"
    user.mkdir()
    before = _untracked_in_repo()
    env = dict(os.environ, CK_VENV=str(export_venv), CK_PYTHON=sys.executable, XDG_CACHE_HOME=str(cache))
    result = _export_sh(["--demo", "--resolution", "64", "--validate-device", "cpu"], user, env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "RANDOM WEIGHTS" in result.stderr and "meaningless" in result.stderr
    assert (cache / "corridorkey-nuke" / "demo" / "random_weights.pth").is_file()
    built = user / "build" / "demo"
    assert sorted(p.name for p in built.iterdir()) == [contract.MANIFEST_NAME, contract.PT_NAME]
    assert _untracked_in_repo() == before
    made, exported = stand_in.calls(os.path.dirname(os.path.realpath(export_venv / "bin" / "python")))
    assert made["argv"] == ["-m", "exporter.demo_checkpoint", str(cache / "corridorkey-nuke" / "demo" /
                                                                  "random_weights.pth")]
    assert exported["argv"] == ["-m", "exporter", "--checkpoint", made["argv"][2], "--resolution", "64",
                                "--validate-device", "cpu", "--output", "build/demo/CorridorKey.pt"]
    assert os.path.samefile(exported["cwd"], str(user))
