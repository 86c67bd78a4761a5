"""The exported .pt run the way Nuke runs it: libtorch from C++, knobs set as attributes, no Python inside.

Every test drives `ck_inference_host` (tools/inference_host) on the session's fresh export and compares
with Python's `torch.jit.load` of the same file.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch

from exporter.validate import KNOB_CHANGES, KNOB_CONTEXT
from nuke_plugin.contract.knob_spec import KNOBS, defaults
from tests.cpp_host import host_binary
from tools.inference_host import HostError, build_host, run_host
from tools.inference_host import build as host_build

# Same libtorch, same CPU kernels, same thread count: the host and Python agree bit for bit in practice
# (0.0 measured); the margin only absorbs a different reduction order should thread scheduling differ.
PARITY_TOLERANCE = 1e-5
# fp16 against fp32 on outputs in 0-1: the exporter's own half test allows 0.05 at any pixel (about 13
# code values of 8 bits, edge pixels of a random-weight matte swing most); the mean bounds a systematic
# shift (a channel in the wrong dtype or transfer) far below that. Measured here on the CPU: max 1.3e-3.
HALF_MAX_ERROR = 0.05
HALF_MEAN_ERROR = 5e-3

PLATE_SIZE = (37, 53)  # odd on both sides, not square, not a multiple of the model resolution


def _plate(height: int, width: int, seed: int = 0) -> np.ndarray:
    """Raw Nuke pixels: green-heavy RGB that strays below 0 and above 1, and a 0-1 hint."""
    rng = np.random.default_rng(seed)
    rgb = rng.uniform(-0.1, 1.3, size=(3, height, width)).astype(np.float32)
    rgb[1] += 0.3
    hint = rng.uniform(0.0, 1.0, size=(1, height, width)).astype(np.float32)
    return np.concatenate([rgb, hint])[None]


@pytest.fixture(scope="module")
def host() -> Path:
    return host_binary()


@pytest.fixture(scope="module")
def scripted(exported_model):
    module = torch.jit.load(str(exported_model.pt))
    module.eval()
    return module


def _python_forward(module, image: np.ndarray, knobs: dict) -> np.ndarray:
    for name, value in {**defaults(), **knobs}.items():
        setattr(module, name, value)
    with torch.no_grad():
        return module(torch.from_numpy(image)).numpy()


SETTINGS = {"defaults": {}, "all changed": {"despill_strength": 5.0, "gamma_input": 1, "refiner_strength": 0.5}}
# The exporter's own liveness probes: one value per knob, from a setting where it must act.
SETTINGS.update({"only " + name: {**KNOB_CONTEXT.get(name, {}), name: value} for name, value in KNOB_CHANGES})
SETTINGS.update({"context of " + name: context for name, context in KNOB_CONTEXT.items()})


@pytest.fixture(scope="module")
def host_outputs(host, exported_model):
    """One host run per knob setting on the same odd-sized plate (each run costs a model load)."""
    image = _plate(*PLATE_SIZE)
    return image, {label: run_host(host, exported_model.pt, image, {**defaults(), **knobs}).output
                   for label, knobs in SETTINGS.items()}


@pytest.mark.parametrize("label", list(SETTINGS))
def test_host_output_equals_python_jit_load(host_outputs, scripted, label):
    image, outputs = host_outputs
    expected = _python_forward(scripted, image, SETTINGS[label])
    assert outputs[label].shape == (1, 4) + PLATE_SIZE
    assert outputs[label].dtype == np.float32
    assert np.isfinite(outputs[label]).all()
    assert float(np.abs(outputs[label] - expected).max()) <= PARITY_TOLERANCE


@pytest.mark.parametrize("name", [k.name for k in KNOBS])
def test_every_knob_changes_the_host_output(host_outputs, name):
    _, outputs = host_outputs
    baseline = outputs.get("context of " + name, outputs["defaults"])
    assert float(np.abs(outputs["only " + name] - baseline).max()) > 1e-3


def test_knobs_reach_the_module_with_nuke_types(host, exported_model):
    result = run_host(host, exported_model.pt, _plate(3, 5),
                      {"despill_strength": 2.5, "gamma_input": 1, "refiner_strength": 0.25})
    assert result.report["knobs"] == ["despill_strength=2.5 (float)", "gamma_input=1 (int)",
                                      "refiner_strength=0.25 (float)"]
    assert result.report["libtorch"] == torch.__version__.split("+")[0]


@pytest.mark.parametrize("size", [(1, 1), (3, 131)])
def test_odd_and_tiny_sizes(host, scripted, exported_model, size):
    image = _plate(*size, seed=sum(size))
    result = run_host(host, exported_model.pt, image, defaults())
    assert result.output.shape == (1, 4) + size
    assert np.isfinite(result.output).all()
    assert float(np.abs(result.output - _python_forward(scripted, image, {})).max()) <= PARITY_TOLERANCE


def test_half_precision_is_finite_and_close_to_fp32(host, exported_model, host_outputs):
    image, outputs = host_outputs
    half = run_host(host, exported_model.pt, image, {**defaults(), **SETTINGS["all changed"]}, half=True)
    assert half.report["half"] is True
    assert half.output.shape == (1, 4) + PLATE_SIZE
    assert np.isfinite(half.output).all()
    error = np.abs(half.output - outputs["all changed"])
    assert float(error.max()) <= HALF_MAX_ERROR
    assert float(error.mean()) <= HALF_MEAN_ERROR


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU: none on this machine")
@pytest.mark.parametrize("half", [False, True])
def test_cuda_matches_cpu(host, exported_model, host_outputs, half):
    image, outputs = host_outputs
    result = run_host(host, exported_model.pt, image, {**defaults(), **SETTINGS["all changed"]},
                      device="cuda", half=half)
    assert np.isfinite(result.output).all()
    assert result.report["cuda_peak_allocated_mb"] > 0
    error = np.abs(result.output - outputs["all changed"])
    assert float(error.max()) <= (HALF_MAX_ERROR if half else 1e-3)


def _failure(host, pt, image, knobs=(), extra=()) -> HostError:
    with pytest.raises(HostError) as caught:
        run_host(host, pt, image, list(knobs), extra_args=list(extra))
    return caught.value


def test_unknown_attribute_is_refused_with_the_real_names(host, exported_model):
    error = _failure(host, exported_model.pt, _plate(4, 4), ["despil_strength=5"])
    assert error.kind == "usage"
    assert "no attribute 'despil_strength'" in error.stderr
    for spec in KNOBS:
        assert "%s (%s)" % (spec.name, spec.torch_type) in error.stderr


@pytest.mark.parametrize("knob, says", [
    ("gamma_input=0.5", "not an integer"),
    ("gamma_input:float=1", "is int, but a float knob"),
    ("despill_strength:int=5", "is float, but an int knob"),
    ("refiner_strength:enum=1", "is float, but an enum knob"),
    ("despill_strength=lots", "not a finite number"),
    ("refiner_strength=nan", "not a finite number"),
    ("training=1", "type bool"),
    ("network=1", "submodule"),
    ("resolution=256", "constant"),
])
def test_wrong_knob_types_are_refused(host, exported_model, knob, says):
    error = _failure(host, exported_model.pt, _plate(4, 4), [knob])
    assert error.kind == "usage"
    assert says in error.stderr


def test_knob_set_twice_is_refused(host, exported_model):
    error = _failure(host, exported_model.pt, _plate(4, 4), ["gamma_input=1", "gamma_input=0"])
    assert error.kind == "usage" and "twice" in error.stderr


def test_missing_model_file(host, tmp_path):
    error = _failure(host, tmp_path / "nowhere" / "CorridorKey.pt", _plate(4, 4))
    assert error.kind == "model" and "not found" in error.stderr


def test_checkpoint_is_not_torchscript(host, exported_model):
    error = _failure(host, exported_model.checkpoint, _plate(4, 4))
    assert error.kind == "model" and "TorchScript" in error.stderr


@pytest.mark.parametrize("shape", [(1, 3, 8, 8), (2, 4, 8, 8), (4, 8, 8), (1, 4, 0, 8)])
def test_wrong_input_shape_is_refused(host, exported_model, shape):
    error = _failure(host, exported_model.pt, np.zeros(shape, np.float32))
    assert error.kind == "file" and "[1, 4, H, W]" in error.stderr


def _host_exit(host, *args):
    """Runs the host with raw arguments: (exit code, stderr)."""
    result = subprocess.run([str(host)] + [str(a) for a in args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    return result.returncode, result.stderr


def test_input_file_problems(host, exported_model, tmp_path):
    out = tmp_path / "out.npy"
    code, stderr = _host_exit(host, exported_model.pt, "--input", tmp_path / "missing.npy", "--output", out)
    assert code == 3 and "not found" in stderr
    np.save(tmp_path / "f64.npy", np.zeros((1, 4, 4, 4)))
    code, stderr = _host_exit(host, exported_model.pt, "--input", tmp_path / "f64.npy", "--output", out)
    assert code == 3 and "float32" in stderr
    np.save(tmp_path / "fortran.npy", np.asfortranarray(np.zeros((1, 4, 4, 4), np.float32)))
    code, stderr = _host_exit(host, exported_model.pt, "--input", tmp_path / "fortran.npy", "--output", out)
    assert code == 3 and "Fortran" in stderr
    good = tmp_path / "good.npy"
    np.save(good, np.zeros((1, 4, 4, 4), np.float32))
    (tmp_path / "truncated.npy").write_bytes(good.read_bytes()[:-7])
    code, stderr = _host_exit(host, exported_model.pt, "--input", tmp_path / "truncated.npy", "--output", out)
    assert code == 3 and "truncated" in stderr
    assert not out.exists()


def test_unwritable_output_leaves_nothing(host, exported_model, tmp_path):
    np.save(tmp_path / "in.npy", _plate(4, 4))
    target = tmp_path / "no_such_folder" / "out.npy"
    code, stderr = _host_exit(host, exported_model.pt, "--input", tmp_path / "in.npy", "--output", target)
    assert code == 3 and "cannot write" in stderr
    assert not target.parent.exists()


@pytest.mark.skipif(torch.cuda.is_available(), reason="a GPU is present: CUDA runs instead (test_cuda_matches_cpu)")
def test_cuda_unavailable_is_a_clear_error(host, exported_model):
    error = _failure(host, exported_model.pt, _plate(4, 4), extra=["--device", "cuda"])
    assert error.kind == "device" and "CUDA is not available" in error.stderr


def test_bad_command_lines(host, exported_model, tmp_path):
    assert _host_exit(host)[0] == 2
    code, stderr = _host_exit(host, exported_model.pt, "--input", "a.npy")
    assert code == 2 and "--output" in stderr
    code, stderr = _host_exit(host, exported_model.pt, "--input", "a", "--output", "b", "--frobnicate")
    assert code == 2 and "unknown option" in stderr
    code, stderr = _host_exit(host, exported_model.pt, "--input", "a", "--output", "b", "--device", "tpu")
    assert code == 2 and "--device" in stderr


def test_build_is_cached_and_keyed_on_the_sources(host, tmp_path, monkeypatch):
    stamp = os.stat(host).st_mtime_ns
    assert build_host() == host and os.stat(host).st_mtime_ns == stamp
    key = host_build.build_key()
    copy = tmp_path / "inference_host"
    shutil.copytree(host_build.SOURCE_DIR / "src", copy / "src")
    shutil.copy(host_build.SOURCE_DIR / "CMakeLists.txt", copy)
    monkeypatch.setattr(host_build, "SOURCE_DIR", copy)
    assert host_build.build_key() == key
    with open(copy / "src" / "main.cpp", "a") as handle:
        handle.write("\n// edited\n")
    assert host_build.build_key() != key
