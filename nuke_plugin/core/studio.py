"""A studio install: one shared folder holding the plugin and a build per Nuke major version (pure, no Nuke).

Why one folder: every workstation and render node that has it on NUKE_PATH runs its init.py, which puts its node
folder on the plugin path (host.plugin_path), so the node is found with no ~/.nuke edits and no CorridorKey
variables, and every Nuke loads its own major version's build of one build ID (contract.builds). Nothing in it is
written at render time, so it can be mounted read-only on the farm.

    <studio>/init.py, menu.py, nuke_plugin/, exporter/, README.md, docs/artist_guide.md   the plugin
    <studio>/Cattery/CorridorKey/...                                                       the node and its builds

Here: which files make up the plugin, copying them in all at once, reading a Nuke's version from its path, and the
NUKE_PATH lines to print for each platform. The command is nuke_plugin.cli.studio.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

from ..contract.files import commit_files, existing_mode, open_regular, write_partial
from .staging import copy_of

# What a studio folder needs of the plugin: the start-up files, the Nuke side, the exporter Build Model runs, and
# the guides a TD reads there.
PLUGIN_PARTS = ("init.py", "menu.py", "nuke_plugin", "exporter", "README.md", os.path.join("docs", "artist_guide.md"))
_SKIPPED_DIRS = ("__pycache__",)
_SKIPPED_SUFFIXES = (".pyc", ".pyo")
# Nuke install folders and executables name their version: Nuke16.0v2/Nuke16.0, NukeX14.0v5.app, Nuke15.1.exe.
_NUKE_IN_PATH = re.compile(r"Nuke(?:X|Studio|Indie)?(\d{1,3})\.(\d{1,2})(?:v(\d+))?", re.IGNORECASE)
_VERSION = re.compile(r"^(\d{1,3})\.(\d{1,2})(?:v(\d+))?$")


@dataclass(frozen=True)
class NukeVersion:
    major: int
    minor: int
    release: int = 0

    @property
    def text(self) -> str:
        return "%d.%d" % (self.major, self.minor) + ("v%d" % self.release if self.release else "")


def parse_nuke_spec(spec: str) -> Tuple[Optional[NukeVersion], str]:
    """`--nuke` as given: `VERSION=PATH` (16.0v2=/opt/nuke) or a PATH whose folders name the version. Returns the
    version (None when the path does not name one) and the path."""
    head, sep, tail = spec.partition("=")
    if sep and _VERSION.match(head.strip()):
        match = _VERSION.match(head.strip())
        assert match is not None
        return NukeVersion(int(match.group(1)), int(match.group(2)), int(match.group(3) or 0)), tail
    found = [NukeVersion(int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)) for m in _NUKE_IN_PATH.finditer(spec)]
    if not found:
        return None, spec
    last = found[-1]  # the executable's own name; its folder may add the release (Nuke16.0v2/Nuke16.0)
    return max((v for v in found if (v.major, v.minor) == (last.major, last.minor)), key=lambda v: v.release), spec


def plugin_files(root: str) -> List[str]:
    """The plugin's files under `root`, relative to it, sorted (no bytecode caches)."""
    found = []
    for part in PLUGIN_PARTS:
        path = os.path.join(root, part)
        if os.path.isfile(path):
            found.append(part)
            continue
        for folder, dirs, files in os.walk(path):
            dirs[:] = sorted(d for d in dirs if d not in _SKIPPED_DIRS and not d.startswith("."))
            for name in files:
                if name.endswith(_SKIPPED_SUFFIXES) or name.startswith("."):
                    continue
                found.append(os.path.relpath(os.path.join(folder, name), root))
    return sorted(found)


def _same_bytes(a: str, b: str) -> bool:
    try:
        if os.path.getsize(a) != os.path.getsize(b):
            return False
        with open_regular(a) as left, open_regular(b) as right:
            while True:
                block = left.read(1 << 20)
                if block != right.read(1 << 20):
                    return False
                if not block:
                    return True
    except (OSError, ValueError):
        return False


def copy_plugin(source: str, dest: str) -> List[str]:
    """Copies the plugin from `source` into `dest`, all files or none (each staged beside its final name, then all
    moved at once, so a Nuke starting meanwhile sees the old plugin or the new one). Files already identical are
    left alone. Returns the files it wrote (relative). Raises OSError (CommitError) saying what is in place."""
    staged: List[Tuple[str, str]] = []
    written = []
    try:
        for relative in plugin_files(source):
            src, final = os.path.join(source, relative), os.path.join(dest, relative)
            if os.path.isfile(final) and _same_bytes(src, final):
                continue
            folder = os.path.dirname(final)
            os.makedirs(folder, exist_ok=True)
            mode = existing_mode(src)
            staged.append((write_partial(folder, os.path.basename(final), copy_of(src), mode), final))
            written.append(relative)
        if staged:
            commit_files(staged).finish()
    except BaseException:
        for temp, _final in staged:
            if os.path.lexists(temp):
                os.remove(temp)
        raise
    return written


def copy_problem(source: str, dest: str) -> Optional[str]:
    """Why the plugin cannot be copied from `source` into `dest`, or None (also None when they are one folder)."""
    src, dst = os.path.normcase(os.path.abspath(source)), os.path.normcase(os.path.abspath(dest))
    if src == dst:
        return None
    for part in PLUGIN_PARTS:
        inside = os.path.join(src, part)
        if dst == inside or dst.startswith(inside + os.sep):
            return "the studio folder %s is inside the plugin's own %s; choose a folder outside it" % (dest, part)
    return None


# ---------------------------------------------------------------------------------------------------------------
# NUKE_PATH lines
# ---------------------------------------------------------------------------------------------------------------

LINUX, MACOS, WINDOWS = "linux", "macos", "windows"


def default_paths(studio: str, given: Dict[str, Optional[str]], os_name: str = os.name) -> Dict[str, Optional[str]]:
    """The studio folder's path on each platform: as given, else this machine's for its own kind (POSIX paths for
    Linux and macOS, a Windows path on Windows); None where it cannot be known."""
    paths = dict(given)
    here = os.path.abspath(studio)
    for platform in (LINUX, MACOS) if os_name != "nt" else (WINDOWS,):
        paths[platform] = paths.get(platform) or here
    return paths


def nuke_path_lines(paths: Dict[str, Optional[str]]) -> List[str]:
    """The exact lines that put the studio folder first on NUKE_PATH, for workstations and render nodes alike."""
    lines = []
    linux, mac, windows = paths.get(LINUX), paths.get(MACOS), paths.get(WINDOWS)
    if linux:
        lines += ["Linux (bash/zsh: the render user's environment, a launcher script or /etc/profile.d):",
                  '    export NUKE_PATH="%s${NUKE_PATH:+:$NUKE_PATH}"' % linux]
    else:
        lines += ["Linux: give --linux-path (the folder as Linux machines mount it) to print its line."]
    if mac:
        lines += ["macOS (Terminal and farm: the same export line; Nuke started from the Dock or Finder:)",
                  '    export NUKE_PATH="%s${NUKE_PATH:+:$NUKE_PATH}"' % mac,
                  '    launchctl setenv NUKE_PATH "%s"' % mac]
    else:
        lines += ["macOS: give --mac-path (the folder as Macs mount it) to print its lines."]
    if windows:
        lines += ["Windows (a launcher .bat, or the system's environment variables; PowerShell below):",
                  '    set "NUKE_PATH=%s;%%NUKE_PATH%%"' % windows,
                  '    $env:NUKE_PATH = "%s" + $(if ($env:NUKE_PATH) { ";" + $env:NUKE_PATH })' % windows]
    else:
        lines += ["Windows: give --windows-path (the folder as Windows machines see it, e.g. S:\\CorridorKey or "
                  "\\\\server\\share\\CorridorKey) to print its lines."]
    return lines
