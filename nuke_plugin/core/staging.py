"""Puts a built model into its install folder all at once (pure Python: no Nuke).

Why staged: every file is first written under a temporary name in the install folder, and then all of them are
moved over the old ones as one change (contract.files.commit_files): a failure at any move (a full disk, another
user's file in a shared folder) puts every file back, so the folder holds the whole previous build or the whole new
one, and the error says which. Putting the folder on Nuke's plugin path is nuke_plugin.host.plugin_path.
"""
from __future__ import annotations

import os
from typing import IO, List, Optional, Sequence, Tuple

from ..contract.files import (
    CommitError,
    Content,
    commit_files,
    open_regular,
    partial_path,
    remove_partials,
    write_partial,
)
from .cattery import ICON_SIZE, InstallLayout, icon_png
from .errors import InstallError


def staging_path(folder: str, final_name: str) -> str:
    """A fresh temporary name beside `final_name` (not created: CatFileCreator must not find a file there)."""
    return partial_path(folder, final_name, keep_suffix=True)


def _stage(folder: str, final: str, content: Content) -> Tuple[str, str]:
    return write_partial(folder, os.path.basename(final), content, keep_suffix=True), final


def copy_of(source: str) -> Content:
    """Content that copies the regular file `source`, a block at a time."""
    def copy(out: IO[bytes]) -> None:
        with open_regular(source) as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                out.write(block)
    return copy


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


def install_folder_problem(folder: str, studio: Optional[str] = None) -> Optional[str]:
    """Why nothing can be installed in `folder` (it, or the nearest folder above it that exists, cannot be written),
    found before a minutes-long export; None when it can. `studio`: the studio folder the plugin runs from."""
    existing = os.path.abspath(folder)
    while not os.path.exists(existing) and os.path.dirname(existing) != existing:
        existing = os.path.dirname(existing)
    if os.path.isdir(existing) and os.access(existing, os.W_OK | os.X_OK):
        return None
    if studio and os.path.normcase(os.path.abspath(folder)) == os.path.normcase(os.path.abspath(studio)):
        return ("This plugin runs from the studio folder %s, which you may not write. Ask your TD to add this Nuke's "
                "build (python -m nuke_plugin.studio %s --nuke <this Nuke>), or choose a folder of your own as the "
                "install folder (only this machine will find that build)." % (folder, folder))
    why = "is not a folder" if os.path.exists(existing) and not os.path.isdir(existing) else "is not writable"
    return ("The install folder %s cannot be used: %s %s. Choose another folder, or set CORRIDORKEY_INSTALL_DIR to "
            "one you can write." % (folder, existing, why))


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


def _unchanged(layout: InstallLayout) -> str:
    if layout.existing_files():
        return "Nothing was changed: the previous build is in place, as it was."
    return "Nothing was changed: no build was there before, and none is now."


def install_build(layout: InstallLayout, built_cat: str, build: int, major: int, gizmo: str, cat_json: str,
                  manifest: Optional[str] = None) -> List[str]:
    """Moves `built_cat` (already in the node's folder) into place as build `build`'s .cat for Nuke `major`, with
    the gizmo, cat.json, the icons and `manifest` (the installed manifest's text), all or none; returns the final
    paths. The caller owns `built_cat` until this is called, this function afterwards (it is moved or removed).

    Then the files of a build made before this layout are removed (see cattery)."""
    folder = layout.folder
    ensure_folder(folder)
    final_cat, final_manifest = layout.cat(build, major), layout.manifest(build, major)
    names = [os.path.basename(p) for p in (layout.gizmo, layout.cat_json, layout.icon, layout.icon_2x, final_manifest,
                                           final_cat)]
    remove_partials(folder, names)  # left by a Nuke killed during an earlier install
    staged: List[Tuple[str, str]] = []
    done = False
    try:
        staged.append(_stage(folder, layout.gizmo, gizmo.encode("utf-8")))
        staged.append(_stage(folder, layout.cat_json, cat_json.encode("utf-8")))
        staged.append(_stage(folder, layout.icon, icon_png()))
        staged.append(_stage(folder, layout.icon_2x, icon_png(2 * ICON_SIZE)))
        if manifest is not None:
            staged.append(_stage(folder, final_manifest, manifest.encode("utf-8")))
        staged.append((built_cat, final_cat))
        commit_files(staged).finish()
        done = True
    except CommitError as exc:
        if not exc.restored:
            raise InstallError("Installing into %s failed: %s" % (folder, exc))
        raise InstallError("Installing into %s failed: %s could not be replaced (%s). %s" % (
            folder, os.path.basename(exc.failed), exc.reason, _unchanged(layout)))
    except OSError as exc:  # staging: nothing was moved yet
        raise InstallError("Installing into %s failed (%s). %s" % (folder, exc.strerror or exc, _unchanged(layout)))
    finally:
        if not done:  # nothing partial stays in a folder on the plugin path
            for temp in [t for t, _ in staged] + [built_cat]:
                if os.path.lexists(temp):
                    os.remove(temp)
    for old in layout.legacy_files():
        try:
            os.remove(old)
        except OSError as exc:
            raise InstallError("The new build is installed in %s, but the old build's %s could not be removed (%s). "
                               "Delete it, or Nuke finds two CorridorKey nodes." % (folder, old, exc.strerror or exc))
    return [final for _, final in staged]


def remove_files(paths: Sequence[str]) -> List[str]:
    """Removes each file it can; returns 'path (why)' for each one it could not."""
    left = []
    for path in paths:
        try:
            os.remove(path)
        except FileNotFoundError:
            continue
        except OSError as exc:
            left.append("%s (%s)" % (path, exc.strerror or exc))
    return left
