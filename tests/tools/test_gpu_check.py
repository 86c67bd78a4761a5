"""tools/gpu_check.sh, the one command for a GPU machine: refused without CUDA before any set-up, and its whole
path (export per target, Python and C++ host at fp32 and fp16, the report) with the device forced to the CPU."""
import json
import os
import subprocess
import sys

import pytest

from nuke_plugin.contract.exits import EXIT_USER
from tests.no_torch import ROOT

pytestmark = pytest.mark.skipif(os.name == "nt", reason="bash")


def _gpu_check_sh(args, env, timeout=900):
    return subprocess.run(["bash", str(ROOT / "tools" / "gpu_check.sh"), *args], cwd=str(ROOT), env=env,
                          capture_output=True, text=True, timeout=timeout)


def test_without_a_gpu_it_says_so_and_exits_2_before_any_set_up(tmp_path):
    if subprocess.run(["bash", "-c", "command -v nvidia-smi"], capture_output=True).returncode == 0:
        pytest.skip("this machine has an NVIDIA driver")
    env = dict(os.environ, CK_VENV=str(tmp_path / "venv"), CK_PYTHON=sys.executable)
    result = _gpu_check_sh([], env, timeout=60)
    assert result.returncode == EXIT_USER
    assert "no NVIDIA driver here" in result.stderr and "--device cpu" in result.stderr
    assert not (tmp_path / "venv").exists()


def test_a_torch_without_cuda_is_refused_with_exit_2(tmp_path):
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    result = subprocess.run([sys.executable, "-m", "tools.gpu_check", "--out", str(tmp_path)], cwd=str(ROOT),
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == EXIT_USER
    assert "no CUDA device that torch" in result.stderr and "--device cpu" in result.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.export
def test_forced_to_the_cpu_it_exports_runs_and_reports_each_target(tmp_path, torch_venv):
    out = tmp_path / "out"
    env = dict(os.environ, CK_VENV=str(torch_venv), CK_PYTHON=sys.executable)
    result = _gpu_check_sh(["--device", "cpu", "--resolution", "64", "--size", "48x32", "--runs", "1", "--out",
                            str(out)], env)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    text = result.stdout
    assert "Nuke 16 / 17 build (fused attention; loads in Nuke 15.1 / 15.2 and Nuke 16 / 17)" in text
    assert "Nuke 14 / 15.0 build (portable attention; loads in Nuke 14 / 15.0, Nuke 15.1 / 15.2 and Nuke 16 / 17)" \
        in text
    assert text.count("export: ") == 2 and text.count("goal (2048 fp16 in <= 3 GiB") == 2
    assert "not judged (the goal is for 2048 on a GPU)" in text
    report = json.loads((out / "report.json").read_text())
    assert sorted(report["builds"]) == ["nuke14", "nuke16"]
    assert set(report["upstream"]) == {"fp32", "fp16"}
    for target, build in report["builds"].items():
        assert build["export_s"] > 0 and (out / target / "CorridorKey.pt").is_file()
        for name in ("fp32", "fp16"):
            assert build["python"][name]["seconds"] > 0
        # the same weights as upstream's eager model: fp32 matches it, fp16 stays close
        assert build["vs_upstream_fp32"]["max"] < 1e-4
        assert build["fp16_vs_fp32"]["max"] < 0.05
        if "skipped" not in build["host"]:
            assert build["host"]["fp16"]["seconds"] > 0 and build["host"]["host_vs_python_fp32"]["max"] < 1e-5
