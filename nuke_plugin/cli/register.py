"""One-step install: tell Nuke where this plugin lives by adding one marked line to ~/.nuke/init.py.

    python -m nuke_plugin.register_with_nuke            # run from the plugin folder (any Python 3.9+)
    python -m nuke_plugin.register_with_nuke --remove   # undo

Why a line in ~/.nuke/init.py: Nuke runs that file at every start, in every mode (GUI, terminal, farm), and
`nuke.pluginAddPath` on this folder then runs our init.py and menu.py. The line is marked, so running the
command again replaces it (e.g. after moving the folder) instead of adding a second one; the file is
rewritten atomically (keeping its mode) and everything else in it is kept. Pure Python: no Nuke needed.
"""
from __future__ import annotations

import argparse
import os
import sys
from typing import List, Optional

from ..contract.exits import EXIT_OK, EXIT_USER
from ..contract.files import atomic_write
from ..core.paths import nuke_user_dir, plugin_root

MARK = "# CorridorKey plugin (added by nuke_plugin.register_with_nuke)"


def default_nuke_dir() -> str:
    """Nuke's user folder, found as Nuke (and the settings) find it."""
    return nuke_user_dir()


def registration_lines(root: str) -> List[str]:
    return [MARK + "\n", "import nuke\n", "nuke.pluginAddPath(%r)\n" % root.replace(os.sep, "/")]


def _without_our_block(lines: List[str]) -> List[str]:
    kept, skip = [], 0
    for line in lines:
        if line.rstrip("\r\n") == MARK:
            skip = 2  # the mark, then `import nuke` and the pluginAddPath line
            continue
        if skip:
            skip -= 1
            continue
        kept.append(line)
    return kept


def register(nuke_dir: Optional[str] = None, root: Optional[str] = None, remove: bool = False) -> str:
    """Adds (or with remove=True, takes out) the plugin's line in <nuke_dir>/init.py; returns that file's path."""
    nuke_dir = os.path.abspath(os.path.expanduser(nuke_dir or default_nuke_dir()))
    os.makedirs(nuke_dir, exist_ok=True)
    path = os.path.join(nuke_dir, "init.py")
    lines: List[str] = []
    if os.path.exists(path):
        with open(path, "r", encoding="utf-8") as handle:
            lines = handle.readlines()
    lines = _without_our_block(lines)
    if not remove:
        if lines and not lines[-1].endswith("\n"):
            lines[-1] += "\n"
        lines += registration_lines(root or plugin_root())
    atomic_write(path, "".join(lines), newline="")
    return path


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nuke_plugin.register_with_nuke",
                                     description="Add the CorridorKey plugin to Nuke (one line in ~/.nuke/init.py).")
    parser.add_argument("--nuke-dir", help="Nuke's user folder (default: ~/.nuke, under HOME as Nuke finds it)")
    parser.add_argument("--remove", action="store_true", help="take the line out again")
    args = parser.parse_args(argv)
    try:
        path = register(args.nuke_dir, remove=args.remove)
    except OSError as exc:
        sys.stderr.write("Could not update Nuke's init.py: %s\n" % exc)
        return EXIT_USER
    if args.remove:
        print("Removed the CorridorKey plugin from %s." % path)
    else:
        print("Added the CorridorKey plugin (%s) to %s.\nRestart Nuke: the CorridorKey menu appears in the menu bar."
              % (plugin_root(), path))
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
