"""The exporter's commands run with a Python that lacks torch or timm: --help works, an export says which
interpreter to use and exits 2 (something to fix), never "Internal error"."""
import subprocess
import sys
from pathlib import Path

import pytest

from nuke_plugin.contract.exits import EXIT_USER
from tests.no_torch import ROOT, env_without

BENCHMARKS = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "benchmarks").glob("bench_*.py"))


def _run(args, env, cwd=ROOT):
    return subprocess.run([sys.executable, *args], cwd=str(cwd), env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("command", [["-m", "exporter"], ["-m", "exporter.demo_checkpoint"]] +
                         [[script] for script in BENCHMARKS])
def test_help_needs_no_torch(tmp_path, command):
    result = _run(command + ["--help"], env_without(tmp_path / "site", "torch", "timm", "torchvision", "numpy"))
    assert result.returncode == 0, result.stderr
    assert "usage:" in result.stdout


def test_export_without_torch_names_the_interpreter_to_use(tmp_path):
    result = _run(["-m", "exporter", "--checkpoint", str(tmp_path / "CorridorKey.pth"), "--output",
                   str(tmp_path / "out" / "CorridorKey.pt")], env_without(tmp_path / "site", "torch"))
    assert result.returncode == EXIT_USER, result.stdout + result.stderr
    assert "torch is not installed in this Python (%s)" % sys.executable in result.stdout
    assert "bash tools/export.sh" in result.stdout and ".venv/bin/python -m exporter" in result.stdout
    assert "Internal error" not in result.stdout + result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


def test_export_without_timm_is_a_user_error_too(tmp_path, small_checkpoint):
    result = _run(["-m", "exporter", "--checkpoint", str(small_checkpoint), "--output",
                   str(tmp_path / "CorridorKey.pt")], env_without(tmp_path / "site", "timm"))
    assert result.returncode == EXIT_USER, result.stdout + result.stderr
    assert "timm is not installed in this Python" in result.stdout
    assert "Internal error" not in result.stdout


def test_demo_checkpoint_without_torch_names_the_interpreter_to_use(tmp_path):
    result = _run(["-m", "exporter.demo_checkpoint", str(tmp_path / "demo.pth")],
                  env_without(tmp_path / "site", "torch"))
    assert result.returncode == EXIT_USER, result.stderr
    assert "torch is not installed" in result.stderr and "Traceback" not in result.stderr
    assert not Path(tmp_path / "demo.pth").exists()
