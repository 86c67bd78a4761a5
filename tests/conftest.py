"""Shared fixtures: one small random-weight checkpoint and one real export of it, made once per session (the
export tier); the stand-in export and exporter for the Nuke side's tests (the fast tier). tests/tiers.py assigns
each test its tier."""
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest

pytest_plugins = ["tests.fake_nuke.plugin", "tests.tiers"]

SMALL_RESOLUTION = 128


@dataclass(frozen=True)
class ExportedModel:
    pt: Path
    manifest: Path
    checkpoint: Path
    directory: Path
    resolution: int
    events: Tuple[Dict[str, Any], ...] = ()  # the exporter's progress events, as the Nuke side read them


def make_checkpoint(path: Path, resolution: int, seed: int = 0, wrap: bool = False, compiled_prefix: bool = False):
    """Saves a random-weight CorridorKey state dict the way upstream's training would."""
    from exporter.demo_checkpoint import make_random_checkpoint

    return make_random_checkpoint(path, resolution, seed, wrap, compiled_prefix)


@pytest.fixture(scope="session")
def small_checkpoint(tmp_path_factory) -> Path:
    return make_checkpoint(tmp_path_factory.mktemp("checkpoint") / "CorridorKey.pth", SMALL_RESOLUTION)


@pytest.fixture(scope="session")
def exported_model(tmp_path_factory, small_checkpoint) -> ExportedModel:
    """A real export at a small resolution, run as Build Model runs it: the exporter's command line in this
    interpreter, through the Nuke side's runner, its events kept (tests/runner/test_process.py reads them). One
    real export serves the whole session. Read-only: copy it before changing anything."""
    from nuke_plugin.runner import exporter_client

    directory = tmp_path_factory.mktemp("export")
    events: List[Dict[str, Any]] = []
    outcome = exporter_client.run_export(sys.executable, str(small_checkpoint), str(directory / "CorridorKey.pt"),
                                         SMALL_RESOLUTION, events.append)
    assert outcome.ok and outcome.pt and outcome.manifest, outcome.message + "\n" + outcome.stderr_tail
    return ExportedModel(Path(outcome.pt), Path(outcome.manifest), small_checkpoint, directory, SMALL_RESOLUTION,
                         tuple(events))


@pytest.fixture(scope="session")
def stand_in_export(tmp_path_factory) -> ExportedModel:
    """An export as the exporter leaves it, made without torch: the shipped self-test model as CorridorKey.pt with
    its exporter-written manifest (tests/stand_in_exporter.py), and a stand-in checkpoint beside it. For the Nuke
    side's tests (the fast tier). Read-only: copy it before changing anything."""
    from nuke_plugin import contract
    from tests import stand_in_exporter

    checkpoint = tmp_path_factory.mktemp("stand_in_checkpoint") / "CorridorKey.pth"
    checkpoint.write_bytes(b"a stand-in checkpoint: nothing loads it")
    directory = tmp_path_factory.mktemp("stand_in_export")
    pt, manifest = stand_in_exporter.write_export(str(directory / contract.PT_NAME), checkpoint=str(checkpoint))
    resolution = json.loads(Path(manifest).read_text(encoding="utf-8"))["resolution"]
    return ExportedModel(Path(pt), Path(manifest), checkpoint, directory, resolution)


@pytest.fixture
def stand_in_exporter(tmp_path):
    """Factory: stand_in_exporter(behaviour="success", message="") -> the path of an executable that stands in
    for the export interpreter (tests/stand_in_exporter.py lists the behaviours); its calls are in
    stand_in_exporter.calls(folder of that path)."""
    if os.name == "nt":
        pytest.skip("the stand-in exporter is a shell script")
    from tests import stand_in_exporter as stand_in

    def make(behaviour="success", message=""):
        return stand_in.install(str(tmp_path / "stand-in"), behaviour, message)

    return make


def stale_partial(folder: Path, final_name: str, keep_suffix: bool = False) -> Path:
    """A partial file left by a process that has ended (a killed export): made by a real child process."""
    import subprocess
    import sys

    code = ("import sys; from nuke_plugin.contract.files import new_partial; "
            "print(new_partial(sys.argv[1], sys.argv[2], keep_suffix=sys.argv[3] == '1'))")
    out = subprocess.run([sys.executable, "-c", code, str(folder), final_name, "1" if keep_suffix else "0"],
                         cwd=str(Path(__file__).resolve().parents[1]), capture_output=True, text=True, check=True)
    return Path(out.stdout.strip())
