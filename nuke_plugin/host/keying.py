"""Which build a CorridorKey node was keyed with: recorded on the node, saved in the script (GUI sessions only).

Why: a render on another machine may find another build. The gizmo's SameBuild Assert compares the node's
`keyed_build` knob with the build ID its own install holds and stops the render with a message when they differ;
that needs no Python at render time. This module only fills the knob in when a node is made (or an old script is
opened) in an artist's Nuke: menu.py registers `on_create` for the CorridorKey class. Where it does not run (a
render node, a Nuke without the menu), nodes keep what their script saved, and a node that never recorded one
(0) is not checked.
"""
from __future__ import annotations

from typing import Any

from .. import contract
from ..core.gizmo import INSTALLED_BUILD_KNOB, KEYED_BUILD


def record_keyed_build(node: Any) -> bool:
    """Keys `node` with its installed build when it has none recorded yet; True when it set one. A saved value is
    never changed (a script keyed with another build must show that build's error, not be re-keyed silently)."""
    keyed, installed = node.knob(KEYED_BUILD.name), node.knob(INSTALLED_BUILD_KNOB)
    if keyed is None or installed is None or int(keyed.value()):
        return False
    keyed.setValue(int(installed.value()))
    return True


def on_create() -> None:
    """nuke.addOnCreate callback for CorridorKey nodes."""
    import nuke

    record_keyed_build(nuke.thisNode())


def register_callbacks() -> None:
    """Registers `on_create` once (Foundry's addOnCreate adds a given call for a class only once)."""
    import nuke

    nuke.addOnCreate(on_create, nodeClass=contract.MODEL_ID)
