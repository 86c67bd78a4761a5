"""The studio install: ``python -m nuke_plugin.studio /shared/CorridorKey --checkpoint CK.pth --nuke NUKE ...``.

Lays out one shared folder that every workstation and render node puts on NUKE_PATH (core.studio): copies the
plugin into it, exports the checkpoint once per torch the given Nukes need, builds each Nuke's .cat in that Nuke
(``--nukex -i`` and the folder's own build script, as `python -m nuke_plugin.headless` does) so that each major
version gets its own build of one build ID, then prints what the folder holds and the exact NUKE_PATH lines for
Linux, macOS and Windows. Run it again with another --nuke to add a Nuke; a Nuke whose build is there already is
skipped unless --force. Without --nuke it only lays out the plugin (Build Model in each NukeX then adds the builds).

Everything the TD can get wrong is checked before the minutes-long export. Exit codes: 0 done, 1 internal error,
2 something the user can fix, 130 cancelled (Ctrl+C). No Nuke and no Qt needed; Python 3.9+.
"""
from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

from .. import contract
from ..contract import builds
from ..contract.exits import EXIT_CANCELLED, EXIT_INTERNAL, EXIT_OK, EXIT_USER
from ..contract.files import sha256_of
from ..contract.knob_spec import KNOBS
from ..contract.torch_targets import TorchTarget, torch_target_for_nuke
from ..core.cattery import InstallLayout
from ..core.errors import ManifestError
from ..core.manifest import read_manifest
from ..core.paths import plugin_root
from ..core.settings import DEFAULT_RESOLUTION, load_settings, path_problem
from ..core.staging import install_folder_problem
from ..core.studio import (
    LINUX,
    MACOS,
    WINDOWS,
    NukeVersion,
    copy_plugin,
    copy_problem,
    default_paths,
    nuke_path_lines,
    parse_nuke_spec,
)
from ..runner import env_probe, exporter_client, nuke_launcher, process
from . import headless

FARM_NOTE = ("Render nodes: Nuke renders Inference on the GPU from the command line only when started with --gpu "
             "(Deadline: plugin info UseGpu=True; the others in docs/artist_guide.md, section 5, The GPU on the farm). "
             "Plain Nuke (a render licence) renders the node; only Build Model needs NukeX.")


@dataclass(frozen=True)
class NukeToBuild:
    version: NukeVersion
    path: str

    @property
    def target(self) -> TorchTarget:
        return torch_target_for_nuke(self.version.major, self.version.minor)


def parse_args(argv: Optional[Sequence[str]]) -> argparse.Namespace:
    settings = load_settings()
    parser = argparse.ArgumentParser(
        prog="python -m nuke_plugin.studio",
        description="Lay out a shared CorridorKey folder for a studio: the plugin and one build per Nuke major "
                    "version, for every workstation and render node to put on NUKE_PATH.")
    parser.add_argument("studio_dir", help="the shared folder (created if missing); it goes on NUKE_PATH")
    parser.add_argument("--nuke", action="append", default=[], metavar="[VERSION=]PATH",
                        help="a NukeX executable to build in; repeat it, one per Nuke major version. Its version is "
                             "read from its path (Nuke16.0v2/Nuke16.0); else give it, e.g. 15.0v4=/opt/nuke15/Nuke")
    parser.add_argument("--checkpoint", default=settings.checkpoint or None,
                        help="CorridorKey .pth checkpoint (default: CORRIDORKEY_CHECKPOINT / your settings)")
    parser.add_argument("--resolution", type=headless._resolution, default=settings.resolution or DEFAULT_RESOLUTION,
                        help="model resolution (default: %(default)s)")
    parser.add_argument("--python", default=None, help="interpreter with torch + timm for the export (default: as "
                                                        "for python -m nuke_plugin.headless)")
    parser.add_argument("--export-dir", default=os.path.join(settings.resolved_build_dir(), "studio"),
                        help="where the exports go, one folder per torch; a matching export there is reused "
                             "(default: %(default)s)")
    parser.add_argument("--nuke-flags", default=" ".join(headless.DEFAULT_NUKE_FLAGS),
                        help="flags for Nuke before the build script (default: %(default)s)")
    parser.add_argument("--nuke-timeout", type=nuke_launcher.seconds, default=900.0,
                        help="seconds to allow each Nuke (default 900)")
    parser.add_argument("--force", action="store_true",
                        help="rebuild a Nuke's build that is there already, and replace a build of another "
                             "checkpoint or resolution in the folder")
    parser.add_argument("--skip-probe", action="store_true", help="do not check the export Python first")
    parser.add_argument("--linux-path", default=None, help="the folder as Linux machines mount it")
    parser.add_argument("--mac-path", default=None, help="the folder as Macs mount it")
    parser.add_argument("--windows-path", default=None, help="the folder as Windows machines see it")
    return parser.parse_args(argv)


def nukes_to_build(specs: Sequence[str]) -> Tuple[List[NukeToBuild], Optional[str]]:
    """The --nuke options read and checked: (Nukes sorted by version, None) or ([], what is wrong)."""
    found: Dict[int, NukeToBuild] = {}
    for spec in specs:
        version, path = parse_nuke_spec(spec)
        try:
            path = nuke_launcher.find_nuke(path)
        except ValueError as exc:
            return [], str(exc)
        if version is None:
            return [], ("--nuke %s: its path does not say which Nuke it is. Give the version first, e.g. "
                        "--nuke 16.0v2=%s" % (spec, path))
        nuke = NukeToBuild(version, path)
        if not nuke.target.supported:
            return [], "--nuke %s: Nuke %s is not supported. %s" % (spec, version.text, nuke.target.note)
        other = found.get(version.major)
        if other is not None:
            return [], ("--nuke: Nuke %s and Nuke %s are both Nuke %d, and a folder holds one build per major version. "
                        "Give the oldest release your studio runs: its build loads in that release and every newer "
                        "one of the same major version." % (other.version.text, version.text, version.major))
        found[version.major] = nuke
    return [found[m] for m in sorted(found)], None


def expected_build_id(checkpoint: str, resolution: int) -> int:
    return builds.build_id(contract.MODEL_ID, sha256_of(checkpoint), resolution, [k.name for k in KNOBS])


def setup_problem(args: argparse.Namespace, nukes: List[NukeToBuild], studio: str) -> Optional[str]:
    """What is wrong that can be told before anything is copied or exported, or None."""
    problem = path_problem(args.studio_dir)
    if problem:
        return "%r is not a usable folder: %s." % (args.studio_dir, problem)
    if os.path.exists(studio) and not os.path.isdir(studio):
        return "%s is a file, not a folder. Give the shared folder to lay out (it is created if missing)." % studio
    problem = install_folder_problem(studio) or copy_problem(plugin_root(), studio)
    if problem:
        return problem
    if not nukes:
        return None
    problem = nuke_launcher.flags_problem(args.nuke_flags)
    if problem:
        return problem
    if not args.checkpoint:
        return "--checkpoint is required to build (or set CORRIDORKEY_CHECKPOINT)."
    if not os.path.isfile(args.checkpoint):
        return "--checkpoint %s: no such file. Give the CorridorKey .pth checkpoint you downloaded." % args.checkpoint
    if os.path.exists(args.export_dir) and not os.path.isdir(args.export_dir):
        return "--export-dir %s is a file, not a folder." % args.export_dir
    return None


def other_builds_problem(studio: str, build: int, force: bool) -> Optional[str]:
    others = [s for b, s in sorted(InstallLayout(studio).build_sets().items()) if b != build]
    if not others or force:
        return None
    return ("%s holds %s; this checkpoint at this resolution is build %d. Pass --force to replace it (scripts keyed "
            "with the old build then stop with an error until they are keyed with the new one), or choose another "
            "folder." % (studio, " and ".join(s.describe() for s in others), build))


def reusable_export(folder: str, build: int) -> Optional[str]:
    """The manifest of a finished export of build `build` in `folder`, else None."""
    try:
        manifest = read_manifest(folder)
        manifest.verify_model_file()
    except ManifestError:
        return None
    return manifest.path if manifest.build_id == build else None


def export_for(target: TorchTarget, args: argparse.Namespace, python: str, build: int,
               cancelled: nuke_launcher.CancelOnSignals) -> Tuple[Optional[Tuple[str, str]], int]:
    """((pt, manifest), EXIT_OK) of an export for `target`, reused or made now; (None, exit status) on failure."""
    folder = os.path.join(os.path.abspath(args.export_dir), target.key)
    found = reusable_export(folder, build)
    if found:
        print("Reusing the export in %s (build %d)" % (folder, build), flush=True)
        return (os.path.join(folder, contract.PT_NAME), found), EXIT_OK
    if not args.skip_probe:
        probed = env_probe.probe(python, target)
        for warning in probed.warnings:
            print("WARNING: " + warning, file=sys.stderr)
        if not probed.ok:
            print("ERROR: the export Python is not ready for %s.\n%s" % (target.nuke, probed.report()),
                  file=sys.stderr)
            return None, EXIT_USER
    output_pt = os.path.join(folder, contract.PT_NAME)
    print("Exporting %s -> %s at %d for %s with %s" % (args.checkpoint, output_pt, args.resolution, target.nuke,
                                                        python), flush=True)
    outcome = exporter_client.run_export(python, args.checkpoint, output_pt, args.resolution, headless.event_printer(),
                                       cancelled.flag.is_set, extra=exporter_client.target_args(target.key))
    if outcome.status == process.CANCELLED:
        print(outcome.message, file=sys.stderr)
        return None, EXIT_CANCELLED
    if not outcome.ok or outcome.pt is None or outcome.manifest is None:
        print("ERROR: " + outcome.message, file=sys.stderr)
        if outcome.kind == "crash" and outcome.stderr_tail:
            print(outcome.stderr_tail, file=sys.stderr)
        return None, EXIT_USER if outcome.kind in ("user", "launch") else EXIT_INTERNAL
    return (str(outcome.pt), str(outcome.manifest)), EXIT_OK


def build_all(args: argparse.Namespace, nukes: List[NukeToBuild], studio: str, build: int) -> int:
    layout = InstallLayout(studio)
    python = headless.choose_python(args.python)
    exports: Dict[str, Tuple[str, str]] = {}
    with nuke_launcher.CancelOnSignals() as cancel:
        for nuke in nukes:
            existing = layout.build_sets().get(build)
            slot = existing.slot(nuke.version.major) if existing is not None else None
            if slot is not None and not args.force:
                print("Nuke %d: build %d is there already (%s); --force builds it again."
                      % (nuke.version.major, build, slot.label), flush=True)
                continue
            key = nuke.target.key
            if key not in exports:
                made, status = export_for(nuke.target, args, python, build, cancel)
                if made is None:
                    return status
                exports[key] = made
            pt, manifest = exports[key]
            print("Building the .cat in Nuke %s (%s)" % (nuke.version.text, nuke.path), flush=True)
            result = headless.run_nuke_build(nuke.path, args.nuke_flags.split(), pt, manifest, studio, args.force,
                                             args.nuke_timeout, cancel.flag.is_set, root=studio)
            if result.get("status") == "cancelled":
                return EXIT_CANCELLED
            if result.get("status") != "done":
                print("ERROR: building the .cat in Nuke %s failed: %s" % (nuke.version.text, result.get("message")),
                      file=sys.stderr)
                if result.get("traceback"):
                    print(result["traceback"], file=sys.stderr)
                return EXIT_USER if result.get("kind") in ("user", "launch") else EXIT_INTERNAL
    return EXIT_OK


def status_lines(studio: str, paths: Dict[str, Optional[str]]) -> List[str]:
    """What the folder holds, for each Nuke, and the lines that put it on NUKE_PATH."""
    lines = ["Studio folder: %s" % studio]
    sets = InstallLayout(studio).build_sets()
    if not sets:
        lines.append("No build yet: run CorridorKey > Build Model in each NukeX (it installs here when you may write "
                     "here), or run this again with --checkpoint and --nuke.")
    for build_set in sets.values():
        lines.append("Build %d:" % build_set.build_id)
        lines += ["  %s" % slot.label for slot in build_set.slots]
    if sets:
        lines.append("A Nuke of another major version shows an error on the node (no build for it); add its build "
                     "with --nuke, or Build Model in that Nuke.")
    lines.append("Put the folder first on NUKE_PATH on every workstation and render node (nothing else is needed: "
                 "no ~/.nuke edits, no CorridorKey variables):")
    lines += ["  " + line for line in nuke_path_lines(paths)]
    lines.append(FARM_NOTE)
    return lines


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    studio = os.path.abspath(os.path.expanduser(args.studio_dir))
    nukes, problem = nukes_to_build(args.nuke)
    problem = problem or setup_problem(args, nukes, studio)
    build = 0
    if not problem and nukes:
        build = expected_build_id(args.checkpoint, args.resolution)
        problem = other_builds_problem(studio, build, args.force)
    if problem:
        print("ERROR: " + problem, file=sys.stderr)
        return EXIT_USER
    try:
        os.makedirs(studio, exist_ok=True)
        written = copy_plugin(plugin_root(), studio)
    except OSError as exc:
        print("ERROR: copying the plugin into %s failed: %s" % (studio, exc), file=sys.stderr)
        return EXIT_USER
    print("Plugin %s in %s (%d files written, the rest unchanged)" % (contract.VERSION, studio, len(written)),
          flush=True)
    status = build_all(args, nukes, studio, build) if nukes else EXIT_OK
    paths = default_paths(studio, {LINUX: args.linux_path, MACOS: args.mac_path, WINDOWS: args.windows_path})
    print("\n".join(status_lines(studio, paths)), flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
