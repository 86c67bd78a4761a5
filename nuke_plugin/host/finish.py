"""The main-thread tail of Build Model: export folder -> .cat -> installed node -> node in the script.

Given the folder where the exporter wrote CorridorKey.pt and CorridorKey.json:
1. check this Nuke can build .cat files and that the manifest and .pt are sound;
   and refuse a build the running Nuke's torch cannot load (core.compatibility);
2. if a build is installed already, ask before replacing it (declining changes nothing);
3. build the .cat with CatFileCreator under a temporary name in the install folder;
4. move .cat, gizmo, cat.json, icon and the manifest into <install dir>/Cattery/CorridorKey together
   (core.staging.install_build; core.cattery has the layout);
5. put the install dir and that folder on the plugin path, call `on_installed` (the UI adds its Nodes-toolbar
   entry), drop the node on the selection.

Call it on Nuke's main thread (from a worker: nuke.executeInMainThreadWithResult(finish_build, ...)).
`finish_build` raises CorridorKeyError subclasses; its callers decide how to show them.
"""
from __future__ import annotations

import datetime
import os
import threading
from dataclasses import dataclass
from typing import Any, Callable, List, Optional

from ..core.cattery import InstallLayout, cat_json_text, layout_for
from ..core.compatibility import load_problem
from ..core.errors import BuildDeclined, EditionError, InstallError
from ..core.gizmo import gizmo_text
from ..core.manifest import ModelManifest, read_manifest
from ..core.staging import ensure_folder, install_build, remove_empty_folders, staging_path
from .cat_builder import build_cat
from .edition import EDITION_MESSAGE, cat_files_supported, running_nuke
from .insert import insert_node
from .plugin_path import activate
from .session import env_value

REPLACE_QUESTION = ("A CorridorKey node is already installed in\n%s\n\nReplace it with the new build? "
                    "(Scripts that use CorridorKey will use the new model.)")


@dataclass
class InstallResult:
    """What finish_build installed: the folder, the files, whether it replaced a build, the node it dropped."""

    install_dir: str
    files: List[str]
    replaced: bool
    node: Any = None


def _nuke_version(nuke: Any) -> float:
    try:
        return float("%d.%d" % (env_value(nuke, "NukeVersionMajor"), env_value(nuke, "NukeVersionMinor")))
    except (TypeError, ValueError):  # a key this Nuke lacks
        return float(getattr(nuke, "NUKE_VERSION_MAJOR", 14))


def refuse_if_unloadable(nuke: Any, manifest: ModelManifest) -> None:
    """Raises InstallError, naming both versions, when the running Nuke's torch cannot load the build."""
    problem = load_problem(manifest.loads_in_nuke, *running_nuke(nuke))
    if problem:
        raise InstallError(problem + " Nothing was installed.")


def model_info(manifest: ModelManifest) -> str:
    """The note shown on the node: which export it runs."""
    text = "%s at %d px, exported with torch %s" % (manifest.model_id, manifest.resolution, manifest.torch_version)
    if manifest.created_utc:
        text += " on %s" % manifest.created_utc
    return text


def build_date() -> str:
    """The date shown on the node's Info tab (UTC, so every machine of a studio writes the same day)."""
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")


def _confirm_replace(nuke: Any, layout: InstallLayout, overwrite: Optional[bool]) -> bool:
    if not layout.existing_files():
        return False
    if overwrite is None:
        overwrite = bool(nuke.ask(REPLACE_QUESTION % layout.root))
    if not overwrite:
        raise BuildDeclined("Nothing was changed: the CorridorKey node installed in %s was kept." % layout.root)
    return True


def finish_build(export_dir: str, install_dir: Optional[str] = None, drop: bool = True,
                 overwrite: Optional[bool] = None,
                 on_installed: Optional[Callable[[], Any]] = None) -> InstallResult:
    """Builds and installs the node from an export folder. `overwrite`: None asks, True/False decide.

    `on_installed` runs once the node is installed and on the plugin path, before it is dropped (the menu layer
    passes its Nodes-toolbar registration; this layer knows no menus)."""
    import nuke

    if threading.current_thread() is not threading.main_thread():
        raise RuntimeError("finish_build must run on Nuke's main thread: from a worker, call "
                           "nuke.executeInMainThreadWithResult(finish_build, args=(...))")
    if not cat_files_supported():
        raise EditionError(EDITION_MESSAGE)
    manifest = read_manifest(export_dir)
    manifest.verify_model_file()
    refuse_if_unloadable(nuke, manifest)
    layout = layout_for(install_dir)
    replaced = _confirm_replace(nuke, layout, overwrite)
    created = ensure_folder(layout.folder)
    temp_cat = staging_path(layout.folder, os.path.basename(layout.cat))
    try:
        build_cat(manifest, temp_cat)
        files = install_build(layout, temp_cat,
                              gizmo_text(manifest.knobs, info=model_info(manifest), built=build_date()),
                              cat_json_text(_nuke_version(nuke)), manifest.path)
    except BaseException:
        if os.path.exists(temp_cat):
            os.remove(temp_cat)
        remove_empty_folders(created)  # a failed first build leaves no empty install folder behind
        raise
    activate(layout.root)
    if on_installed is not None:
        on_installed()
    node = insert_node(layout.root) if drop else None
    return InstallResult(layout.root, files, replaced, node)

