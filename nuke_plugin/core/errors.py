"""Errors the Nuke side shows to the artist: each message says what went wrong and what to do.

Why a small hierarchy: the menu and build code catch `CorridorKeyError` once and show its text in a
nuke.message, while `BuildDeclined` (the user said no) is reported quietly as "nothing changed".
"""


class CorridorKeyError(Exception):
    """A failure the user can act on; str(error) is the message to show."""


class ManifestError(CorridorKeyError):
    """The export folder has no usable CorridorKey.json / CorridorKey.pt pair."""


class EditionError(CorridorKeyError):
    """This Nuke cannot do it (e.g. plain Nuke has no CatFileCreator)."""


class CatBuildError(CorridorKeyError):
    """CatFileCreator refused the model or wrote no .cat."""


class InstallError(CorridorKeyError):
    """The install folder could not be written."""


class BuildDeclined(CorridorKeyError):
    """The user chose not to replace an existing build; nothing was changed."""
