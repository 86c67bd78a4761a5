"""Puts the install folder on Nuke's plugin path: now (after a build) and at every start (init.py).

Both the install dir (Nuke's Cattery menu looks for its `Cattery` subfolder) and the node's own folder in it
(so the gizmo and the .cat are found in every mode) go on the path; see core.cattery for the layout.

At start, a studio install (the plugin's own folder, on NUKE_PATH, holding the builds) goes on last, so it comes
first: every machine with that NUKE_PATH, a render node with a fresh home included, finds the same node, with no
~/.nuke edits and no CorridorKey variables. An install folder the artist chose (Build Model's setting, or
$CORRIDORKEY_INSTALL_DIR) is still added, behind it.
"""
from __future__ import annotations

import os
from typing import Optional

from ..core.cattery import InstallLayout, resolve_install_dir, studio_root
from ..core.paths import same_path
from ..core.settings import load_settings


def _add(folder: str) -> bool:
    import nuke

    if any(same_path(p, folder) for p in nuke.pluginPath()):
        return False
    nuke.pluginAddPath(folder.replace(os.sep, "/"))
    return True


def activate(install_dir: str) -> bool:
    """Adds the install folder, and its node folder once a build is there, to Nuke's plugin path now (init.py
    does it at the next start). Returns True if anything was added, False if all was there already.
    """
    layout = InstallLayout(install_dir)
    added = _add(layout.root)
    if os.path.isdir(layout.folder):
        added = _add(layout.folder) or added
    return added


def add_install_dir_at_startup() -> Optional[str]:
    """init.py's job: put the install folders on the plugin path. Returns the one searched first, if any.

    They are the folder Build Model installs into (the artist's setting, the studio's environment override, else
    the default) and, searched first, the studio install this plugin runs from.
    """
    studio = studio_root()
    folder = resolve_install_dir(load_settings().install_dir)
    first = None
    if os.path.isdir(folder) and not (studio and same_path(folder, studio)):
        activate(folder)
        first = folder
    if studio:
        activate(studio)
        first = studio
    return first
