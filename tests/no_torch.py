"""Runs a command as on a Python without the export packages: a bare `python`, Nuke's own.

Why blocked instead of a second interpreter: CI installs everything into one clean environment, so the only
interpreter a test can count on is the one running it. A `sitecustomize` on PYTHONPATH makes `import torch` (or
timm) fail there the way it fails where the package is absent, in that process and every Python it starts.
"""
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def env_without(folder: Path, *packages: str) -> dict:
    """os.environ for a subprocess in which importing any of `packages` raises ModuleNotFoundError."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sitecustomize.py").write_text(
        "import sys\nsys.modules.update(dict.fromkeys(%r))\n" % (packages,), encoding="utf-8")
    path = os.pathsep.join(filter(None, [str(folder), str(ROOT), os.environ.get("PYTHONPATH")]))
    return dict(os.environ, PYTHONPATH=path)
