"""Puts the install folder on Nuke's plugin path: now (after a build) and at every start (init.py).

Both the install dir (Nuke's Cattery menu looks for its `Cattery` subfolder) and the node's own folder in it
(so the gizmo and the .cat are found in every mode) go on the path; see core.cattery for the layout.
"""
from __future__ import annotations

import os
from typing import Optional

from ..core.cattery import InstallLayout, resolve_install_dir
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
    """init.py's job: put the install folder on the plugin path if a build is there. Returns the folder.

    The folder is the one Build Model installs into: the artist's setting (or the studio's environment
    override), else the default.
    """
    folder = resolve_install_dir(load_settings().install_dir)
    if os.path.isdir(folder):
        activate(folder)
        return folder
    return None
