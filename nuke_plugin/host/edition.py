"""The one edition rule: which Nukes can build a .cat (CatFileCreator), and what to tell the others."""
from __future__ import annotations

from .session import env_value

# nuke.env flags of the editions that have CatFileCreator.
CAT_EDITION_FLAGS = ("nukex", "studio", "indie")
EDITION_MESSAGE = ("Building the CorridorKey node needs NukeX, Nuke Studio or Nuke Indie: plain Nuke has no "
                   "CatFileCreator. Build the model once in NukeX (or with the headless build on a machine that "
                   "has NukeX); any Nuke, plain Nuke included, can then use the installed node.")


def cat_files_supported() -> bool:
    """True in the editions that have CatFileCreator (NukeX, Studio, Indie)."""
    import nuke

    return any(env_value(nuke, key, False) for key in CAT_EDITION_FLAGS)
