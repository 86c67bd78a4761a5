"""The running Nuke session as the host layer reads and tidies it: nuke.env values that a Nuke may lack, and the
nodes an operation made, deleted again whatever happened. `nuke` is passed in (Nuke's own, or the tests' fake)."""
from __future__ import annotations

from typing import Any, List, Set


def env_value(nuke: Any, key: str, default: Any = None) -> Any:
    """nuke.env[key], or `default` where this Nuke release (or edition) has no such key."""
    try:
        return nuke.env[key]
    except (KeyError, TypeError):
        return default


def root_node_names(nuke: Any) -> Set[str]:
    """The names of the nodes at the root of the script: what to keep when cleaning up after an operation."""
    return {node.name() for node in nuke.allNodes(group=nuke.root())}


def delete_nodes_made_since(nuke: Any, before: Set[str]) -> List[str]:
    """Deletes the root-level nodes whose names are not in `before` (what an operation made); returns their names.
    The user's own nodes, named in `before`, are never touched."""
    deleted = []
    with nuke.root():
        for node in nuke.allNodes(group=nuke.root()):
            if node.name() not in before:
                deleted.append(node.name())
                nuke.delete(node)
    return deleted
