"""Regenerates the golden files after a deliberate change: ``python -m tests.golden.regenerate``.

Review the diff (git diff tests/golden) before committing it: every changed byte reaches every artist's node.
"""
import sys
from pathlib import Path

from nuke_plugin import contract
from nuke_plugin.contract.knob_spec import KNOBS
from nuke_plugin.core.build_set import BuildSet, Slot
from nuke_plugin.core.gizmo import gizmo_text

HERE = Path(__file__).resolve().parent
GIZMO = HERE / "CorridorKey.gizmo"
# A fixed studio folder, so the golden file does not change with the torch or the date of an export: one build
# for Nuke 14, one made in Nuke 15.1 (so the release check is there too), one for Nuke 16.
BUILDS = BuildSet(contract.MODEL_ID, 48213377, (
    Slot(14, "14.0v5", "2048 px, torch 1.12.1, exported 2025-01-01"),
    Slot(15, "15.1v3", "2048 px, torch 2.1.1, exported 2025-01-01"),
    Slot(16, "16.0v2", "2048 px, torch 2.7.1, exported 2025-01-01")))
BUILT = "2025-01-02"


def golden_gizmo() -> bytes:
    """The gizmo for the knob spec as it stands, as the install writes it (UTF-8, LF line ends)."""
    return gizmo_text(BUILDS, KNOBS, built=BUILT).encode("utf-8")


def main() -> int:
    GIZMO.write_bytes(golden_gizmo())
    print("wrote %s" % GIZMO)
    return 0


if __name__ == "__main__":
    sys.exit(main())
