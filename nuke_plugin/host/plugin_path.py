"""Puts the install folder on Nuke's plugin path: now (after a build) and at every start (init.py)."""
from __future__ import annotations

import os
from typing import Optional

from ..core.cattery import resolve_install_dir
from ..core.settings import load_settings


def _same_path(a: str, b: str) -> bool:
    return os.path.normcase(os.path.abspath(a)) == os.path.normcase(os.path.abspath(b))


def activate(install_dir: str) -> bool:
    """Adds the install folder to Nuke's plugin path now (init.py does it at the next start).

    Returns True if it was added, False if it was already there.
    """
    import nuke

    if any(_same_path(p, install_dir) for p in nuke.pluginPath()):
        return False
    nuke.pluginAddPath(install_dir.replace(os.sep, "/"))
    return True


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
