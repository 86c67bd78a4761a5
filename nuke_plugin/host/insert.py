"""Drops the installed CorridorKey node into the script, its Plate input on the selected node."""
from __future__ import annotations

from typing import Any, Optional

from .. import contract
from ..core.cattery import layout_for
from ..core.errors import CorridorKeyError
from .keying import record_keyed_build
from .plugin_path import activate

NOT_INSTALLED = ("The CorridorKey node is not installed yet (no %s in %s). Build it first with CorridorKey > "
                 "Build Model, or point CORRIDORKEY_INSTALL_DIR at a folder that holds a build.")


def insert_node(install_dir: Optional[str] = None) -> Any:
    """Creates a CorridorKey node in the current group, connected to the selected node and keyed with the installed
    build; returns it."""
    import nuke

    layout = layout_for(install_dir)
    if layout.is_installed():
        activate(layout.root)
    selected = nuke.selectedNodes()
    source = selected[-1] if selected else None
    try:
        node = nuke.createNode(contract.MODEL_ID)
    except RuntimeError:
        raise CorridorKeyError(NOT_INSTALLED % (contract.GIZMO_NAME, layout.root))
    if source is not None and node.maxInputs() > 0 and node.input(0) is not source:
        node.setInput(0, source)
    record_keyed_build(node)
    return node
