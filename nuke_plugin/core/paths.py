"""Where things are: the plugin's own folder and Nuke's per-user folder, each found in one place, and how two
paths are compared.

Pure Python 3.9+: no Nuke.
"""
from __future__ import annotations

import os
from typing import Mapping, Optional


def plugin_root() -> str:
    """The folder holding init.py, menu.py, nuke_plugin/ and exporter/ (the exporter's working directory)."""
    return os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def path_key(path: str) -> str:
    """A path as this OS compares paths: absolute, and case-folded where the file system ignores case (Windows)."""
    return os.path.normcase(os.path.abspath(path))


def same_path(a: str, b: str) -> bool:
    """Whether two spellings name the same place (links are not followed: Nuke's plugin path is text)."""
    return path_key(a) == path_key(b)


def nuke_user_dir(environ: Optional[Mapping[str, str]] = None, platform: Optional[str] = None) -> str:
    """Nuke's per-user folder (~/.nuke), found the way Nuke finds it: ``HOME`` first, on Windows then
    ``USERPROFILE`` (os.path.expanduser ignores HOME on Windows, so it is only the last resort)."""
    env = os.environ if environ is None else environ
    platform = os.name if platform is None else platform
    home = env.get("HOME") or (env.get("USERPROFILE") if platform == "nt" else None) or os.path.expanduser("~")
    return os.path.join(home, ".nuke")
