"""Operator sets: the portable build uses operators every supported Nuke's torch knows (attention without the fused
op, in one scripted loop), the fused build is claimed only where its op is proven; a checkpoint reader that runs no
code on torch 1.12, and the lanes' probe. Loading in the other torches themselves is tools/compat.sh's job (it needs
their environments); here the same code runs against this torch."""
import copy
import io
import json
import os
import pickle
import re
import sys

import pytest
import timm
import torch
import torch.nn.functional as F

from exporter import safe_load
from exporter.errors import ExportError
from exporter.lanes import lane_check, portability
from exporter.scripted.attention import (
    HieraAttention,
    chunk_sizes,
    chunked_attention,
    portable_attention,
    score_budget,
    set_attention,
)
from exporter.scripted.network import ENCODER_NAME
from nuke_plugin.contract import torch_targets
from nuke_plugin.contract.knob_spec import KNOBS

# Operators that a Nuke's libtorch was measured to refuse: the fused attention (absent before torch 2.0) and the
# Lanczos resize that F.interpolate's scripted body names in recent torch (absent in 2.1 and 2.7).
REFUSED_BY_OLD_NUKES = ("aten::scaled_dot_product_attention", "aten::_upsample_lanczos2d_aa")


def test_default_export_uses_only_operators_proven_in_every_supported_nuke(exported_model):
    module = torch.jit.load(str(exported_model.pt))
    used = portability.operators(module)
    proven = portability.load_proven()["sets"][torch_targets.PORTABLE]
    assert set(used) <= set(proven["ops"])
    assert not set(used) & set(REFUSED_BY_OLD_NUKES)
    manifest = json.loads(exported_model.manifest.read_text())
    for target in torch_targets.SUPPORTED_TARGETS:
        assert target.torch in proven["torch"] and target.torch in manifest["compatible_torch"]
    assert manifest["verified_torch"] == [torch.__version__.split("+")[0]]
    assert manifest["operator_set"] == torch_targets.PORTABLE and manifest["target_nuke"] == ""
    assert manifest["loads_in_nuke"] == ["nuke14", "nuke15.1", "nuke16"]


def test_the_proven_sets_are_claimed_for_the_torches_of_the_nukes_that_get_them():
    sets = portability.load_proven()["sets"]
    assert sorted(sets) == sorted(torch_targets.OPERATOR_SETS)
    for name, entry in sets.items():
        assert set(portability.required_torches(name)) <= set(entry["torch"]), name
    assert "aten::scaled_dot_product_attention" in sets[torch_targets.FUSED]["ops"]
    assert torch_targets.TORCH_TARGETS_BY_KEY["nuke14"].torch not in sets[torch_targets.FUSED]["torch"]


def test_an_operator_outside_the_proven_set_limits_the_build_to_its_own_torch(exported_model):
    module = torch.jit.load(str(exported_model.pt))
    proven = portability.load_proven()
    narrowed = {"sets": {name: {"torch": entry["torch"], "ops": [op for op in entry["ops"] if op != "aten::bmm"]}
                         for name, entry in proven["sets"].items()}}
    result = portability.compatible_torch(module, narrowed)
    assert result == {"torch": [torch.__version__.split("+")[0]], "unproven_ops": ["aten::bmm"]}


def test_a_torch_is_compatible_only_where_every_operator_is_proven(exported_model):
    module = torch.jit.load(str(exported_model.pt))
    used = portability.operators(module)
    proven = {"sets": {"portable": {"torch": ["1.12.1", "2.1.1"], "ops": used[:-1]},
                       "fused": {"torch": ["2.1.1", "2.7.1"], "ops": used[-1:]}}}
    # 2.1.1 knows both sets, so every operator; 1.12.1 and 2.7.1 each miss some.
    assert portability.compatible_torch(module, proven)["torch"][0] == "2.1.1"
    assert "1.12.1" not in portability.compatible_torch(module, proven)["torch"]


def test_operators_include_branches_that_never_run():
    @torch.jit.script
    def pick(x: torch.Tensor, flag: bool) -> torch.Tensor:
        if flag:
            return torch.sigmoid(x)
        return torch.tanh(x)

    class Wrapper(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return pick(x, False)

    assert {"aten::sigmoid", "aten::tanh"} <= set(portability.operators(torch.jit.script(Wrapper())))


@pytest.mark.parametrize("shape", [(1, 2, 37, 16), (1, 2, 3, 37, 16)])
@pytest.mark.parametrize("budget", [1 << 30, 4 * 37 * 37 * 2, 4 * 37 * 5, 1])
def test_chunked_attention_is_exact_whatever_the_chunk(shape, budget):
    """Whole groups, groups in chunks, queries in chunks (with a short last one), one query at a time."""
    torch.manual_seed(0)
    q, k, v = (torch.randn(*shape) for _ in range(3))
    expected = F.scaled_dot_product_attention(q, k, v)
    got = chunked_attention(q, k, v, 16 ** -0.5, budget)
    assert got.shape == expected.shape
    assert float((got - expected).abs().max()) < 1e-5


def test_chunk_sizes_bound_the_score_matrix():
    # Hiera's first global stage at 2048: 8 heads over (2048 / 16)^2 = 16,384 tokens; an 8 MB CPU budget.
    budget = 8 * 1024 * 1024
    assert chunk_sizes(8, 16384, 16384, budget) == [1, 128]
    assert 1 * 128 * 16384 * 4 <= budget
    # Mask units at 2048: 2 heads x 4096 units of 64 tokens: whole units, as many as fit.
    assert chunk_sizes(8192, 64, 64, budget) == [512, 64]
    assert chunk_sizes(8, 100, 100, budget) == [8, 100]
    assert chunk_sizes(1, 10, 1 << 30, budget) == [1, 1]


def test_the_portable_loop_is_kept_in_the_trace_not_unrolled():
    """The saved file holds one loop over the chunks: its graph does not grow with the number of chunks."""
    torch.manual_seed(0)
    timm_encoder = timm.create_model(ENCODER_NAME, pretrained=False, features_only=True, img_size=128).eval()
    block = next(b for b in timm_encoder.model.blocks if not b.attn.use_mask_unit_attn)
    attention = HieraAttention(block.attn, torch_targets.PORTABLE).eval()
    x = torch.randn(1, 64, attention.dim_out)
    traced = torch.jit.trace(attention, (x,))
    graph = traced.inlined_graph
    assert graph.findAllNodes("prim::Loop") and len(graph.findAllNodes("aten::bmm")) == 2  # one body, any chunks
    assert torch.equal(traced(x), attention(x))


@pytest.mark.parametrize("operators", torch_targets.OPERATOR_SETS)
def test_each_operator_set_matches_timms_attention_in_every_block_kind(operators):
    torch.manual_seed(0)
    timm_encoder = timm.create_model(ENCODER_NAME, pretrained=False, features_only=True, img_size=128).eval()
    ours = copy.deepcopy(timm_encoder)
    swapped = set_attention(ours, operators)
    blocks = list(ours.model.blocks)
    assert swapped == len(blocks) == 24
    kinds = {(b.attn.use_mask_unit_attn, b.attn.q_stride > 1) for b in blocks}
    assert kinds == {(True, False), (True, True), (False, False), (False, True)}
    assert all(isinstance(b.attn, HieraAttention) and b.attn.operators == operators for b in blocks)
    assert list(ours.state_dict()) == list(timm_encoder.state_dict())
    x = torch.randn(1, 3, 128, 128)
    with torch.no_grad():
        for mine, theirs in zip(ours(x), timm_encoder(x)):
            assert float((mine - theirs).abs().max()) < 1e-4


def test_portable_attention_takes_the_budget_of_the_device_it_runs_on():
    """The budget is chosen when the attention runs (a CPU-traced file still takes the GPU's on a GPU)."""
    assert portable_attention.graph.findAllNodes("prim::is_cuda")
    assert score_budget(True) > score_budget(False) == 8 * 1024 * 1024
    torch.manual_seed(0)
    q, k, v = (torch.randn(1, 2, 40, 8) for _ in range(3))
    assert torch.equal(portable_attention(q, k, v, 0.5), chunked_attention(q, k, v, 0.5, 8 * 1024 * 1024))


class _RunsCode:
    def __reduce__(self):
        return (os.system, ("echo pwned > /dev/null",))


def _torch_zip(obj) -> io.BytesIO:
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    buffer.seek(0)
    return buffer


def test_restricted_unpickler_loads_a_state_dict_where_weights_only_is_missing(tmp_path, monkeypatch):
    monkeypatch.setattr(safe_load, "has_weights_only", lambda: False)
    state = {"a.weight": torch.randn(3, 2), "b.bias": torch.nn.Parameter(torch.ones(4)), "n": torch.tensor(7)}
    path = tmp_path / "ck.pth"
    torch.save({"state_dict": state, "epoch": 3, "names": ["x", ("y", 1.5)]}, str(path))
    loaded = safe_load.load_tensors(str(path))
    assert loaded["epoch"] == 3 and loaded["names"] == ["x", ("y", 1.5)]
    for key, value in state.items():
        assert torch.equal(loaded["state_dict"][key], value.detach())


def test_restricted_unpickler_refuses_code_before_importing_it(tmp_path, monkeypatch):
    path = tmp_path / "evil.pth"
    path.write_bytes(_torch_zip({"weights": torch.zeros(1), "payload": _RunsCode()}).getvalue())
    monkeypatch.setattr(safe_load, "has_weights_only", lambda: False)
    called = []
    monkeypatch.setattr(os, "system", lambda command: called.append(command))
    with pytest.raises(pickle.UnpicklingError, match="refusing posix.system|refusing nt.system"):
        safe_load.load_tensors(str(path))
    assert called == []


def test_checkpoint_reader_on_the_fallback_path_turns_code_into_a_user_error(tmp_path, monkeypatch):
    from exporter.checkpoint import read_state_dict

    monkeypatch.setattr(safe_load, "has_weights_only", lambda: False)
    path = tmp_path / "evil.pth"
    path.write_bytes(_torch_zip(_RunsCode()).getvalue())
    with pytest.raises(ExportError, match="not a readable PyTorch checkpoint"):
        read_state_dict(str(path))


def test_probe_plates_are_arithmetic_and_cover_the_awkward_values():
    first = lane_check.probe_plate(37, 53)
    assert torch.equal(first, lane_check.probe_plate(37, 53))
    assert first.shape == (1, 4, 37, 53)
    assert float(first.max()) == 4.0 and float(first.min()) < 0.0
    assert set(torch.unique(first[0, 3]).tolist()) == {0.0, 1.0}


def test_missing_operators_names_what_this_torch_lacks():
    assert lane_check.missing_operators(["aten::add", "aten::no_such_operator"]) == ["aten::no_such_operator"]


def test_a_lane_checks_the_sets_that_claim_its_torch_and_reports_the_others(capsys):
    own = torch.__version__.split("+")[0]
    claimed = {"fine": {"torch": [own], "ops": ["aten::add"]},
               "elsewhere": {"torch": ["0.1"], "ops": ["aten::add", "aten::no_such_operator"]}}
    assert lane_check.check_operator_sets(claimed) == 0
    assert "elsewhere operators: not claimed for torch %s, which lacks aten::no_such_operator" % own in \
        capsys.readouterr().out
    claimed["fine"]["ops"].append("aten::no_such_operator")
    assert lane_check.check_operator_sets(claimed) == 1
    assert "lacks aten::no_such_operator, which its fine operators claim" in capsys.readouterr().out


def test_knob_settings_move_every_knob_to_its_far_end_alone_and_together():
    settings = portability.knob_settings(KNOBS)
    names = [k.name for k in KNOBS]
    assert settings[0] == {} and [list(s) for s in settings[1:-1]] == [[n] for n in names]
    assert sorted(settings[-1]) == sorted(names)
    for knob in KNOBS:
        assert settings[-1][knob.name] != knob.default
        assert type(settings[-1][knob.name]) is type(knob.clamp(knob.default))


def test_verify_in_runs_the_saved_file_in_another_interpreter(exported_model):
    figures = portability.verify_in(str(exported_model.pt), [sys.executable], KNOBS)
    assert figures == {torch.__version__.split("+")[0]: 0.0}


def test_verify_in_reports_an_interpreter_that_cannot_load_the_file(tmp_path, exported_model):
    broken = tmp_path / "python"
    broken.write_text("#!/bin/sh\necho 'RuntimeError: Unknown builtin op: aten::something' >&2\nexit 1\n")
    broken.chmod(0o755)
    with pytest.raises(ExportError, match="(?s)does not run under .*Unknown builtin op"):
        portability.verify_in(str(exported_model.pt), [str(broken)], KNOBS)


# ---- --verify-with: checked before the export, every lane failure an ExportError with its reason ------------------

SELFTEST_PT = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                           "nuke_plugin", "selftest_model", "CorridorKeySelfTest.pt")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _script(tmp_path, name, body):
    path = tmp_path / name
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return str(path)


def _no_torch_python(tmp_path):
    import subprocess

    subprocess.check_call([sys.executable, "-m", "venv", "--without-pip", str(tmp_path / "bare")])
    return str(tmp_path / "bare" / "bin" / "python")


@pytest.mark.skipif(os.name == "nt", reason="shell-script stand-ins")
@pytest.mark.parametrize("make, message", [
    (lambda tmp_path: str(tmp_path / "no-such-python"), "no such file"),
    (lambda tmp_path: str(tmp_path), "is a folder. Give the python inside it"),
    (lambda tmp_path: "/bin/true", "is not a Python that can load torch (exit status 0, no output)"),
    (lambda tmp_path: _script(tmp_path, "python", "echo 'Segmentation fault' >&2; exit 139\n"),
     "is not a Python that can load torch (exit status 139: Segmentation fault)"),
    (_no_torch_python, "has no torch"),
])
def test_a_verify_with_python_that_cannot_work_is_refused_first(tmp_path, make, message):
    """Each used to be exit 1, "Internal error ... Please report it", after the whole export and validation."""
    with pytest.raises(ExportError, match=re.escape(message)):
        portability.check_lane_python(make(tmp_path))


@pytest.mark.skipif(os.name == "nt", reason="shell-script stand-ins")
def test_a_verify_with_python_that_never_answers_is_refused_after_a_short_wait(tmp_path):
    """It used to hang for the 30-minute lane timeout, after the export."""
    import time

    hanging = _script(tmp_path, "python", "exec sleep 600\n")
    started = time.monotonic()
    with pytest.raises(ExportError, match="did not answer within 2 s"):
        portability.check_lane_python(hanging, timeout=2)
    assert time.monotonic() - started < 30
    assert portability.check_lane_python(sys.executable) == torch.__version__.split("+")[0]


@pytest.mark.skipif(os.name == "nt", reason="shell-script stand-ins")
def test_the_command_refuses_a_wrong_verify_with_before_the_export(tmp_path):
    import subprocess

    checkpoint = tmp_path / "ck.pth"
    checkpoint.write_bytes(b"never read")
    run = subprocess.run([sys.executable, "-m", "exporter", "--checkpoint", str(checkpoint), "--output",
                          str(tmp_path / "out" / "CorridorKey.pt"), "--verify-with", str(tmp_path / "nope")],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 2 and "--verify-with %s: no such file" % (tmp_path / "nope") in run.stdout
    assert "Internal error" not in run.stdout + run.stderr and not (tmp_path / "out").exists()


@pytest.mark.skipif(os.name == "nt", reason="shell-script stand-ins")
@pytest.mark.parametrize("body, message", [
    ("exit 0\n", "ended without writing its outputs"),
    ('echo "not tensors" > "$4"\n', "ended without writing its outputs"),
    ("exec /nonexistent/python\n", "does not run under"),
])
def test_a_lane_that_fails_after_the_check_is_an_export_error_with_its_reason(tmp_path, body, message):
    """A Python that answers the check but then misbehaves: an exit-2 error that says why, never a traceback."""
    lane = _script(tmp_path, "python", 'case "$2" in -c) exec %s "$@";; esac\n' % sys.executable
                   + 'case "$1" in -c) exec %s "$@";; esac\n' % sys.executable + body)
    with pytest.raises(ExportError, match=message):
        portability.verify_in(SELFTEST_PT, [lane], KNOBS)
