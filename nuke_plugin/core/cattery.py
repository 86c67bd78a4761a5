"""Where the built node lives and what its Cattery folder holds (pure Python, no Nuke).

Foundry's `nukescripts.cattery` builds the Nodes toolbar's Cattery menu from the subfolders named `Cattery` of
the plugin-path folders, reading each `cat.json` under them (as community ports ship theirs). So the install dir
goes on the plugin path and the node lives one level down:

    <install dir>/Cattery/CorridorKey/CorridorKey.gizmo              the node (node class "CorridorKey")
    <install dir>/Cattery/CorridorKey/CorridorKey_<build>_n<N>.cat   the model, built by CatFileCreator in Nuke N
    <install dir>/Cattery/CorridorKey/CorridorKey_<build>_n<N>.json  its export manifest (which checkpoint / torch)
    <install dir>/Cattery/CorridorKey/cat.json                       Cattery metadata (category, icon, oldest Nuke)
    <install dir>/Cattery/CorridorKey/CorridorKey.png                the menu icon (24x24) and CorridorKey@2x.png

One .cat per Nuke major version, side by side (contract.builds names them): each Nuke loads the one made for its
own major version, and a folder holds one build ID at a time, so every Nuke that finds it renders the same model.

The node's folder goes on the plugin path too (as the Cattery module itself does), so the gizmo and its .cat are
found in every mode, with or without that module. Builds before this layout put the files in the install dir
itself, or one CorridorKey.cat in the node's folder; a new build removes them (`legacy_files`).

The install dir is, in order: an explicit argument, $CORRIDORKEY_INSTALL_DIR, the plugin's own folder when it is a
studio install (it holds Cattery/CorridorKey/CorridorKey.gizmo: see nuke_plugin.cli.studio), else
~/.nuke/CorridorKey.
"""
from __future__ import annotations

import json
import os
import struct
import zlib
from dataclasses import dataclass
from typing import Dict, List, Optional

from .. import contract
from ..contract import builds
from .build_set import BuildSet, SlotFiles, installed_sets, slot_files
from .paths import nuke_user_dir, plugin_root

INSTALL_DIR_ENV = "CORRIDORKEY_INSTALL_DIR"
CAT_JSON_NAME = "cat.json"
CATTERY_DIR = "Cattery"  # the folder name Foundry's cattery module looks for (it compares lower case)
ICON_NAME = contract.MODEL_ID + ".png"
# Nuke picks name@2x.png beside name.png on high-DPI screens; public Cattery ports ship both (24 and 48 px).
ICON_2X_NAME = contract.MODEL_ID + "@2x.png"
ICON_SIZE = 24
# Foundry's Cattery menu (nukescripts.cattery) gives a category its own icon only when its name, lower case, is
# in the menu's icon map (depth estimation, optical flow, upscaling, denoising, segmentation, stylisation and
# aliases); any other gets the generic "other" icon. Matting ports (ViTMatte and others) use Segmentation.
CATEGORY = "Segmentation"
DESCRIPTION = "CorridorKey neural green-screen keyer (Corridor Digital) - plate + coarse hint in, linear RGBA out."


def studio_root(root: Optional[str] = None) -> Optional[str]:
    """The plugin's own folder when it is a studio install (its node folder holds the gizmo), else None."""
    root = plugin_root() if root is None else root
    return root if os.path.isfile(InstallLayout(root).gizmo) else None


def default_install_dir() -> str:
    """$CORRIDORKEY_INSTALL_DIR if set, else the studio folder this plugin runs from, else CorridorKey/ in Nuke's
    per-user folder (found as Nuke finds it)."""
    configured = os.environ.get(INSTALL_DIR_ENV, "").strip()
    if configured:
        return os.path.abspath(os.path.expanduser(configured))
    return studio_root() or os.path.join(nuke_user_dir(), contract.MODEL_ID)


def resolve_install_dir(install_dir: Optional[str] = None) -> str:
    """An explicit folder wins; an empty or missing one means the default."""
    if install_dir and install_dir.strip():
        return os.path.abspath(os.path.expanduser(install_dir.strip()))
    return default_install_dir()


@dataclass(frozen=True)
class InstallLayout:
    root: str

    @property
    def folder(self) -> str:
        """The node's own folder: <root>/Cattery/CorridorKey."""
        return os.path.join(self.root, CATTERY_DIR, contract.MODEL_ID)

    @property
    def gizmo(self) -> str:
        return os.path.join(self.folder, contract.GIZMO_NAME)

    def cat(self, build: int, major: int) -> str:
        """The .cat of build `build` for Nuke `major`."""
        return os.path.join(self.folder, builds.cat_name(contract.MODEL_ID, build, major))

    def manifest(self, build: int, major: int) -> str:
        return os.path.join(self.folder, builds.manifest_name(contract.MODEL_ID, build, major))

    @property
    def cat_json(self) -> str:
        return os.path.join(self.folder, CAT_JSON_NAME)

    @property
    def icon(self) -> str:
        return os.path.join(self.folder, ICON_NAME)

    @property
    def icon_2x(self) -> str:
        return os.path.join(self.folder, ICON_2X_NAME)

    def slot_files(self) -> List[SlotFiles]:
        return slot_files(self.folder, contract.MODEL_ID)

    def build_sets(self) -> Dict[int, BuildSet]:
        """build ID -> its builds here (a folder Build Model wrote holds one)."""
        return installed_sets(self.folder, contract.MODEL_ID)

    def is_installed(self) -> bool:
        """A usable node needs the gizmo and a model for at least one Nuke."""
        return os.path.isfile(self.gizmo) and bool(self.slot_files())

    def legacy_files(self) -> List[str]:
        """Files of a build made before this layout: straight in the install dir, or one CorridorKey.cat (and its
        manifest) in the node's folder that any Nuke would have loaded."""
        flat = [os.path.join(self.root, n) for n in (contract.GIZMO_NAME, contract.CAT_NAME, CAT_JSON_NAME,
                                                     contract.MANIFEST_NAME)]
        single = [os.path.join(self.folder, n) for n in (contract.CAT_NAME, contract.MANIFEST_NAME)]
        return [p for p in flat + single if os.path.isfile(p)]

    def existing_files(self) -> List[str]:
        ours = [self.gizmo, self.cat_json, self.icon, self.icon_2x]
        for files in self.slot_files():
            ours += [files.cat] + ([files.manifest] if files.manifest else [])
        return [p for p in ours if os.path.exists(p)] + self.legacy_files()


def layout_for(install_dir: Optional[str] = None) -> InstallLayout:
    return InstallLayout(resolve_install_dir(install_dir))


def cat_json_text(minimum_nuke_version: float) -> str:
    """Cattery metadata. The minimum version is the oldest Nuke that built one of the folder's .cat files: older
    ones cannot load any (Foundry's Cattery menu hides the node from them)."""
    data = {
        "minimum_nuke_version_required": minimum_nuke_version,
        "version": 1,
        "category": CATEGORY,
        "description": DESCRIPTION,
        "cats": [{"filepath": contract.GIZMO_NAME, "name": contract.MODEL_ID, "icon": ICON_NAME}],
    }
    return json.dumps(data, indent=4) + "\n"


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def icon_png(size: int = ICON_SIZE) -> bytes:
    """The menu icon, drawn here so the plugin ships no binary: a white matte disc on screen green (RGBA PNG)."""
    rows = []
    centre, radius = (size - 1) / 2.0, size * 0.3
    for y in range(size):
        row = bytearray(b"\x00")  # filter type 0 for each scanline
        for x in range(size):
            inside = (x - centre) ** 2 + (y - centre) ** 2 <= radius * radius
            row += bytes((255, 255, 255, 255)) if inside else bytes((0x3A, 0x9A, 0x4A, 255))
        rows.append(bytes(row))
    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)  # 8-bit RGBA, no interlace
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", zlib.compress(b"".join(rows)))
            + _png_chunk(b"IEND", b""))
