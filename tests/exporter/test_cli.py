"""`python -m exporter` end to end, and the all-or-nothing promise on failure and cancel."""
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import exporter.export as export_module
from exporter.errors import ExportError
from nuke_plugin.contract import files
from nuke_plugin.contract.knob_spec import KNOBS
from tests.conftest import SMALL_RESOLUTION, stale_partial

ROOT = Path(__file__).resolve().parents[2]


def _run(*args, **kwargs):
    return subprocess.run([sys.executable, "-m", "exporter", *args], cwd=str(ROOT), capture_output=True,
                          text=True, timeout=600, **kwargs)


def _events(stdout):
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def _snapshot(folder: Path):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


@pytest.fixture
def previous_build(tmp_path, exported_model):
    """A folder holding an earlier build, which a failed or cancelled export must leave exactly as it was."""
    folder = tmp_path / "build"
    folder.mkdir()
    shutil.copy(str(exported_model.pt), str(folder / "CorridorKey.pt"))
    shutil.copy(str(exported_model.manifest), str(folder / "CorridorKey.json"))
    return folder


def test_cli_json_progress_end_to_end(tmp_path, small_checkpoint):
    out = tmp_path / "nested" / "CorridorKey.pt"
    result = _run("--checkpoint", str(small_checkpoint), "--output", str(out),
                  "--resolution", str(SMALL_RESOLUTION), "--progress", "json", "--target-nuke", "Nuke 16")
    assert result.returncode == 0, result.stderr
    events = _events(result.stdout)
    stages = [e["stage"] for e in events if e["event"] == "stage"]
    assert stages[0] == "check" and "trace" in stages and "validate" in stages
    fractions = [e["progress"] for e in events if "progress" in e]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert all(e["elapsed"] >= 0 and e["remaining"] > 0 for e in events if e["event"] == "stage")
    done = events[-1]
    assert done["event"] == "done" and Path(done["pt"]) == out
    manifest = json.loads(Path(done["manifest"]).read_text())
    assert manifest["resolution"] == SMALL_RESOLUTION and manifest["target_nuke"] == "nuke16"  # one vocabulary
    assert manifest["torchscript_file_version"] >= 1
    assert manifest["model_sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
    assert manifest["checkpoint_sha256"] == hashlib.sha256(small_checkpoint.read_bytes()).hexdigest()
    assert [k["name"] for k in manifest["knobs"]] == [k.name for k in KNOBS]
    assert manifest["validation"]["max_abs_error_vs_eager"] <= 1e-4
    assert sorted(p.name for p in out.parent.iterdir()) == ["CorridorKey.json", "CorridorKey.pt"]


@pytest.mark.parametrize("target, message", [("banana", "unknown target"), ("13", "Not supported")])
def test_cli_refuses_a_target_nuke_it_cannot_build_for(tmp_path, target, message):
    result = _run("--checkpoint", str(tmp_path / "missing.pth"), "--output", str(tmp_path / "o" / "CorridorKey.pt"),
                  "--target-nuke", target)
    assert result.returncode == 2 and message in result.stdout and "--target-nuke" in result.stdout
    assert not (tmp_path / "o").exists()


def test_cli_human_progress_and_user_error_exit_code(tmp_path):
    result = _run("--checkpoint", str(tmp_path / "missing.pth"), "--output", str(tmp_path / "o" / "CorridorKey.pt"))
    assert result.returncode == 2
    assert "ERROR: Checkpoint not found" in result.stdout
    assert not (tmp_path / "o").exists()  # the folder it made for the output is gone again


def test_cli_json_error_event(tmp_path):
    pointer = tmp_path / "CorridorKey.pth"
    pointer.write_text("version https://git-lfs.github.com/spec/v1\n")
    result = _run("--checkpoint", str(pointer), "--output", str(tmp_path / "CorridorKey.pt"), "--progress", "json")
    assert result.returncode == 2
    last = _events(result.stdout)[-1]
    assert last["event"] == "error" and last["kind"] == "user" and "Git LFS" in last["message"]


@pytest.mark.parametrize("resolution", ["100", "32", "1048576", "0", "-64"])
def test_cli_rejects_unusable_resolutions(tmp_path, small_checkpoint, resolution):
    result = _run("--checkpoint", str(small_checkpoint), "--output", str(tmp_path / "o" / "CorridorKey.pt"),
                  "--resolution", resolution)
    assert result.returncode == 2 and "multiple of 32 from 64 to 4096" in result.stdout
    assert "Reading checkpoint" not in result.stdout and not (tmp_path / "o").exists()  # refused before any work


def test_output_must_be_a_pt_file(tmp_path, small_checkpoint):
    with pytest.raises(ExportError, match=r"\.pt"):
        export_module.export(str(small_checkpoint), str(tmp_path / "model.bin"), resolution=SMALL_RESOLUTION)


def test_failure_after_saving_leaves_previous_build_untouched(previous_build, small_checkpoint, monkeypatch):
    before = _snapshot(previous_build)

    def broken_validation(*args, **kwargs):
        raise ExportError("simulated validation failure")

    monkeypatch.setattr(export_module, "validate", broken_validation)
    with pytest.raises(ExportError, match="simulated"):
        export_module.export(str(small_checkpoint), str(previous_build / "CorridorKey.pt"), resolution=SMALL_RESOLUTION)
    assert _snapshot(previous_build) == before


@pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM is how Nuke cancels on macOS/Linux")
def test_cancel_midway_leaves_previous_build_untouched(previous_build, small_checkpoint):
    before = _snapshot(previous_build)
    process = subprocess.Popen(
        [sys.executable, "-m", "exporter", "--checkpoint", str(small_checkpoint),
         "--output", str(previous_build / "CorridorKey.pt"), "--resolution", str(SMALL_RESOLUTION),
         "--progress", "json"],
        cwd=str(ROOT), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen = []
    for line in process.stdout:
        seen.append(json.loads(line))
        if seen[-1].get("stage") == "validate":  # the new .pt is written under a temporary name by now
            assert any(".partial-" in p.name for p in previous_build.iterdir())
            process.send_signal(signal.SIGTERM)
            break
    rest, _ = process.communicate(timeout=120)
    assert process.returncode == 130
    assert _events(rest)[-1]["kind"] == "cancelled"
    assert _snapshot(previous_build) == before


def test_stale_partials_from_a_killed_export_are_removed(tmp_path):
    stale_partial(tmp_path, "CorridorKey.pt").write_bytes(b"half a model")
    (tmp_path / "keep.txt").write_text("unrelated")
    files.remove_partials(str(tmp_path), ["CorridorKey.pt", "CorridorKey.json"])  # what export() runs first
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.txt"]


def test_files_are_readable_by_others(exported_model):
    if os.name != "posix":
        pytest.skip("permission bits are POSIX")
    umask = os.umask(0)
    os.umask(umask)
    for path in (exported_model.pt, exported_model.manifest):
        assert path.stat().st_mode & 0o777 == 0o666 & ~umask


def test_demo_checkpoint_command_writes_a_loadable_checkpoint(tmp_path, capsys):
    from exporter.checkpoint import load_into, read_state_dict
    from exporter.demo_checkpoint import main
    from exporter.scripted.network import GreenFormer

    target = tmp_path / "sub" / "random.pth"
    assert main([str(target), "--resolution", "64"]) == 0
    assert "NOT a trained model" in capsys.readouterr().out
    load_into(GreenFormer(SMALL_RESOLUTION), read_state_dict(str(target)))  # pos_embed resized 64 -> 128


@pytest.mark.parametrize("resolution", ["0", "-64", "100", "1048576"])
def test_demo_checkpoint_command_refuses_unusable_resolutions(tmp_path, capsys, resolution):
    from exporter.demo_checkpoint import main

    with pytest.raises(SystemExit) as caught:
        main([str(tmp_path / "random.pth"), "--resolution", resolution])
    assert caught.value.code == 2 and "from 64 to 4096" in capsys.readouterr().err
    assert not (tmp_path / "random.pth").exists()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the allocator setting is glibc's")
def test_heap_retention_limit_applies_on_linux():
    from exporter.memory import limit_heap_retention

    assert limit_heap_retention() is True
