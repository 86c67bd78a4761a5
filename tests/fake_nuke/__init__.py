"""A strict fake of Foundry Nuke's `nuke` module, for the Nuke-side tests (never shipped).

Strict means it fails the plugin wherever a real Nuke would: an unknown node class or knob name, a value of
the wrong type, an enumeration value that is not an item, a CatFileCreator fed a file that is not TorchScript,
a channel name Nuke does not know, a custom knob with no matching module attribute (or one of the wrong type,
or a constant), nodes created or dialogs opened from a worker thread, executeInMainThread called from the
main thread (Nuke hangs there), menus asked for without a GUI, CatFileCreator in plain Nuke, a gizmo file
Nuke would not load. What it cannot know about the real Nuke is listed in README-style notes in
`tests/fake_nuke/LIMITS.md`.
"""
from .catfile import NUKE_CHANNELS, CatFileError, read_fake_cat
from .core import FakeDialogUnanswered, FakeNuke, ProgressTask
from .knobs import FakeLimitation

__all__ = ["FakeNuke", "FakeDialogUnanswered", "FakeLimitation", "CatFileError", "NUKE_CHANNELS",
           "ProgressTask", "read_fake_cat"]
