"""The exporter as the Nuke side runs it: ``python -m exporter ... --progress json`` in the export environment's
interpreter, with the plugin folder as working directory, its progress streamed and its result checked.

Cancel ends the exporter politely first (it turns that into its own clean-up); the partial files a forced kill
could leave are removed here, by the naming both sides share (nuke_plugin.contract.files).

Pure Python 3.9+ (no Nuke, no torch).
"""
from __future__ import annotations

import os
from typing import Callable, List, Optional, Sequence

from ..contract import manifest_schema
from ..contract.files import remove_partials
from ..contract.progress import INTERNAL, Event
from ..core.paths import plugin_root
from .process import DONE, FAILED, CommandOutcome, run_streaming


def exporter_present(root: Optional[str] = None) -> bool:
    root = root or plugin_root()
    return os.path.isfile(os.path.join(root, "exporter", "__main__.py"))


def build_export_command(python: str, checkpoint: str, output_pt: str, resolution: int,
                         *, progress: str = "json", extra: Sequence[str] = ()) -> List[str]:
    """The exporter command line (documented CLI: see the README and exporter/cli.py)."""
    return [python, "-m", "exporter", "--checkpoint", checkpoint, "--output", output_pt,
            "--resolution", str(int(resolution)), "--progress", progress] + list(extra)


def target_args(torch_target: str) -> List[str]:
    """Exporter options recording the Nuke a build is for (its manifest keeps it beside the real torch)."""
    return ["--target-nuke", torch_target] if torch_target else []


def remove_export_partials(output_pt: str) -> List[str]:
    """Deletes the exporter's temporary files for this output (left only if it was killed outright)."""
    folder = os.path.dirname(os.path.abspath(output_pt))
    names = [os.path.basename(output_pt), os.path.basename(manifest_schema.path_for(output_pt))]
    return remove_partials(folder, names)


def run_export(python: str, checkpoint: str, output_pt: str, resolution: int,
               on_event: Callable[[Event], None], *, is_cancelled: Callable[[], bool] = lambda: False,
               root: Optional[str] = None, grace: float = 10.0, extra: Sequence[str] = ()) -> CommandOutcome:
    """The export as Build Model runs it: JSON progress, cwd = plugin root, a checked result."""
    root = root or plugin_root()
    if not exporter_present(root):
        return CommandOutcome(FAILED, "The exporter is missing: %s has no exporter/ folder. Reinstall the "
                                      "CorridorKey plugin folder as a whole." % root, kind="launch")
    argv = build_export_command(python, checkpoint, output_pt, resolution, progress="json", extra=extra)
    outcome = run_streaming(argv, on_event, is_cancelled=is_cancelled, cwd=root, grace=grace)
    if outcome.status != DONE:
        remove_export_partials(output_pt)
        return outcome
    missing = [p for p in (outcome.pt, outcome.manifest) if not p or not os.path.isfile(p)]
    if outcome.pt is None or missing:
        outcome.status = FAILED
        outcome.kind = INTERNAL
        outcome.message = ("The exporter reported success but its files are missing (%s). Please report this "
                           "with the log." % ", ".join(str(m) for m in missing))
    return outcome

