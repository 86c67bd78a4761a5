"""What to tell someone who ran the exporter with a Python that lacks its packages (a bare `python`, Nuke's own).

Why its own message: a missing torch is the user's choice of interpreter, not a bug, so it must read as a problem
to fix (exit 2) with the command that works, never as an internal error to report.
"""
from __future__ import annotations

import sys
from typing import Optional

from nuke_plugin.contract import EXPORT_PACKAGES


def missing_package_message(exc: BaseException) -> Optional[str]:
    """The message for an ImportError of one of the export packages, or None for any other exception."""
    if not isinstance(exc, ModuleNotFoundError) or not exc.name:
        return None
    package = exc.name.split(".")[0]
    if package not in EXPORT_PACKAGES:
        return None
    return ("%s is not installed in this Python (%s): the exporter runs in the export environment. Run "
            "`bash tools/export.sh --checkpoint ...` from the plugin folder (it creates the environment on first "
            "use), or `.venv/bin/python -m exporter ...` once it exists." % (package, sys.executable))
