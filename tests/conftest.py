"""Shared fixtures: one small random-weight checkpoint and one real export of it, made once per session."""
from dataclasses import dataclass
from pathlib import Path

import pytest

pytest_plugins = ["tests.fake_nuke.plugin"]

SMALL_RESOLUTION = 128


@dataclass(frozen=True)
class ExportedModel:
    pt: Path
    manifest: Path
    checkpoint: Path
    directory: Path
    resolution: int


def make_checkpoint(path: Path, resolution: int, seed: int = 0, wrap: bool = False, compiled_prefix: bool = False):
    """Saves a random-weight CorridorKey state dict the way upstream's training would."""
    from exporter.demo_checkpoint import make_random_checkpoint

    return make_random_checkpoint(path, resolution, seed, wrap, compiled_prefix)


@pytest.fixture(scope="session")
def small_checkpoint(tmp_path_factory) -> Path:
    return make_checkpoint(tmp_path_factory.mktemp("checkpoint") / "CorridorKey.pth", SMALL_RESOLUTION)


@pytest.fixture(scope="session")
def exported_model(tmp_path_factory, small_checkpoint) -> ExportedModel:
    """A real export at a small resolution. Read-only: copy it before changing anything."""
    from exporter.export import export

    directory = tmp_path_factory.mktemp("export")
    result = export(str(small_checkpoint), str(directory / "CorridorKey.pt"), SMALL_RESOLUTION)
    return ExportedModel(Path(result.pt), Path(result.manifest), small_checkpoint, directory, SMALL_RESOLUTION)


def stale_partial(folder: Path, final_name: str, keep_suffix: bool = False) -> Path:
    """A partial file left by a process that has ended (a killed export): made by a real child process."""
    import subprocess
    import sys

    code = ("import sys; from nuke_plugin.contract.files import new_partial; "
            "print(new_partial(sys.argv[1], sys.argv[2], keep_suffix=sys.argv[3] == '1'))")
    out = subprocess.run([sys.executable, "-c", code, str(folder), final_name, "1" if keep_suffix else "0"],
                         cwd=str(Path(__file__).resolve().parents[1]), capture_output=True, text=True, check=True)
    return Path(out.stdout.strip())
