"""How a script that Nuke runs as a file (`-t`, `--nukex -i`) ends: the one place that closes Nuke."""
from __future__ import annotations


def close_nuke() -> None:
    """Clears the script first, so exiting never stops at a "save changes?" prompt."""
    import nuke

    nuke.scriptClear()
    nuke.scriptExit()
