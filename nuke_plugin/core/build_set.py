"""Which builds an install folder holds: one build ID, with a .cat for each Nuke major version (pure, no Nuke).

The gizmo is written from this (which majors it may load, the oldest Nuke of each major that can load its .cat),
and Build Model reads it before adding a build. The file names are contract.builds'.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, replace
from typing import Dict, List, Optional, Tuple

from ..contract import builds
from .errors import ManifestError
from .manifest import ModelManifest, read_manifest


@dataclass(frozen=True)
class Slot:
    """One Nuke major version's build: its .cat was made by CatFileCreator in Nuke `built_in` (e.g. '15.1v3')."""

    major: int
    built_in: str = ""
    summary: str = ""  # what the Info tab says of it: "2048 px, torch 2.1.1"

    @property
    def minimum(self) -> Tuple[int, int]:
        """The oldest Nuke that loads this .cat: the one that built it (its major's first release if unknown)."""
        found = builds.nuke_version_tuple(self.built_in)
        return found if found and found[0] == self.major else (self.major, 0)

    @property
    def label(self) -> str:
        made = " (made in Nuke %s)" % self.built_in if self.built_in else ""
        return "Nuke %d%s%s" % (self.major, made, ": " + self.summary if self.summary else "")


@dataclass(frozen=True)
class BuildSet:
    """The builds of one build ID in one folder, one Slot per Nuke major version (sorted)."""

    model_id: str
    build_id: int
    slots: Tuple[Slot, ...] = ()

    @property
    def majors(self) -> Tuple[int, ...]:
        return tuple(s.major for s in self.slots)

    def with_slot(self, slot: Slot) -> "BuildSet":
        """This set with `slot` added, or replacing the one of its major version."""
        kept = [s for s in self.slots if s.major != slot.major]
        return replace(self, slots=tuple(sorted(kept + [slot], key=lambda s: s.major)))

    def slot(self, major: int) -> Optional[Slot]:
        return next((s for s in self.slots if s.major == major), None)

    @property
    def oldest_nuke(self) -> Tuple[int, int]:
        """The oldest Nuke that has a build here (Foundry's Cattery menu hides the node from older ones)."""
        return min((s.minimum for s in self.slots), default=(0, 0))

    def describe(self) -> str:
        """'build 12345678 for Nuke 14, 16'."""
        majors = ", ".join(str(m) for m in self.majors) or "no Nuke yet"
        return "build %d for Nuke %s" % (self.build_id, majors)


def summary(manifest: ModelManifest) -> str:
    """What the Info tab says of a build: "2048 px, torch 2.1.1, exported 2026-12-01"."""
    text = "%d px, torch %s" % (manifest.resolution, manifest.torch_version)
    return text + (", exported %s" % manifest.created_utc[:10] if manifest.created_utc else "")


def slot_from_manifest(manifest: ModelManifest, major: int) -> Slot:
    return Slot(major, manifest.built_in_nuke, summary(manifest))


@dataclass(frozen=True)
class SlotFiles:
    """The files of one build for one major version, found in a folder."""

    build_id: int
    major: int
    cat: str
    manifest: Optional[str]


def slot_files(folder: str, model_id: str) -> List[SlotFiles]:
    """Every build's .cat in `folder` (with its manifest when there is one), sorted by build ID and major."""
    try:
        names = set(os.listdir(folder))
    except OSError:
        return []
    found = []
    for name in names:
        parsed = builds.parse_slot_file(name)
        if parsed is None or parsed[0] != model_id or parsed[3] != "cat":
            continue
        manifest = builds.manifest_name(model_id, parsed[1], parsed[2])
        found.append(SlotFiles(parsed[1], parsed[2], os.path.join(folder, name),
                               os.path.join(folder, manifest) if manifest in names else None))
    return sorted(found, key=lambda f: (f.build_id, f.major))


def read_slot(files: SlotFiles, model_id: str) -> Slot:
    """A Slot from its installed manifest; a .cat without a readable one still counts (summary unknown)."""
    if files.manifest:
        try:
            manifest = read_manifest(files.manifest, require_model=False)
        except ManifestError:
            manifest = None
        if manifest is not None and manifest.build_id == files.build_id and manifest.model_id == model_id:
            return slot_from_manifest(manifest, files.major)
    return Slot(files.major)


def installed_sets(folder: str, model_id: str) -> Dict[int, BuildSet]:
    """build ID -> the BuildSet of its .cat files in `folder` (a consistent folder holds one)."""
    sets: Dict[int, BuildSet] = {}
    for files in slot_files(folder, model_id):
        current = sets.get(files.build_id, BuildSet(model_id, files.build_id))
        sets[files.build_id] = current.with_slot(read_slot(files, model_id))
    return sets
