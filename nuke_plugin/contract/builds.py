"""A build's identity and the names of its files: one build per Nuke major version, side by side in one folder.

Why an identity: a studio renders one script on workstations and farm nodes that may run different Nukes and
find different installs. What decides the matte is the checkpoint, the model resolution and the knobs, so those
make the build ID (an 8-digit number: a Nuke expression compares it as a number, and an artist can read it out).
Two exports of one checkpoint at one resolution share it, whichever torch or Nuke they were made for.

Why a file per Nuke major version: a .cat loads only in the Nuke that built it or a newer one, and each Nuke
embeds its own torch. The gizmo finds the .cat of the running Nuke with Tcl, as public Cattery ports do
(`[plugins -all RIFE_n$nuke_version_major.cat]`), and the build ID is part of the name, so a gizmo never loads
another build's .cat that some other install put on the plugin path:

    CorridorKey_<build ID>_n<major>.cat     the .cat built in a Nuke of that major version
    CorridorKey_<build ID>_n<major>.json    the export's manifest, with the Nuke that built the .cat

Part of the contract: the exporter computes the ID for its manifest, the Nuke side names and finds the files.
Pure Python 3.9+, standard library only.
"""
from __future__ import annotations

import hashlib
import json
import re
from typing import Optional, Sequence, Tuple

BUILD_ID_DIGITS = 8
_BUILD_ID_BASE = 10 ** (BUILD_ID_DIGITS - 1)  # always 8 digits: never a leading zero for a reader to lose
# The Tcl variable Nuke sets to its major version (public ports: `RIFE_n$nuke_version_major.cat`).
NUKE_MAJOR_VARIABLE = "$nuke_version_major"
_SLOT_FILE = re.compile(r"^(?P<model>.+)_(?P<build>[0-9]{%d})_n(?P<major>[0-9]{1,3})\.(?P<ext>cat|json)$"
                        % BUILD_ID_DIGITS)


def build_id(model_id: str, checkpoint_sha256: str, resolution: int, knob_names: Sequence[str]) -> int:
    """The build ID: the same for every export of one checkpoint at one resolution with one set of knobs."""
    key = json.dumps([model_id, checkpoint_sha256.lower(), int(resolution), list(knob_names)])
    digest = int(hashlib.sha256(key.encode("utf-8")).hexdigest()[:15], 16)
    return _BUILD_ID_BASE + digest % (9 * _BUILD_ID_BASE)


def is_build_id(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and _BUILD_ID_BASE <= value < 10 * _BUILD_ID_BASE


def slot_stem(model_id: str, build: int, major: int) -> str:
    return "%s_%d_n%d" % (model_id, build, major)


def cat_name(model_id: str, build: int, major: int) -> str:
    """The .cat of one build for one Nuke major version: CorridorKey_12345678_n16.cat."""
    return slot_stem(model_id, build, major) + ".cat"


def manifest_name(model_id: str, build: int, major: int) -> str:
    """The manifest installed beside that .cat: CorridorKey_12345678_n16.json."""
    return slot_stem(model_id, build, major) + ".json"


def cat_search_name(model_id: str, build: int) -> str:
    """The .cat name as the gizmo asks Tcl for it: the running Nuke's major version filled in by Nuke."""
    return "%s_%d_n%s.cat" % (model_id, build, NUKE_MAJOR_VARIABLE)


def parse_slot_file(name: str) -> Optional[Tuple[str, int, int, str]]:
    """(model id, build ID, Nuke major, 'cat' or 'json') for a build's file name, else None."""
    match = _SLOT_FILE.match(name)
    if not match:
        return None
    return match.group("model"), int(match.group("build")), int(match.group("major")), match.group("ext")


def nuke_version_tuple(text: str) -> Optional[Tuple[int, int]]:
    """(major, minor) of a Nuke version as Nuke writes it ('15.1v3', '16.0', 'Nuke15.1'), else None."""
    match = re.search(r"(\d+)\.(\d+)", text or "")
    return (int(match.group(1)), int(match.group(2))) if match else None
