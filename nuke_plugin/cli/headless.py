"""Headless builds for farms and CI: ``python -m nuke_plugin.headless --checkpoint CK.pth --output-dir DIR``.

Always builds the .pt and its manifest (runs the exporter, in this Python or --python). Given a NukeX executable
(--nuke), it then runs Nuke with ``--nukex -i`` and nuke_plugin/host/nuke_build_script.py to press CatFileCreator's
createCatFile and install the gizmo: under ``-t`` that button does nothing. Exit codes follow the exporter's:
0 done, 1 internal error, 2 something the user can fix, 130 cancelled (Ctrl+C).

No Nuke and no Qt needed; Python 3.9+.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from typing import Any, Callable, Dict, List, Optional, Sequence

from .. import contract
from ..contract import progress
from ..contract.exits import EXIT_CANCELLED, EXIT_INTERNAL, EXIT_OK, EXIT_USER
from ..contract.files import atomic_write, read_json
from ..contract.torch_targets import parse_torch_target
from ..core.cattery import resolve_install_dir, studio_root
from ..core.paths import plugin_root
from ..core.settings import DEFAULT_RESOLUTION, load_settings
from ..core.staging import install_folder_problem
from ..runner import env_probe, exporter_client, nuke_launcher, process

DEFAULT_NUKE_FLAGS = nuke_launcher.DEFAULT_NUKE_FLAGS
RESULT_SIZE_LIMIT = 16 << 20  # the build script's result record: a few paths and at most a traceback
# Run by NukeX as a file (never imported here: it is the host layer's, and imports `nuke`).
BUILD_SCRIPT = os.path.join(plugin_root(), "nuke_plugin", "host", "nuke_build_script.py")


def _resolution(text: str) -> int:
    """An argparse type: a model size the exporter and the Nuke side both accept."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("%r is not a whole number of pixels, e.g. 2048" % text)
    problem = contract.resolution_problem(value)
    if problem:
        raise argparse.ArgumentTypeError("%s. Use a multiple of %d from %d to %d, e.g. 2048, 1536 or 1024"
                                         % (problem, contract.RESOLUTION_MULTIPLE, contract.MIN_RESOLUTION,
                                            contract.MAX_RESOLUTION))
    return value


def parse_args(argv: Optional[Sequence[str]]) -> argparse.Namespace:
    settings = load_settings()
    parser = argparse.ArgumentParser(
        prog="python -m nuke_plugin.headless",
        description="Build CorridorKey for Nuke without the GUI: the TorchScript .pt and manifest always; the .cat "
                    "and installed gizmo too when --nuke names a NukeX executable.")
    parser.add_argument("--checkpoint", default=settings.checkpoint or None,
                        help="CorridorKey .pth checkpoint (default: CORRIDORKEY_CHECKPOINT / your settings)")
    parser.add_argument("--output-dir", default=settings.resolved_build_dir(),
                        help="folder for %s and %s (default: %%(default)s)" % (contract.PT_NAME,
                                                                             contract.MANIFEST_NAME))
    parser.add_argument("--resolution", type=_resolution, default=settings.resolution or DEFAULT_RESOLUTION,
                        help="model resolution: a multiple of %d from %d to %d; %d is native, 1536 or 1024 need "
                             "less memory (default: %%(default)s)" % (contract.RESOLUTION_MULTIPLE,
                                                                      contract.MIN_RESOLUTION, contract.MAX_RESOLUTION,
                                                                      contract.NATIVE_RESOLUTION))
    parser.add_argument("--python", default=None,
                        help="interpreter with torch + timm for the export (default: CORRIDORKEY_PYTHON, your "
                             "settings, a CorridorKey environment, else this Python)")
    parser.add_argument("--target", default=settings.torch_target,
                        help="the Nuke the build is for, e.g. 16, 15.1, 14 (checks the export torch; "
                             "default: %(default)s)")
    parser.add_argument("--nuke", default=None,
                        help="NukeX executable: also build the .cat and install the gizmo")
    parser.add_argument("--nuke-flags", default=" ".join(DEFAULT_NUKE_FLAGS),
                        help="flags for Nuke before our script (default: %(default)s)")
    parser.add_argument("--install-dir", default=settings.install_dir or None,
                        help="where the gizmo and .cat are installed (default: the plugin's default)")
    parser.add_argument("--force", action="store_true", help="replace an existing .cat without asking")
    parser.add_argument("--nuke-timeout", type=nuke_launcher.seconds, default=900.0,
                        help="seconds to allow Nuke (default 900)")
    parser.add_argument("--skip-probe", action="store_true", help="do not check the export Python first")
    return parser.parse_args(argv)


def setup_problem(args: argparse.Namespace) -> Optional[str]:
    """What is wrong with the command line that can be told before the minutes-long export, or None."""
    if not os.path.isfile(args.checkpoint):
        return "--checkpoint %s: no such file. Give the CorridorKey .pth checkpoint you downloaded." % (
            args.checkpoint)
    for option, folder in (("--output-dir", args.output_dir), ("--install-dir", args.install_dir)):
        if folder and os.path.exists(folder) and not os.path.isdir(folder):
            return "%s %s is a file, not a folder. Give a folder (it is created if missing)." % (option, folder)
    if args.nuke:
        try:
            args.nuke = nuke_launcher.find_nuke(args.nuke)
        except ValueError as exc:
            return str(exc)
        return nuke_launcher.flags_problem(args.nuke_flags) or install_folder_problem(
            resolve_install_dir(args.install_dir), studio=studio_root())
    return None


def choose_python(requested: Optional[str]) -> str:
    if requested:
        return requested
    python, _why = env_probe.locate_interpreter(load_settings())
    return python or sys.executable


def build_nuke_command(nuke: str, job_path: str, flags: Sequence[str] = DEFAULT_NUKE_FLAGS,
                       script: str = BUILD_SCRIPT) -> List[str]:
    """``Nuke --nukex -i nuke_build_script.py JOB.json`` (the job file last, so Nuke takes no number as frames)."""
    return nuke_launcher.nuke_command(nuke, flags, script, job_path)


def write_job(folder: str, pt: str, manifest: str, install_dir: Optional[str], overwrite: bool,
              root: Optional[str] = None) -> str:
    """The job file for the build script, in `folder` (this run's own temporary folder). `root`: the plugin folder
    the build script imports (default: this one)."""
    path = os.path.join(folder, "corridorkey-job.json")
    job: Dict[str, Any] = {"pt": os.path.abspath(pt), "manifest": os.path.abspath(manifest), "install_dir": install_dir,
                           "overwrite": overwrite, "plugin_root": root or plugin_root(),
                           "result": os.path.splitext(path)[0] + ".result.json"}
    return atomic_write(path, json.dumps(job, indent=2))


def event_printer(stream: Any = None) -> Callable[[Dict[str, Any]], None]:
    """Prints the exporter's stage and log events; into a log (no terminal: a farm's, CI's) one line per stage or
    per 5 % (progress.LineThrottle), not one per heartbeat."""
    out = stream or sys.stdout
    lines = None if progress.is_terminal(out) else progress.LineThrottle()

    def show(event: Dict[str, Any]) -> None:
        if event.get("event") in (progress.STAGE, progress.LOG) and (lines is None or lines.admit(event)):
            out.write(progress.describe(event) + "\n")
            out.flush()
    return show


def run_nuke_build(nuke: str, flags: Sequence[str], pt: str, manifest: str, install_dir: Optional[str],
                   overwrite: bool, timeout: float, cancelled: Any = lambda: False,
                   root: Optional[str] = None) -> Dict[str, Any]:
    """Runs NukeX on our build script and returns its result record (status, message, details). `root`: the
    plugin folder whose build script runs (default: this one; a studio install runs its own copy)."""
    folder = tempfile.mkdtemp(prefix="corridorkey-nuke-")
    try:
        return _run_job(folder, nuke, flags, pt, manifest, install_dir, overwrite, timeout, cancelled, root)
    finally:
        shutil.rmtree(folder, ignore_errors=True)  # the job and result files: nothing to keep after the run


def _run_job(folder: str, nuke: str, flags: Sequence[str], pt: str, manifest: str, install_dir: Optional[str],
             overwrite: bool, timeout: float, cancelled: Any, root: Optional[str] = None) -> Dict[str, Any]:
    job = write_job(folder, pt, manifest, install_dir, overwrite, root)
    result_path = os.path.splitext(job)[0] + ".result.json"
    script = os.path.join(root, "nuke_plugin", "host", "nuke_build_script.py") if root else BUILD_SCRIPT
    ran = nuke_launcher.run_nuke(build_nuke_command(nuke, job, flags, script), timeout, cancelled)
    if ran.status == nuke_launcher.CANCELLED:
        return {"status": "cancelled", "message": "cancelled: Nuke was stopped"}
    if os.path.isfile(result_path):
        try:
            result = read_json(result_path, RESULT_SIZE_LIMIT)
        except (OSError, ValueError) as exc:
            result = "the build script's result cannot be read (%s)" % exc
        if isinstance(result, dict) and isinstance(result.get("status"), str):
            return result
        return {"status": "failed", "kind": "internal", "message": str(result)}
    detail = ran.message + (": " + "\n".join(ran.stderr_tail.splitlines()[-8:]) if ran.stderr_tail else "")
    return {"status": "failed", "kind": "launch" if ran.status == nuke_launcher.NOT_STARTED else "internal",
            "message": "Nuke %s without running the build script to its end. Check the licence (NukeX) and that %s "
                       "starts NukeX by hand." % (detail, process.format_command([nuke] + list(flags)))}


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    if not args.checkpoint:
        print("ERROR: --checkpoint is required (or set CORRIDORKEY_CHECKPOINT).", file=sys.stderr)
        return EXIT_USER
    try:
        target = parse_torch_target(args.target)
    except ValueError as exc:
        print("ERROR: --target: %s" % exc, file=sys.stderr)
        return EXIT_USER
    problem = setup_problem(args)
    if problem:
        print("ERROR: " + problem, file=sys.stderr)
        return EXIT_USER
    python = choose_python(args.python)
    if not args.skip_probe:
        probed = env_probe.probe(python, target)
        for warning in probed.warnings:
            print("WARNING: " + warning, file=sys.stderr)
        if not probed.ok:
            print("ERROR: the export Python is not ready.\n" + probed.report(), file=sys.stderr)
            return EXIT_USER
    output_pt = os.path.join(os.path.abspath(args.output_dir), contract.PT_NAME)
    print("Exporting %s -> %s at %d with %s" % (args.checkpoint, output_pt, args.resolution, python), flush=True)
    with nuke_launcher.CancelOnSignals() as ctrl_c:
        outcome = exporter_client.run_export(python, args.checkpoint, output_pt, args.resolution, event_printer(),
                                           ctrl_c.flag.is_set, extra=exporter_client.target_args(target.key))
        if outcome.status == process.CANCELLED:
            print(outcome.message, file=sys.stderr)
            return EXIT_CANCELLED
        if not outcome.ok:
            print("ERROR: " + outcome.message, file=sys.stderr)
            if outcome.kind == "crash" and outcome.stderr_tail:
                print(outcome.stderr_tail, file=sys.stderr)
            return EXIT_USER if outcome.kind in ("user", "launch") else EXIT_INTERNAL
        print("Exported %s and %s" % (outcome.pt, outcome.manifest), flush=True)
        if not args.nuke:
            print("No --nuke given: build the .cat in NukeX with CorridorKey > Build Model, or rerun with "
                  "--nuke /path/to/Nuke.", flush=True)
            return EXIT_OK
        result = run_nuke_build(args.nuke, args.nuke_flags.split(), str(outcome.pt), str(outcome.manifest),
                                args.install_dir, args.force, args.nuke_timeout, ctrl_c.flag.is_set)
    if result.get("status") == "cancelled":
        return EXIT_CANCELLED
    if result.get("status") != "done":
        print("ERROR: building the .cat in Nuke failed: %s" % result.get("message"), file=sys.stderr)
        if result.get("traceback"):
            print(result["traceback"], file=sys.stderr)
        return EXIT_USER if result.get("kind") in ("user", "launch") else EXIT_INTERNAL
    print("Built and installed: %s" % json.dumps(result.get("details"), default=str), flush=True)
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
