"""The main-thread tail of Build Model: export folder -> .cat -> installed node -> node in the script.

Given the folder where the exporter wrote CorridorKey.pt and CorridorKey.json:
1. check this Nuke can build .cat files and that the manifest and .pt are sound;
2. ask before replacing this Nuke's build, or before a build of another ID takes the folder's builds out of use
   (declining changes nothing); adding the build for another Nuke major version asks nothing;
3. build the .cat with CatFileCreator under a temporary name in the install folder;
4. move the .cat (named for this build ID and this Nuke's major version), its manifest, the gizmo (written for
   every build now in the folder), cat.json and the icons into <install dir>/Cattery/CorridorKey together
   (core.staging.install_build; core.cattery has the layout, contract.builds the names); then remove the files of
   a build of another ID, which the new gizmo never loads;
5. put the install dir and that folder on the plugin path, call `on_installed` (the UI adds its Nodes-toolbar
   entry), drop the node on the selection, keyed with this build.

Call it on Nuke's main thread (from a worker: nuke.executeInMainThreadWithResult(finish_build, ...)).
`finish_build` raises CorridorKeyError subclasses; its callers decide how to show them.
"""
from __future__ import annotations

import datetime
import json
import os
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Tuple

from .. import contract
from ..contract.files import read_json
from ..core.build_set import BuildSet, Slot, SlotFiles, summary
from ..core.cattery import InstallLayout, cat_json_text, layout_for
from ..core.errors import BuildDeclined, EditionError, ManifestError
from ..core.gizmo import gizmo_text
from ..core.manifest import MANIFEST_SIZE_LIMIT, ModelManifest, read_manifest
from ..core.staging import ensure_folder, install_build, remove_empty_folders, remove_files, staging_path
from .cat_builder import build_cat
from .edition import EDITION_MESSAGE, cat_files_supported
from .insert import insert_node
from .plugin_path import activate

REPLACE_QUESTION = ("A CorridorKey build for Nuke %d is already installed in\n%s\n\nReplace it with the new build? "
                    "(Scripts that use CorridorKey in Nuke %d will use the new model.)")
OTHER_BUILD_QUESTION = ("%s holds %s.\n\nThis export is build %d: another checkpoint, resolution or set of knobs. "
                        "Install it and remove %s? Scripts keyed with the old build then stop with an error until "
                        "you rebuild them or key them with the new one, and the other Nukes need Build Model again.")
LEGACY_QUESTION = ("A CorridorKey node from an earlier version of the plugin is installed in\n%s\n\nReplace it with "
                   "the new build? (Scripts that use CorridorKey will use the new model.)")


@dataclass
class InstallResult:
    """What finish_build installed: the folder, the files, whether it replaced a build, the node it dropped, the
    build ID and the Nuke major version it serves, the files of other builds it removed or could not remove."""

    install_dir: str
    files: List[str]
    replaced: bool
    node: Any = None
    build_id: int = 0
    nuke_major: int = 0
    removed: List[str] = field(default_factory=list)
    left: List[str] = field(default_factory=list)


def _running_nuke(nuke: Any) -> Tuple[int, int, str]:
    """(major, minor, version text such as '15.1v3') of the running Nuke."""
    major, minor = int(nuke.NUKE_VERSION_MAJOR), int(nuke.NUKE_VERSION_MINOR)
    return major, minor, str(getattr(nuke, "NUKE_VERSION_STRING", "%d.%d" % (major, minor)))


def build_date() -> str:
    """The date shown on the node's Info tab (UTC, so every machine of a studio writes the same day)."""
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")


def installed_manifest_text(manifest: ModelManifest, built_in: str) -> str:
    """The export's manifest as installed beside its .cat: its build ID and the Nuke that built the .cat added."""
    try:
        data: Dict[str, Any] = read_json(manifest.path, MANIFEST_SIZE_LIMIT)
    except (OSError, ValueError) as exc:
        raise ManifestError("%s cannot be read again (%s). %s" % (manifest.path, exc, manifest.remedy))
    data["build_id"] = manifest.build_id
    data["built_in_nuke"] = built_in
    return json.dumps(data, indent=2) + "\n"


def _files_of(sets: Dict[int, BuildSet], layout: InstallLayout, keep: int) -> List[str]:
    stale: List[SlotFiles] = [f for f in layout.slot_files() if f.build_id != keep]
    return [f.cat for f in stale] + [f.manifest for f in stale if f.manifest]


def _confirm(nuke: Any, layout: InstallLayout, sets: Dict[int, BuildSet], build: int, major: int,
             overwrite: Optional[bool]) -> bool:
    """Asks (overwrite None) or decides whether the install may replace what is there; True when it replaces."""
    others = [s for b, s in sorted(sets.items()) if b != build]
    same = sets.get(build)
    if others:
        described = " and ".join(s.describe() for s in others)
        question = OTHER_BUILD_QUESTION % (layout.root, described, build, described)
    elif same is not None and same.slot(major) is not None:
        question = REPLACE_QUESTION % (major, layout.root, major)
    elif layout.legacy_files():
        question = LEGACY_QUESTION % layout.root
    else:
        return False
    if overwrite is None:
        overwrite = bool(nuke.ask(question))
    if not overwrite:
        raise BuildDeclined("Nothing was changed: the CorridorKey builds installed in %s were kept." % layout.root)
    return True


def finish_build(export_dir: str, install_dir: Optional[str] = None, drop: bool = True,
                 overwrite: Optional[bool] = None,
                 on_installed: Optional[Callable[[], Any]] = None) -> InstallResult:
    """Builds and installs this Nuke's build from an export folder. `overwrite`: None asks, True/False decide.

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
    layout = layout_for(install_dir)
    major, _minor, version = _running_nuke(nuke)
    sets = layout.build_sets()
    replaced = _confirm(nuke, layout, sets, manifest.build_id, major, overwrite)
    build_set = sets.get(manifest.build_id, BuildSet(contract.MODEL_ID, manifest.build_id))
    build_set = build_set.with_slot(Slot(major, version, summary(manifest)))
    stale = _files_of(sets, layout, manifest.build_id)
    manifest_text = installed_manifest_text(manifest, version)
    created = ensure_folder(layout.folder)
    temp_cat = staging_path(layout.folder, os.path.basename(layout.cat(manifest.build_id, major)))
    try:
        build_cat(manifest, temp_cat)
        files = install_build(layout, temp_cat, manifest.build_id, major,
                              gizmo_text(build_set, manifest.knobs, built=build_date()),
                              cat_json_text(float("%d.%d" % build_set.oldest_nuke)), manifest_text)
    except BaseException:
        if os.path.exists(temp_cat):
            os.remove(temp_cat)
        remove_empty_folders(created)  # a failed first build leaves no empty install folder behind
        raise
    left = remove_files(stale)  # another build's files: the new gizmo never loads them
    activate(layout.root)
    if on_installed is not None:
        on_installed()
    node = insert_node(layout.root) if drop else None
    return InstallResult(layout.root, files, replaced, node, manifest.build_id, major,
                         [p for p in stale if not os.path.exists(p)], left)
