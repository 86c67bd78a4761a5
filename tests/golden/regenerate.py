"""Regenerates the golden files after a deliberate change: ``python -m tests.golden.regenerate``.

Review the diff (git diff tests/golden) before committing it: every changed byte reaches every artist's node.
"""
import sys
from pathlib import Path

from nuke_plugin.contract.knob_spec import KNOBS
from nuke_plugin.core.gizmo import gizmo_text

HERE = Path(__file__).resolve().parent
GIZMO = HERE / "CorridorKey.gizmo"
# A fixed Model line, so the golden file does not change with the torch or the date of an export.
INFO = "CorridorKey at 2048 px, exported with torch 2.7.1 on 2025-01-01T00:00:00Z"
BUILT = "2025-01-02"


def golden_gizmo() -> bytes:
    """The gizmo for the knob spec as it stands, as the install writes it (UTF-8, LF line ends)."""
    return gizmo_text(KNOBS, info=INFO, built=BUILT).encode("utf-8")


def main() -> int:
    GIZMO.write_bytes(golden_gizmo())
    print("wrote %s" % GIZMO)
    return 0


if __name__ == "__main__":
    sys.exit(main())
