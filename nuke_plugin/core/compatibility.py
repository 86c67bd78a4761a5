"""Whether a build loads in the running Nuke: Build Model and the install refuse one that would not (pure, no Nuke).

Why refuse: CatFileCreator and the gizmo would take a .pt that this Nuke's torch cannot load, and the artist would
learn it only at render time, from an "Unknown builtin op" in the Inference node. A build's manifest lists the
Nukes it loads in (`loads_in_nuke`, from the torch table); before an export, the torch table says the same of the
chosen target's build (`torch_targets.nukes_for_target`).
"""
from __future__ import annotations

from typing import Optional, Sequence

from ..contract.torch_targets import TORCH_TARGETS_BY_KEY, nukes_for_target, torch_target_for_nuke


def nukes_text(keys: Sequence[str]) -> str:
    """'Nuke 15.1 / 15.2 and Nuke 16 / 17' for a list of torch-table keys."""
    names = [TORCH_TARGETS_BY_KEY[key].nuke if key in TORCH_TARGETS_BY_KEY else key for key in keys]
    if not names:
        return "no supported Nuke"
    return names[0] if len(names) == 1 else "%s and %s" % (", ".join(names[:-1]), names[-1])


def load_problem(loads_in: Optional[Sequence[str]], major: int, minor: int, running: str) -> Optional[str]:
    """Why a build that loads in the Nukes `loads_in` (torch-table keys) cannot run in Nuke `running`
    (major.minor, e.g. its NUKE_VERSION_STRING), or None. `loads_in` None (a build whose manifest does not say)
    is not refused."""
    if loads_in is None:
        return None
    here = torch_target_for_nuke(major, minor)
    if here.key in loads_in:
        return None
    if not here.supported:
        return "This CorridorKey build loads in %s; this is Nuke %s. %s" % (nukes_text(loads_in), running, here.note)
    return ("This CorridorKey build loads in %s; this is Nuke %s, whose torch %s cannot load it. Build Model "
            "again with Target Nuke %s: that build loads in %s."
            % (nukes_text(loads_in), running, here.torch, here.nuke,
               nukes_text([t.key for t in nukes_for_target(here.key)])))


def target_problem(target_key: str, major: int, minor: int, running: str) -> Optional[str]:
    """`load_problem` for the build a target would make, before minutes of export are spent on it."""
    return load_problem([t.key for t in nukes_for_target(target_key)], major, minor, running)
