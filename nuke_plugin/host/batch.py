"""How a script that Nuke runs as a file (`-t`, `--nukex -i`) ends: the one place that closes Nuke."""
from __future__ import annotations

import sys


def close_nuke() -> None:
    """Clears the script first, so exiting never stops at a "save changes?" prompt."""
    import nuke

    nuke.scriptClear()
    nuke.scriptExit()


def close_nuke_and_exit(code: int) -> None:
    """The end of a script that Nuke runs as a file: Nuke closed, then this process's exit status `code`, even
    when closing fails (a batch job must never hang at a prompt, nor report success that it did not have)."""
    try:
        close_nuke()
    finally:
        sys.exit(code)
