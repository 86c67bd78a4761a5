"""Where the built node lives and what its Cattery-style folder holds (pure Python, no Nuke).

Layout, as Foundry's Cattery and community ports use it, in one folder on Nuke's plugin path:

    <install dir>/CorridorKey.gizmo   the node (node class "CorridorKey")
    <install dir>/CorridorKey.cat     the model, built by CatFileCreator
    <install dir>/cat.json            Cattery metadata (name, category, minimum Nuke version)
    <install dir>/CorridorKey.json    the export manifest, kept to tell which checkpoint / torch made the .cat

The install dir defaults to ~/.nuke/CorridorKey; $CORRIDORKEY_INSTALL_DIR or an explicit argument override it
(a studio points it at a shared folder).
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import List, Optional

from .. import contract
from .paths import nuke_user_dir

INSTALL_DIR_ENV = "CORRIDORKEY_INSTALL_DIR"
CAT_JSON_NAME = "cat.json"
CATEGORY = "Keying"
DESCRIPTION = "CorridorKey neural green-screen keyer (Corridor Digital) - plate + coarse hint in, linear RGBA out."


def default_install_dir() -> str:
    """$CORRIDORKEY_INSTALL_DIR if set, else CorridorKey/ in Nuke's per-user folder (found as Nuke finds it)."""
    configured = os.environ.get(INSTALL_DIR_ENV, "").strip()
    if configured:
        return os.path.abspath(os.path.expanduser(configured))
    return os.path.join(nuke_user_dir(), contract.MODEL_ID)


def resolve_install_dir(install_dir: Optional[str] = None) -> str:
    """An explicit folder wins; an empty or missing one means the default."""
    if install_dir and install_dir.strip():
        return os.path.abspath(os.path.expanduser(install_dir.strip()))
    return default_install_dir()


@dataclass(frozen=True)
class InstallLayout:
    root: str

    @property
    def gizmo(self) -> str:
        return os.path.join(self.root, contract.GIZMO_NAME)

    @property
    def cat(self) -> str:
        return os.path.join(self.root, contract.CAT_NAME)

    @property
    def cat_json(self) -> str:
        return os.path.join(self.root, CAT_JSON_NAME)

    @property
    def manifest(self) -> str:
        return os.path.join(self.root, contract.MANIFEST_NAME)

    def is_installed(self) -> bool:
        """A usable node needs both the gizmo and the model."""
        return os.path.isfile(self.gizmo) and os.path.isfile(self.cat)

    def existing_files(self) -> List[str]:
        return [p for p in (self.gizmo, self.cat, self.cat_json, self.manifest) if os.path.exists(p)]


def layout_for(install_dir: Optional[str] = None) -> InstallLayout:
    return InstallLayout(resolve_install_dir(install_dir))


def cat_json_text(minimum_nuke_version: float) -> str:
    """Cattery metadata. The minimum version is the Nuke that built the .cat: older ones cannot load it."""
    data = {
        "minimum_nuke_version_required": minimum_nuke_version,
        "version": 1,
        "category": CATEGORY,
        "description": DESCRIPTION,
        "cats": [{"filepath": contract.GIZMO_NAME, "name": contract.MODEL_ID, "icon": ""}],
    }
    return json.dumps(data, indent=4) + "\n"
