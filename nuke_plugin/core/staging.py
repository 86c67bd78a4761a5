"""Puts a built model into its install folder all at once (pure Python: no Nuke).

Why staged: every file is first written under a temporary name in the install folder and only then moved
over the old one with os.replace, so a failure half-way (disk full, permissions) leaves the previous
install as it was and no partial files. Putting the folder on Nuke's plugin path is nuke_plugin.host.plugin_path.
"""
from __future__ import annotations

import os
import shutil
from typing import Callable, List, Optional, Sequence, Tuple

from ..contract.files import new_partial
from .cattery import ICON_SIZE, InstallLayout, icon_png
from .errors import InstallError


def staging_path(folder: str, final_name: str) -> str:
    """A fresh temporary name beside `final_name` (not created: CatFileCreator must not find a file there)."""
    return new_partial(folder, final_name, keep_suffix=True, create=False)


def _written_or_removed(path: str, write: Callable[[str], object]) -> str:
    """Runs `write(path)`; if it fails (disk full), the partial file goes too: the folder is on the plugin path."""
    try:
        write(path)
    except BaseException:
        if os.path.exists(path):
            os.remove(path)
        raise
    return path


def _stage_bytes(folder: str, final_name: str, data: bytes) -> str:
    def write(path: str) -> None:
        with open(path, "wb") as handle:
            handle.write(data)
    return _written_or_removed(staging_path(folder, final_name), write)


def _stage_copy(folder: str, source: str, final_name: str) -> str:
    return _written_or_removed(staging_path(folder, final_name), lambda path: shutil.copyfile(source, path))


def _missing_folders(folder: str) -> List[str]:
    """`folder` and those of its parents that do not exist yet, deepest first."""
    missing = []
    while folder and not os.path.exists(folder):
        missing.append(folder)
        parent = os.path.dirname(folder)
        if parent == folder:
            break
        folder = parent
    return missing


def remove_empty_folders(folders: Sequence[str]) -> None:
    """Takes out the folders a failed build created (deepest first), each only if it is still empty."""
    for folder in folders:
        try:
            os.rmdir(folder)
        except OSError:
            return


def ensure_folder(folder: str) -> List[str]:
    """Creates `folder` if needed and checks it is writable; returns the folders it created, deepest first."""
    created = _missing_folders(os.path.abspath(folder))
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as exc:
        raise InstallError("Cannot create the install folder %s (%s). Choose another folder, or set "
                           "CORRIDORKEY_INSTALL_DIR to one you can write." % (folder, exc.strerror or exc))
    if not os.access(folder, os.W_OK):
        raise InstallError("The install folder %s is not writable. Choose another folder, or set "
                           "CORRIDORKEY_INSTALL_DIR to one you can write." % folder)
    return created


def install_build(layout: InstallLayout, built_cat: str, gizmo: str, cat_json: str,
                  manifest: Optional[str] = None) -> List[str]:
    """Moves `built_cat` (already in the node's folder) and the other files into place; returns the final paths.

    Then the files of a build made before the Cattery layout are removed from the install dir (see cattery)."""
    folder = layout.folder
    ensure_folder(folder)
    staged: List[Tuple[str, str]] = []
    try:
        staged.append((_stage_bytes(folder, os.path.basename(layout.gizmo), gizmo.encode("utf-8")), layout.gizmo))
        staged.append((_stage_bytes(folder, os.path.basename(layout.cat_json), cat_json.encode("utf-8")),
                       layout.cat_json))
        staged.append((_stage_bytes(folder, os.path.basename(layout.icon), icon_png()), layout.icon))
        staged.append((_stage_bytes(folder, os.path.basename(layout.icon_2x), icon_png(2 * ICON_SIZE)),
                       layout.icon_2x))
        if manifest:
            staged.append((_stage_copy(folder, manifest, os.path.basename(layout.manifest)), layout.manifest))
        # The .cat goes last: if an earlier move fails, the old .cat still sits beside a gizmo made from the
        # same knob spec, and the new .cat stays under its temporary name for the caller to remove.
        staged.append((built_cat, layout.cat))
        for temp, final in staged:
            os.replace(temp, final)
    except OSError as exc:
        raise InstallError("Installing into %s failed (%s); the previous install was left as it was."
                           % (folder, exc.strerror or exc))
    finally:
        for temp, _ in staged:
            if temp != built_cat and os.path.exists(temp):
                os.remove(temp)
    for old in layout.legacy_files():
        try:
            os.remove(old)
        except OSError as exc:
            raise InstallError("The new build is installed in %s, but the old build's %s could not be removed (%s). "
                               "Delete it, or Nuke finds two CorridorKey nodes." % (folder, old, exc.strerror or exc))
    return [final for _, final in staged]
