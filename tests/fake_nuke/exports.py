"""Helpers for tests that need a variant of an export folder without touching the shared (read-only) one."""
import json
import os
import shutil
from pathlib import Path
from typing import Any, Callable, Dict, Optional


def link_or_copy(source: Path, target: Path) -> None:
    """A hard link when possible (the .pt is large and only read), else a copy."""
    try:
        os.link(str(source), str(target))
    except OSError:
        shutil.copyfile(str(source), str(target))


def clone_export(manifest: Path, target: Path, edit: Optional[Callable[[Dict[str, Any]], None]] = None) -> Path:
    """Copies an export folder's manifest (changed by `edit`) and links its .pt into `target`; returns `target`."""
    target.mkdir(parents=True, exist_ok=True)
    data = json.loads(Path(manifest).read_text(encoding="utf-8"))
    link_or_copy(Path(manifest).parent / data["model_file"], target / data["model_file"])
    if edit is not None:
        edit(data)
    (target / Path(manifest).name).write_text(json.dumps(data, indent=2), encoding="utf-8")
    return target
